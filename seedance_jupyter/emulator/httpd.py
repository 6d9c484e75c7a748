"""A small threaded HTTP server that hands each request to a callback and writes its Reply.

It knows nothing of the emulator: :class:`Request` in, :class:`~.replies.Reply`
(or None: close the connection unanswered) out. The standard library's
``ThreadingHTTPServer`` with daemon threads means no new dependency, and it runs
on its own threads, so it keeps answering while the Jupyter kernel's event loop
is blocked by a ``--wait`` cell (a tornado server on the kernel's loop would starve).
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .replies import Reply, error_reply

__all__ = ["HTTPServer", "Request", "Responder"]

_MAX_BODY = 1 << 20
_CHUNK = 256 << 10


@dataclass(frozen=True)
class Request:
    """One request as received; ``body`` is None when it was over 1 MiB or unreadable."""

    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: bytes | None


#: What the server calls for each request: the reply, or None to drop the connection.
Responder = Callable[[Request], "Reply | None"]


class _Handler(BaseHTTPRequestHandler):
    """Turns each request into a :class:`Request`, asks the responder, writes; stays quiet."""

    server: HTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "SeedanceEmulator/1"
    # Headers and body go out in separate writes; with Nagle on, the body waits
    # for the client's delayed ACK (about 40 ms per answer).
    disable_nagle_algorithm = True
    timeout = 60

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        request = Request(
            method=self.command, path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=self.headers, body=self._read_body(),
        )
        reply = self.server.responder(request)
        if reply is None:
            self.close_connection = True
        else:
            self._send(reply)

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        """No access log: a notebook's output is no place for one."""

    def send_error(
        self, code: int, message: str | None = None, explain: str | None = None
    ) -> None:
        """Malformed requests get the JSON error envelope too."""
        self.close_connection = True
        self._send(error_reply(code, message or HTTPStatus(code).phrase))

    def _read_body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = _MAX_BODY + 1
        if length > _MAX_BODY:
            self.close_connection = True
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        size = reply.length if reply.file is not None else len(reply.body)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if self.command == "HEAD":
            return
        try:
            if reply.file is None:
                self.wfile.write(reply.body)
            else:
                self._stream(reply.file, reply.start, reply.length)
        except ConnectionError:
            self.close_connection = True

    def _stream(self, path: Path, start: int, length: int) -> None:
        """Copy a span of a file in chunks: a 200 MB video never sits in memory."""
        with path.open("rb") as source:
            source.seek(start)
            while length > 0:
                chunk = source.read(min(_CHUNK, length))
                if not chunk:
                    break
                self.wfile.write(chunk)
                length -= len(chunk)


class HTTPServer(ThreadingHTTPServer):
    """Serves ``responder`` on ``address`` (IPv6 when the host has a colon)."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], responder: Responder) -> None:
        self.responder = responder
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up mid-answer is normal; anything else is still reported."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)
