"""A scripted, slow file server on loopback: storage that sends a video a piece at a time.

Tests of cut, stopped and resumed downloads point real processes (kernels, a
Jupyter server) at it: each file is sent in ``piece`` byte slices with ``pause``
seconds between them, honours ``Range: bytes=N-`` unless told not to, and every
request is recorded with whether its body was sent to the end.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .scripted import ScriptedServer, accepted, succeeded

__all__ = ["Served", "SlowFile", "SlowFileServer", "mp4_body", "one_video_api"]


@dataclass
class SlowFile:
    """One file: its bytes, how fast they go, and what the answer declares."""

    data: bytes
    piece: int = 16 << 10
    pause: float = 0.05
    ranges: bool = True
    content_type: str = "video/mp4"
    #: Cut the connection after this many body bytes of every answer.
    cut_after: int | None = None
    #: Seconds before the status line (a storage that accepts and then says nothing).
    stall: float = 0.0


@dataclass
class Served:
    """One GET: the path, its Range header, and whether the whole body went out."""

    path: str
    range: str | None
    complete: bool = False
    sent: int = 0
    #: The answer is over: sent to the end, or the client went away.
    ended: bool = False


@dataclass
class _State:
    files: dict[str, SlowFile] = field(default_factory=dict)
    served: list[Served] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class SlowFileServer:
    """Serves ``files`` (path -> :class:`SlowFile`) slowly; ``served`` records every GET."""

    def __init__(self) -> None:
        self._state = _State()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self._state))
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_port}"
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def files(self) -> dict[str, SlowFile]:
        return self._state.files

    @property
    def served(self) -> list[Served]:
        with self._state.lock:
            return list(self._state.served)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            path = self.path.partition("?")[0]
            record = Served(path, self.headers.get("Range"))
            with state.lock:
                state.served.append(record)
            file = state.files.get(path)
            if file is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            time.sleep(file.stall)  # pacing the storage, not a wait
            start = 0
            match = re.fullmatch(r"bytes=(\d+)-", record.range or "")
            if match and file.ranges and int(match.group(1)) < len(file.data):
                start = int(match.group(1))
                self.send_response(206)
                self.send_header(
                    "Content-Range", f"bytes {start}-{len(file.data) - 1}/{len(file.data)}")
            else:
                self.send_response(200)
            self.send_header("Content-Type", file.content_type)
            self.send_header("Content-Length", str(len(file.data) - start))
            self.end_headers()
            try:
                self._send(file, start, record)
            finally:
                record.ended = True

        def _send(self, file: SlowFile, start: int, record: Served) -> None:
            end = len(file.data) if file.cut_after is None else min(
                len(file.data), start + file.cut_after)
            try:
                for at in range(start, end, file.piece):
                    self.wfile.write(file.data[at:min(at + file.piece, end)])
                    self.wfile.flush()
                    record.sent += min(file.piece, end - at)
                    time.sleep(file.pause)  # pacing the storage, not a wait
            except OSError:  # the client went away: the record says how far it got
                self.close_connection = True
                return
            if end < len(file.data):
                self.close_connection = True
                return
            record.complete = True

    return Handler


def mp4_body(size: int) -> bytes:
    """What a saved video must start with (an ``ftyp`` box), then ``size`` random bytes."""
    return b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + os.urandom(size)


def one_video_api(storage: SlowFileServer, request_id: str) -> ScriptedServer:
    """A service whose every job is ``request_id``, succeeded at its first status check,
    with its video at ``storage``'s ``/{request_id}.mp4``."""
    return ScriptedServer(
        create=lambda seen: accepted(request_id),
        status=lambda seen: succeeded(request_id, f"{storage.url}/{request_id}.mp4"),
    )
