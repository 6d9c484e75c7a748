"""Small helpers shared by the tests: waiting for a condition, processes, a webhook receiver."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def eventually(predicate: Callable[[], bool], timeout: float = 60.0) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` passes; its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def running(pid: int) -> bool:
    """True while process ``pid`` runs (an exited, unreaped child, a zombie, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def processes_with_argument(text: str) -> list[int]:
    """Running processes with an argument containing ``text`` (a test's own temp folder)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(text.encode() in arg for arg in argv) and running(int(entry.name)):
            pids.append(int(entry.name))
    return pids


class WebhookReceiver:
    """A webhook endpoint on loopback: answers ``statuses`` in turn, then 200, keeps all."""

    def __init__(self, statuses: Iterable[int] = ()) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[Message, bytes]] = []
        self.paths: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append((self.headers, body))
                receiver.paths.append(self.path)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Settings:
    """The jobs service's settings as plain values, as a server extension passes them."""

    default_model: str = "seedance-2.0"
    default_duration: int = 5
    default_resolution: str = "720p"
    default_aspect_ratio: str = "16:9"
    download: bool = False
    download_dir: str = "videos"
    budget_usd: float | None = None
    daily_budget_usd: float | None = None
    requests_per_minute: float = 240.0
    first_poll_delay: float = 30.0
    max_poll_interval: float = 30.0
    poll_latency: float = 2.0
    reuse_across_notebooks: bool = False
    media_store: str = ""
    media_store_endpoint: str = ""
    media_url_ttl: float = 86400.0
    media_max_image_mb: float = 30.0
    media_max_video_mb: float = 200.0
    media_max_audio_mb: float = 50.0
    credits_per_usd: float = 80.0
    db_url: str = ""
    team_daily_budget_usd: float | None = None
    team_monthly_budget_usd: float | None = None
