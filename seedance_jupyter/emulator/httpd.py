"""HTTP plumbing of the emulator: the server, the request handler, replies and errors.

The standard library's ``ThreadingHTTPServer`` with daemon threads: no new
dependency, and it runs on its own threads, so it keeps answering while the
Jupyter kernel's event loop is blocked by a ``--wait`` cell (a tornado server on
the kernel's loop would starve).
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import Emulator

__all__ = ["HTTPServer", "Handler", "Reply", "error_reply", "json_reply"]

CODES = {
    400: "invalid_request", 401: "unauthorized", 402: "insufficient_credits",
    403: "forbidden", 404: "not_found", 416: "range_not_satisfiable", 429: "rate_limited",
}
_MAX_BODY = 1 << 20
_CHUNK = 256 << 10


@dataclass
class Reply:
    """An answer, ready to write: a body in memory, or a byte span of a file."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    file: Path | None = None
    start: int = 0
    length: int = 0


def json_reply(
    status: int, payload: Mapping[str, Any], headers: dict[str, str] | None = None
) -> Reply:
    return Reply(status, json.dumps(payload).encode(), headers=headers or {})


def error_reply(
    status: int, message: str, *, code: str | None = None, headers: dict[str, str] | None = None
) -> Reply:
    """The API's error envelope: ``{"success": false, "error": {"code", "message"}}``."""
    code = code or CODES.get(status, "internal_error")
    envelope = {"success": False, "error": {"code": code, "message": message}}
    return json_reply(status, envelope, headers)


class Handler(BaseHTTPRequestHandler):
    """Hands every request to the emulator; writes replies; stays quiet."""

    server: HTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "SeedanceEmulator/1"
    # Headers and body go out in separate writes; with Nagle on, the body waits
    # for the client's delayed ACK (about 40 ms per answer).
    disable_nagle_algorithm = True
    timeout = 60

    def do_GET(self) -> None:
        self.server.emulator.handle(self)

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        """No access log: a notebook's output is no place for one."""

    def send_error(
        self, code: int, message: str | None = None, explain: str | None = None
    ) -> None:
        """Malformed requests get the JSON error envelope too."""
        self.close_connection = True
        self.send_reply(error_reply(code, message or HTTPStatus(code).phrase))

    def read_body(self) -> bytes | None:
        """The request body; None (and the connection closed) if over 1 MiB or unreadable."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = _MAX_BODY + 1
        if length > _MAX_BODY:
            self.close_connection = True
            return None
        return self.rfile.read(length) if length > 0 else b""

    def send_reply(self, reply: Reply) -> None:
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
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up mid-answer is normal; anything else is still reported."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


