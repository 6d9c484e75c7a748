"""The :class:`Emulator`: starts and stops one emulated service, and the controls tests use.

Everything else lives in its own module: the front door (:mod:`.server`), the
route table, the endpoints, the workers and the state. This class only wires
them together, binds the port and offers the test controls.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .faults import FaultPlan, Faults
from .httpd import HTTPServer
from .runtimes import Runtimes, RuntimeSettings
from .server import FrontDoor, RecordedRequest
from .service import Service, ServiceSettings
from .state import EmulatedJob, JobStore
from .webhooks import WebhookAttempt
from .workers import TICK, Workers

__all__ = ["DEFAULT_API_KEY", "STATE_FILE", "Emulator", "start"]

#: The key the emulator accepts when none is given. Public, not a secret.
DEFAULT_API_KEY = "sd2_emu_local"
#: The state file's name inside ``state_dir``.
STATE_FILE = "emulator-state.json"


class Emulator:
    """A local Seedance Open API, serving on ``host:port`` (0: any free port) once built.

    ``api_key`` None accepts the public key ``sd2_emu_local``. ``credits`` is the
    key's starting balance. ``state_dir`` keeps jobs and balances across restarts
    (outputs then default to ``state_dir/outputs``; without either, a temporary
    dir removed by :meth:`stop`). ``seed`` seeds the fault rates and the runtimes.

    Runtimes (see :mod:`.runtimes`): ``speed`` divides every time; processing is
    lognormal with coefficient of variation ``runtime_cv`` around a median set by
    model, resolution and duration; the queue wait grows by ``queue_mean`` seconds
    (on average) per job of the key already in flight. ``runtime_cv=0,
    queue_mean=0`` makes every job of a kind take exactly the same time.
    ``echo_metadata`` sends each job's metadata back in status answers and
    webhooks, which the contract never promises (off by default).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        webhook_secret: str | None = None,
        speed: float = 1.0,
        credits: int = 100_000,
        rate_limit_per_minute: int = 1200,
        default_webhook_url: str | None = None,
        faults: Faults | None = None,
        output_dir: str | os.PathLike[str] | None = None,
        state_dir: str | os.PathLike[str] | None = None,
        output_url_ttl: float = 3600.0,
        seed: int = 0,
        runtime_cv: float = 0.3,
        queue_mean: float = 1.0,
        echo_metadata: bool = False,
    ) -> None:
        runtimes = Runtimes(RuntimeSettings(speed, runtime_cv, queue_mean), seed)
        self.api_key = api_key or DEFAULT_API_KEY
        state = Path(state_dir) if state_dir is not None else None
        self._owns_output_dir = output_dir is None and state is None
        if output_dir is not None:
            self.output_dir = Path(output_dir)
        elif state is not None:
            self.output_dir = state / "outputs"
        else:
            self.output_dir = Path(tempfile.mkdtemp(prefix="seedance-emulator-"))
        if state is not None:
            state.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.output_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        store = JobStore(state / STATE_FILE if state is not None else None)
        store.add_account(self.api_key, credits, default_webhook_url, webhook_secret)
        self._service = Service(
            store, FaultPlan(faults or Faults(), seed), runtimes, self.output_dir,
            ServiceSettings(rate_limit_per_minute, output_url_ttl, echo_metadata),
        )
        self._front = FrontDoor(self._service)
        try:
            self._httpd = _bind(host, port, store.saved_port, self._front)
        except OSError:
            if self._owns_output_dir:
                shutil.rmtree(self.output_dir, ignore_errors=True)
            raise
        address = f"[{host}]" if ":" in host else host
        self.url = self._service.url = f"http://{address}:{self._httpd.server_port}"
        store.save(port=self._httpd.server_port)
        self._lock = threading.Lock()
        self._webhooks: list[WebhookAttempt] = []
        self._stopped = False
        self._http_thread = threading.Thread(
            target=self._httpd.serve_forever, args=(TICK,), name="seedance-emu-http", daemon=True
        )
        self._http_thread.start()
        self._workers = Workers(self._service, self._record_webhook)
        self._workers.resume()

    # Test controls ----------------------------------------------------------

    @property
    def faults(self) -> Faults:
        """The fault rates, read on every request; change its fields or replace it."""
        return self._service.plan.faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self._service.plan.faults = value

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a snapshot)."""
        return self._front.recorded()

    @property
    def webhooks(self) -> list[WebhookAttempt]:
        """Every webhook delivery attempt so far, oldest first (a snapshot)."""
        with self._lock:
            return list(self._webhooks)

    def clear_requests(self) -> None:
        self._front.clear()

    def add_key(
        self, key: str, *, credits: int = 100_000, webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> None:
        """Accept another key, with its own balance, jobs and webhook settings."""
        self._service.store.add_account(key, credits, webhook_url, webhook_secret)

    def credits(self, key: str | None = None) -> int:
        """The balance of ``key`` (default: :attr:`api_key`); KeyError for unknown keys."""
        account = self._service.store.account(key or self.api_key)
        if account is None:
            raise KeyError("unknown API key")
        return account.credits

    def inject(
        self, route: str, *, status: int | None = None, retry_after: float | None = None,
        drop: bool = False, times: int = 1,
    ) -> None:
        """Make the next ``times`` requests on ``route`` answer ``status`` or be dropped.

        ``route`` is one of ``models``, ``create``, ``status``, ``cancel``, ``output``.
        A status is answered before handling (nothing happens); a drop handles the
        request, then closes the connection unanswered. ``retry_after`` (seconds)
        is sent as ``Retry-After``.
        """
        self._service.plan.inject(
            route, status=status, retry_after=retry_after, drop=drop, times=times
        )

    def jobs(self, request_id: str) -> dict[str, Any]:
        """A snapshot of one job (any key's): status, schedule, credits...; KeyError if unknown."""
        job = self._service.store.get(request_id)
        if job is None:
            raise KeyError(request_id)
        return self._snapshot(job, time.time())

    def list_jobs(self) -> list[dict[str, Any]]:
        """Snapshots of every job, oldest first, e.g. to find one whose create answer was lost."""
        now = time.time()
        return [self._snapshot(job, now) for job in self._service.store.all()]

    def expire_outputs(self) -> None:
        """Make every output URL handed out so far answer 403, as expired storage links do."""
        self._service.store.rotate_signing_key()

    def sample_url(self, name: str = "sunset") -> str:
        """The URL of a sample image (``sunset``, ``checker`` or ``rings``) for image-to-video."""
        return f"{self.url}/samples/{name}.png"

    # Lifecycle --------------------------------------------------------------

    @property
    def last_request_at(self) -> float:
        """When the last request arrived (the start, before any): idle time starts there."""
        return self._front.last_request_at

    def busy(self, now: float) -> bool:
        """True while a job is queued, processing or rendering: an idle exit must wait."""
        return self._service.store.any_running(now)

    def stop(self) -> None:
        """Stop serving, rendering and retrying webhooks; remove a temporary output dir."""
        if self._stopped:
            return
        self._stopped = True
        self._httpd.shutdown()
        self._httpd.server_close()
        self._http_thread.join(timeout=10)
        self._workers.stop()
        if self._owns_output_dir:
            shutil.rmtree(self.output_dir, ignore_errors=True)

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<Emulator {self.url}>"

    def _snapshot(self, job: EmulatedJob, now: float) -> dict[str, Any]:
        snapshot = asdict(job)
        del snapshot["key_hash"]
        path = self._service.output_path(job.request_id)
        snapshot.update(
            status=job.status(now), processing_at=job.processing_at, due_at=job.due_at,
            output_path=str(path) if job.rendered else None,
        )
        return snapshot

    def _record_webhook(self, attempt: WebhookAttempt) -> None:
        with self._lock:
            self._webhooks.append(attempt)


#: ``start(...)`` builds a running :class:`Emulator`: the documented way to get one.
start = Emulator


def _bind(host: str, port: int, saved: int | None, front: FrontDoor) -> HTTPServer:
    """Bind ``port``; with port 0 and a saved port (state dir), try the saved one first."""
    if port or saved is None:
        return HTTPServer((host, port), front)
    try:
        return HTTPServer((host, saved), front)
    except OSError:
        return HTTPServer((host, 0), front)
