"""``SeedanceServerApp``: the Jupyter server extension's settings and wiring.

Enabled by ``jupyter-config/server-config/seedance_jupyter.json``; configured
like any Jupyter class (``c.SeedanceServerApp.webhook_secret = ...``). It adds:

- ``GET  {base_url}seedance/api/jobs``, ``.../jobs/{requestId}``, ``.../spend`` and
  ``POST .../jobs/{requestId}/cancel`` (REST, JSON, authenticated like every Jupyter API);
- ``GET  {base_url}seedance/api/events`` (server-sent events of ledger changes);
- ``POST {base_url}seedance/webhook/{clientToken}`` (signed by the service, no Jupyter auth);
- the orphan watcher, which finishes jobs whose kernel is gone.

The ``server.json`` contract: when ``public_url`` is set, the server writes
``$SEEDANCE_HOME/server.json``, ``{"publicUrl": ..., "pid": ..., "baseUrl": ...}``
(mode 0600), and removes it when it stops. A kernel that finds the file, with
``pid`` alive, may give each job ``webhookUrl = publicUrl.rstrip("/") + baseUrl +
"seedance/webhook/" + clientToken`` (``baseUrl`` starts and ends with ``/``), and publish
reference media under ``publicUrl + baseUrl + "seedance/media/"``;
the service then tells this server when the job finishes, and the server
writes the result into the ledger row of that client token.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from jupyter_events.logger import EventLogger
from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import IOLoop
from traitlets import Bool, Float, Int, Unicode, default

from ..catalog import CREDITS_PER_USD
from ..jobs.settings import DB_URL_HELP
from ..media.shelf import Shelf
from ..media.stores import MEDIA_ROUTE
from ..paths import seedance_home
from .events import ChangeFeed, EventsHandler
from .handlers import CancelHandler, JobHandler, JobsHandler, NotFoundHandler, SpendHandler
from .media import MediaHandler
from .orphans import OrphanWatcher
from .service import ServerJobs
from .webhook import WebhookHandler

__all__ = ["SERVER_FILE", "SeedanceServerApp"]

_CONTENTS_EVENTS = "https://events.jupyter.org/jupyter_server/contents_service/v1"
#: The file in ``SEEDANCE_HOME`` that tells kernels where webhooks can reach this server.
SERVER_FILE = "server.json"


class SeedanceServerApp(ExtensionApp):
    """Jobs of every kernel, from the shared ledger: REST, live events, webhooks, orphans."""

    name = "seedance_jupyter"
    load_other_extensions = True

    webhook_secret = Unicode(
        help="Secret of the service's webhook signatures (x-seedance-signature, HMAC-SHA256 "
        "of the raw body). Webhooks are refused while it is empty. Defaults to the "
        "SEEDANCE_WEBHOOK_SECRET environment variable.",
    ).tag(config=True)
    public_url = Unicode(
        "",
        help="The address by which the Seedance service can reach this server (for example "
        "https://example.org, through a tunnel or proxy). When set, it is written to "
        "$SEEDANCE_HOME/server.json so kernels can ask for webhooks to "
        "<public_url><base_url>seedance/webhook/<client token>.",
    ).tag(config=True)
    db_url = Unicode("", help=DB_URL_HELP).tag(config=True)
    watch_orphans = Bool(
        True,
        help="Finish jobs that no kernel polls any more (their kernel died or shut down): "
        "poll them under the ledger's lease and download the video next to the notebook.",
    ).tag(config=True)
    budget_usd = Float(
        None, allow_none=True,
        help="A spending budget in USD to show beside the spend totals. None: no budget.",
    ).tag(config=True)
    daily_budget_usd = Float(
        None, allow_none=True,
        help="A daily budget in USD to show beside today's spend. None: no budget.",
    ).tag(config=True)
    credits_per_usd = Float(
        CREDITS_PER_USD,
        help="Credits the service charges per USD of its published price: the spend totals "
        "count what each job was charged at this rate (keep it equal to the kernels' "
        "SeedanceMagics.credits_per_usd; 80 is what the service's own examples imply).",
    ).tag(config=True)
    download_dir = Unicode(
        "seedance_outputs",
        help="Where the orphan watcher saves videos, relative to the folder the job's kernel "
        "ran in (keep it equal to the kernels' SeedanceMagics.download_dir).",
    ).tag(config=True)
    requests_per_minute = Float(
        120.0, help="Status requests per minute the orphan watcher may send in all.",
    ).tag(config=True)
    events_interval = Float(
        0.5, help="Seconds between two looks at the ledger for the events stream.",
    ).tag(config=True)
    keepalive_interval = Float(
        15.0, help="Seconds of silence after which the events stream sends a keepalive.",
    ).tag(config=True)
    events_backlog_bytes = Int(
        4 << 20,
        help="Bytes of events one events-stream client may have waiting to be sent. A client "
        "that falls further behind (it stopped reading) is disconnected rather than "
        "buffered without bound; the lab extension reconnects and re-reads its jobs.",
    ).tag(config=True)
    orphan_interval = Float(
        2.0, help="Seconds between two looks for jobs that no process polls.",
    ).tag(config=True)

    @default("webhook_secret")
    def _webhook_secret_default(self) -> str:
        return os.environ.get("SEEDANCE_WEBHOOK_SECRET", "")

    def initialize_settings(self) -> None:
        assert self.serverapp is not None
        self.jobs = ServerJobs(self, root_dir=self.serverapp.root_dir)
        self.feed = ChangeFeed(
            self.jobs, interval=self.events_interval, keepalive=self.keepalive_interval,
            backlog_bytes=self.events_backlog_bytes,
        )
        self.watcher = OrphanWatcher(self.jobs, interval=self.orphan_interval)
        self._server_file: Path | None = None
        if self.public_url:
            self._server_file = _write_server_file(self.public_url, self.serverapp.base_url)
        if self.serverapp.event_logger is not None:
            self.serverapp.event_logger.add_listener(
                schema_id=_CONTENTS_EVENTS, listener=self._on_contents_event
            )
        IOLoop.current().add_callback(self._start_background)

    async def _on_contents_event(
        self, logger: EventLogger, schema_id: str, data: dict[str, Any]
    ) -> None:
        """A renamed notebook (or folder) takes its jobs along, so links keep working.

        Never lets a ledger problem fail the rename itself: it is logged."""
        if data.get("action") != "rename" or not data.get("source_path"):
            return
        try:
            await IOLoop.current().run_in_executor(
                None, self.jobs.renamed, str(data["source_path"]), str(data["path"])
            )
        except Exception:
            self.log.exception("Seedance jobs did not follow the rename %s", data)

    def initialize_handlers(self) -> None:
        jobs: dict[str, Any] = {"jobs": self.jobs}
        self.handlers.extend([
            (r"seedance/api/jobs", JobsHandler, jobs),
            (r"seedance/api/jobs/([^/]+)", JobHandler, jobs),
            (r"seedance/api/jobs/([^/]+)/cancel", CancelHandler, jobs),
            (r"seedance/api/spend", SpendHandler, jobs),
            (r"seedance/api/events", EventsHandler, {**jobs, "feed": self.feed}),
            (r"seedance/api/.*", NotFoundHandler, jobs),
            (r"seedance/webhook/([^/]+)", WebhookHandler, jobs),
            (rf"{MEDIA_ROUTE}([^/]+)/([^/]+)", MediaHandler, {"shelf": Shelf()}),
        ])

    def _start_background(self) -> None:
        """Once the event loop runs: the change feed, and the watcher if wanted."""
        self.feed.start()
        if self.watch_orphans:
            self.watcher.start()

    async def stop_extension(self) -> None:
        await self.feed.stop()
        await self.watcher.stop()
        await IOLoop.current().run_in_executor(None, self.jobs.close)
        if self._server_file is not None:
            _remove_server_file(self._server_file)


def _write_server_file(public_url: str, base_url: str) -> Path:
    """Write ``server.json`` atomically, readable by this user only."""
    path = seedance_home() / SERVER_FILE
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    body = json.dumps({"publicUrl": public_url, "pid": os.getpid(), "baseUrl": base_url})
    temporary = path.with_name(f".{SERVER_FILE}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(body)
    os.replace(temporary, path)
    return path


def _remove_server_file(path: Path) -> None:
    """Remove ``server.json`` if it is still this process's (another server may own it now)."""
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass
