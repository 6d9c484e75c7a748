"""A small scripted service on loopback: each test decides what every answer looks like.

Unlike the emulator, it follows no contract by itself: it is how the money and
failure paths are tested against servers that answer differently (hostile,
slow, off-contract). It records every request, so tests count POSTs.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from seedance_jupyter.catalog import DOCUMENTED_MODELS


@dataclass
class Answer:
    """One HTTP answer: a JSON object (or raw bytes), with optional slow delivery."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    trickle: float | None = None  # seconds between single body bytes
    delay: float = 0.0  # before the status line

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    body: Any
    authorization: str | None


Script = Callable[[Seen], Answer]


def models_answer(_seen: Seen) -> Answer:
    return Answer(body={"success": True, "data": [m.to_api() for m in DOCUMENTED_MODELS]})


def accepted(request_id: str = "req_1", **extra: Any) -> Answer:
    """The contract's create answer."""
    return Answer(body={"success": True, "requestId": request_id, "status": "queued",
                        "creditsCharged": 40, **extra})


def succeeded(request_id: str, output_url: str) -> Answer:
    """The contract's status answer of a finished job whose video is at ``output_url``."""
    return Answer(body={"success": True, "requestId": request_id, "status": "succeeded",
                        "creditsCharged": 40, "output": {"url": output_url}})


class ScriptedServer:
    """``create``/``status``/``models`` scripts answer each request; all are recorded."""

    def __init__(
        self,
        *,
        create: Script | None = None,
        status: Script | None = None,
        models: Script = models_answer,
    ) -> None:
        self.create = create or (lambda seen: accepted())
        self.status = status or (lambda seen: Answer(404, {"success": False, "error": {
            "code": "not_found", "message": "no such job"}}))
        self.models = models
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                """Quiet."""

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                seen = Seen(self.command, self.path, body, self.headers.get("Authorization"))
                with server._lock:
                    server.seen.append(seen)
                answer = server._route(seen)
                time.sleep(answer.delay)
                data = answer.encoded()
                self.send_response(answer.status)
                headers = {"Content-Type": "application/json", **answer.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if answer.trickle is None:
                    self.wfile.write(data)
                    return
                for byte in data:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(answer.trickle)

            do_GET = do_POST = _serve

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_port}"
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()

    def _route(self, seen: Seen) -> Answer:
        if seen.path.endswith("/models"):
            return self.models(seen)
        if seen.method == "POST" and seen.path.endswith("/video/generations"):
            return self.create(seen)
        return self.status(seen)

    @property
    def posts(self) -> int:
        """How many create POSTs arrived (each one may have charged)."""
        with self._lock:
            return sum(
                1 for s in self.seen
                if s.method == "POST" and s.path.endswith("/video/generations")
            )

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
