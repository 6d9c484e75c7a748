"""The jobs service: prepare, submit (write-ahead, once), reuse, resume, reconcile, cancel.

Data flows one way: request -> one ledger transaction (reuse? budget? claim) ->
create POST (never resent) -> ledger (request id, credits) -> poller or webhook
-> job state -> ledger -> download. It needs no IPython: a kernel, the Jupyter
server extension and tests all drive the same :class:`JobService`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from .. import messages
from ..api.transport import CLIENT_TOKEN_KEY, new_client_token
from ..api.types import JobError, JobState
from ..catalog import GenerationRequest
from ..errors import (
    AmbiguousSubmitError,
    DownloadError,
    OutputExpiredError,
    SeedanceError,
    WaitTimeoutError,
)
from ..paths import notebook_dir, seedance_home
from ..retry import Backoff
from ..status import API_STATUSES
from ..webhooks import verify_webhook_signature
from .backend import Backend, resolve_backend
from .budget import Budget, local_midnight
from .handle import Job
from .ledger import JobRecord, Ledger, RuntimeWindow
from .poller import UNREADABLE_LIMIT, Poller, Schedule
from .summary import JobSummary

__all__ = [
    "LEASE_MIN_SECONDS", "WEBHOOK_TOKEN_FIELD", "JobService", "ServiceSettings", "Submission",
    "state_of",
]

#: In a ``--webhook`` URL, replaced by the submission's client token.
WEBHOOK_TOKEN_FIELD = "{token}"  # noqa: S105 - a placeholder, not a secret

_log = logging.getLogger("seedance_jupyter")
_DOWNLOAD_ATTEMPTS = 3
_DOWNLOAD_BACKOFF = Backoff(base=0.5, cap=4.0)
_LEDGER_RETRIES = 8
#: How long a re-run waits for an identical create POST in flight elsewhere.
_IN_FLIGHT_WAIT_S = 60.0
_LEDGER_BACKOFF = Backoff(base=1.0, cap=30.0)
#: Shortest lease on a job's polling; a lease also outlasts two of the longest poll pauses.
LEASE_MIN_SECONDS = 20.0


class ServiceSettings(Protocol):
    """What the service reads from its settings, at each use (``%config`` applies at once)."""

    @property
    def default_model(self) -> str: ...

    @property
    def default_duration(self) -> int: ...

    @property
    def default_resolution(self) -> str: ...

    @property
    def default_aspect_ratio(self) -> str: ...

    @property
    def download(self) -> bool: ...

    @property
    def download_dir(self) -> str: ...

    @property
    def budget_usd(self) -> float | None: ...

    @property
    def daily_budget_usd(self) -> float | None: ...

    @property
    def requests_per_minute(self) -> float: ...

    @property
    def first_poll_delay(self) -> float: ...

    @property
    def max_poll_interval(self) -> float: ...

    @property
    def poll_latency(self) -> float: ...


@dataclass
class Submission:
    """The outcome of one submit: the job, and a notice when it was re-attached."""

    job: Job
    notice: str | None = None


Notice = Callable[[Job, str], None]


class JobService:
    """Every job of one backend and ledger, for one process (a kernel or the server)."""

    def __init__(
        self,
        settings: ServiceSettings,
        *,
        backend: Backend | None = None,
        ledger: Ledger | None = None,
        folder: Path | None = None,
        lease: bool = True,
    ) -> None:
        """``lease``: poll a job only while holding its ledger lease, so across all
        kernels and the server exactly one process polls (and downloads) each job."""
        self.settings = settings
        self.backend = backend or resolve_backend()
        self.ledger = ledger or Ledger()
        #: The notebook's folder: downloads land here and paths in cards are relative to it.
        self.folder = folder or notebook_dir()
        self.budget = Budget(lambda: settings.budget_usd, lambda: settings.daily_budget_usd)
        self.poller = Poller(
            lambda request_id: self.backend.client.generations.get(request_id, retry=False),
            requests_per_minute=lambda: settings.requests_per_minute,
            schedule=lambda: Schedule(
                first_check=settings.first_poll_delay, max_interval=settings.max_poll_interval,
                poll_latency=settings.poll_latency,
            ),
            runtime_window=self._runtime_window,
            by_webhook=self._by_webhook,
            on_unreadable=lambda job, detail: self._notice(
                job, messages.STATUS_UNREADABLE.format(count=UNREADABLE_LIMIT, detail=detail)
            ),
            should_poll=self._take_lease if lease else None,
        )
        #: This service's name on the leases it holds (unique per process and service).
        self.lease_owner = f"{os.getpid()}-{secrets.token_hex(4)}" if lease else None
        #: Set once a webhook of this backend was applied: jobs that asked for one
        #: are then polled only as a rare safety check.
        self.webhooks_arrive = False
        self._jobs: dict[str, Job] = {}
        self._started: dict[str, float] = {}
        self._estimates: dict[str, float] = {}
        self._downloads: dict[str, concurrent.futures.Future[None]] = {}
        self._no_download: set[str] = set()
        self._notice_listeners: list[Notice] = []
        self._lock = threading.Lock()
        # Separate pools: slow downloads never delay a Cancel, nor a ledger retry.
        self._cancels = concurrent.futures.ThreadPoolExecutor(2, "seedance-cancel")
        self._fetches = concurrent.futures.ThreadPoolExecutor(2, "seedance-download")
        self._retries = concurrent.futures.ThreadPoolExecutor(1, "seedance-ledger")
        self._closed = False

    @property
    def spent_usd(self) -> float:
        """Estimated USD this service instance has committed."""
        return self.budget.spent_usd

    # -- requests ------------------------------------------------------------------
    def prepare(self, prompt: str, **fields: object) -> GenerationRequest:
        """Fill the settings' defaults in, then validate (raises before any POST)."""
        values: dict[str, object] = {
            "model": self.settings.default_model,
            "duration": self.settings.default_duration,
            "resolution": self.settings.default_resolution,
            "aspect_ratio": self.settings.default_aspect_ratio,
        }
        values.update({k: v for k, v in fields.items() if v is not None})
        return self.backend.client.prepare(prompt, **values)  # type: ignore[arg-type]

    def estimate(self, request: GenerationRequest) -> float:
        assert request.duration is not None
        assert request.resolution is not None
        return self.backend.client.estimate_cost(
            request.model, request.duration, request.resolution
        )

    def check_budget(self, usd: float) -> None:
        """Refuse a job that would pass the session or daily budget (a preview for forms)."""
        self.budget.check_session(usd)
        daily = self.budget.daily_check(usd)
        if daily is not None:
            daily(self.ledger.spent_usd_since(local_midnight(), backend=self.backend.key))

    def submit(
        self,
        request: GenerationRequest,
        *,
        force_new: bool = False,
        download: bool = True,
        announce: Callable[[str], None] | None = None,
        notebook: str | None = None,
    ) -> Submission:
        """Re-attach to an identical job, or claim, price and POST a new one exactly once."""
        usd = self.estimate(request)
        token = new_client_token()
        with self.budget.lock:
            claim = self.ledger.claim(
                client_token=token, backend=self.backend.key, request=request,
                fingerprint=request.fingerprint(), estimated_usd=usd,
                notebook=notebook if notebook is not None else str(self.folder),
                reuse=not force_new, check_budget=self._budget_checks(usd),
                day_start=local_midnight(),
            )
            if not claim.reused:
                self.budget.spent_usd += usd
        if claim.reused:
            record = self._settled(claim.record)
            if record.status == "rejected":
                return self.submit(request, force_new=force_new, download=download,
                                   announce=announce, notebook=notebook)
            return self._reattach(record)
        if announce is not None:
            announce(messages.SUBMITTING.format(
                model=request.model, duration=request.duration, resolution=request.resolution,
                ratio=request.aspect_ratio, usd=usd, backend=self.backend.label,
            ))
        try:
            state = self.backend.client.generations.create(
                _with_webhook(request, token), client_token=token,
                on_wait=None if announce is None else (
                    lambda seconds: announce(messages.WAITING_FOR_SLOT.format(seconds=seconds))
                ),
            )
        except AmbiguousSubmitError as exc:
            self.ledger.record_uncertain(token, detail=exc.message)
            raise
        except SeedanceError as exc:
            with self.budget.lock:
                self.budget.spent_usd -= usd
            self.ledger.record_rejected(token, code=exc.code, message=exc.message)
            raise
        notices = [messages.CREATE_ANSWER_UNREAD.format(detail=state.unread)] if (
            state.unread) else []
        if not self._record_submitted(token, state):
            notices.append(messages.LEDGER_WRITE_FAILED.format(
                request_id=state.request_id, journal=self.ledger.journal_path))
        job = Job(self.backend.client.generations, state, request=request, client_token=token)
        if not download:
            self._no_download.add(job.request_id)
        self._adopt(job, usd, time.time())
        return Submission(job, notice=" ".join(notices) or None)

    def _record_submitted(self, token: str, state: JobState) -> bool:
        """Store a paid job's request id; if the database refuses, journal it and retry.

        False when the database did not take it now: the job is still tracked in
        memory, the journal beside the ledger holds the id for the next start, and
        a background retry writes it as soon as the database allows.
        """
        def write() -> None:
            self.ledger.record_submitted(
                token, request_id=state.request_id, status=state.status,
                credits_charged=state.credits_charged,
            )

        try:
            write()
        except sqlite3.Error as exc:
            _log.warning("ledger write failed for paid job %s: %s", state.request_id, exc)
        else:
            return True
        with contextlib.suppress(OSError):
            self.ledger.journal_submitted(
                token, request_id=state.request_id, status=state.status,
                credits_charged=state.credits_charged,
            )

        def retry() -> None:
            for attempt in range(_LEDGER_RETRIES):
                time.sleep(_LEDGER_BACKOFF.delay(attempt, jitter=False))
                try:
                    write()
                except sqlite3.Error:
                    continue
                return

        self._retries.submit(retry)
        return False

    def _budget_checks(self, usd: float) -> Callable[[float], None]:
        """The budget checks a new claim runs inside its transaction (a reuse runs none)."""
        daily = self.budget.daily_check(usd)

        def check(spent_today: float) -> None:
            self.budget.check_session(usd)
            if daily is not None:
                daily(spent_today)

        return check

    def _settled(self, record: JobRecord) -> JobRecord:
        """An identical POST in flight (this or another process): wait for its outcome."""
        deadline = time.monotonic() + _IN_FLIGHT_WAIT_S
        while record.status == "pending" and time.monotonic() < deadline:
            time.sleep(0.05)
            record = self.ledger.by_token(record.client_token) or record
        return record

    def _reattach(self, record: JobRecord) -> Submission:
        if record.request_id is None:
            raise AmbiguousSubmitError(
                messages.UNCERTAIN_EXISTS.format(token=record.client_token),
                client_token=record.client_token,
            )
        job = self.job_from_record(record)
        notice = messages.REATTACHED.format(request_id=record.request_id, status=job.status)
        return Submission(job, notice=notice)

    # -- jobs ----------------------------------------------------------------------
    def job_from_record(self, record: JobRecord) -> Job:
        """The live Job for a ledger row, polled again if it is still running."""
        assert record.request_id is not None
        existing = self._jobs.get(record.request_id)
        if existing is not None:
            return existing
        job = Job(
            self.backend.client.generations, state_of(record), request=record.request,
            client_token=record.client_token,
        )
        if self._saved(record):
            job.local_path = record.local_path
        self._adopt(job, record.estimated_usd, record.submitted_at or record.created_at)
        return job

    def _adopt(self, job: Job, usd: float | None, started_at: float) -> None:
        self._jobs[job.request_id] = job
        self._started[job.request_id] = started_at
        if usd is not None:
            self._estimates[job.request_id] = usd
        job.on_change(self._record_change)
        if not job.done:
            if self.lease_owner is not None:
                # Claim it before a watcher sees it unpolled; a locked ledger only
                # defers that to the first status check.
                with contextlib.suppress(sqlite3.OperationalError):
                    self.ledger.try_lease(job.request_id, self.lease_owner,
                                          self._lease_seconds(), backend=self.backend.key)
            age = time.time() - started_at
            self.poller.track(job, submitted_at=time.monotonic() - age, on_done=self._on_done)
        elif job.status == "succeeded" and job.local_path is None:
            self._on_done(job)

    def summary(self, job: Job) -> JobSummary:
        """What a person is shown about ``job``: its ledger row brought up to its live state.

        A job this ledger never recorded (``%seedance status`` of someone else's
        job) is summarised from what the service said and what this process saw.
        """
        record = self.ledger.get(job.request_id)
        if record is not None:
            base = JobSummary.from_record(record, is_emulator=self.backend.is_emulator)
        else:
            base = self._unrecorded_summary(job)
        return replace(
            base.with_state(job.state),
            local_path=job.local_path or base.local_path,
            poster_data_uri=job.poster_data_uri or base.poster_data_uri,
        )

    def _unrecorded_summary(self, job: Job) -> JobSummary:
        state, request = job.state, job.request
        model = state.model or (request.model if request else "")
        duration = state.duration or (request.duration if request else None)
        resolution = state.resolution or (request.resolution if request else None)
        started = self._started.get(job.request_id)
        estimate = self._estimates.get(job.request_id)
        if estimate is None and duration is not None and resolution is not None:
            try:
                estimate = self.backend.client.estimate_cost(model, duration, resolution)
            except SeedanceError:
                estimate = None
        return JobSummary(
            request_id=job.request_id, client_token=job.client_token or "", status=job.status,
            model=model, prompt=state.prompt or (request.prompt if request else ""),
            duration=duration,
            aspect_ratio=state.aspect_ratio or (request.aspect_ratio if request else None),
            resolution=resolution, media_urls=tuple(request.media_urls) if request else (),
            estimated_usd=estimate or 0.0, credits_charged=job.credits_charged,
            backend=self.backend.key, is_emulator=self.backend.is_emulator, notebook=None,
            created_at=started or state.received_at, submitted_at=started, finished_at=None,
            local_path=job.local_path, output_url=job.output_url, error=job.error,
        )

    def started_at(self, job: Job) -> float | None:
        """When the job was submitted, as this process knows it."""
        return self._started.get(job.request_id)

    def estimated_usd(self, job: Job) -> float | None:
        return self._estimates.get(job.request_id)

    def get_job(self, request_id: str) -> Job:
        """A job of this process, of the ledger, or of the service."""
        job = self._jobs.get(request_id)
        if job is not None:
            return job
        record = self.ledger.get(request_id)
        if record is not None:
            return self.job_from_record(record)
        generations = self.backend.client.generations
        job = Job(generations, generations.get(request_id))
        self._adopt(job, None, time.time())
        return job

    def resume(self) -> list[Job]:
        """Re-attach every unfinished job of this backend (after a kernel restart)."""
        jobs = []
        for record in self.ledger.unfinished(self.backend.key):
            if record.request_id is None:
                continue
            job = self.job_from_record(record)
            if not job.done:
                job.refresh()
            jobs.append(job)
        return jobs

    def reconcile(self, request_id: str, *, client_token: str | None = None) -> Job:
        """Match a job seen later (dashboard, webhook) to an uncertain submission.

        The proof, in order: the client token of the webhook URL that delivered
        it; the token in ``metadata``, if this server echoes it (the contract does
        not promise that); else the one uncertain submission whose prompt, model,
        duration and ratio the service reports. Several alike are never guessed.
        """
        state = self.backend.client.generations.get(request_id)
        echoed = (state.metadata or {}).get(CLIENT_TOKEN_KEY)
        token = client_token or (echoed if isinstance(echoed, str) else None)
        record = self.ledger.by_token(token) if token else self._only_alike(state)
        if record is None:
            raise SeedanceError(
                messages.NOT_OURS.format(request_id=request_id), request_id=request_id
            )
        if record.request_id is None:
            self.ledger.reconcile(record.client_token, request_id=request_id,
                                  status=state.status)
        job = self.get_job(request_id)
        job.update(state)
        return job

    def _only_alike(self, state: JobState) -> JobRecord | None:
        """The single uncertain submission of this backend that ``state`` describes."""
        alike = [
            r for r in self.ledger.unfinished(self.backend.key)
            if r.request_id is None and r.prompt == state.prompt and r.model == state.model
            and state.duration in (None, r.duration)
            and state.aspect_ratio in (None, r.aspect_ratio)
        ]
        return alike[0] if len(alike) == 1 else None

    def apply_webhook(
        self, body: bytes, signature: str | None, secret: str, *, client_token: str | None = None
    ) -> Job:
        """Take a webhook delivery: verified, idempotent (a replay changes nothing).

        ``client_token`` is the token of the webhook URL it came to (see
        :func:`_with_webhook`): it ties a delivery to a submission whose create
        answer was lost.

        A finished job is left as it is: a replayed body carries an older signed
        output URL than the one polling may already have stored.
        """
        if not verify_webhook_signature(body, signature, secret):
            raise SeedanceError(messages.WEBHOOK_REJECTED, code="bad_signature")
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise SeedanceError(messages.WEBHOOK_REJECTED, code="bad_body")
        state = JobState.from_api(payload)
        if self.ledger.get(state.request_id) is None:
            return self.reconcile(state.request_id, client_token=client_token)
        job = self.get_job(state.request_id)
        if not job.done:
            job.update(state)
        self.webhooks_arrive = True
        return job

    def cancel(self, job: Job, on_error: Callable[[str], None] | None = None) -> None:
        """Cancel in a worker thread; safe to call from any thread (a widget click)."""

        def run() -> None:
            try:
                job.cancel()
            except SeedanceError as exc:
                if on_error is not None:
                    on_error(messages.CANCEL_FAILED.format(detail=exc.message))

        self._cancels.submit(run)

    def settle(self, job: Job, timeout: float | None = None) -> Job:
        """Block until the job is terminal and its video is on disk (``--wait``)."""
        job.wait(timeout)
        future = self._ensure_download(job)
        if future is not None:
            future.result()
        return job

    def download_pending(self, job: Job) -> bool:
        """True while a finished job's video is still to be downloaded."""
        if job.status != "succeeded" or job.local_path or not job.output_url:
            return False
        if job.request_id in self._no_download or not self.settings.download:
            return False
        with self._lock:
            future = self._downloads.get(job.request_id)
        return future is None or not future.done()

    def unfinished(self) -> list[Job]:
        """Jobs of this process not yet terminal, or succeeded with their download
        still to come, in submission order."""
        return [job for job in list(self._jobs.values())
                if not job.done or self.download_pending(job)]

    def settle_all(self, timeout: float | None = None) -> list[Job]:
        """Block until every unfinished job is terminal and downloaded, or ``timeout``
        seconds passed (for all of them together); the jobs waited for."""
        deadline = None if timeout is None else time.monotonic() + timeout
        jobs = self.unfinished()
        for job in jobs:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            with contextlib.suppress(WaitTimeoutError, concurrent.futures.TimeoutError):
                job.wait(left)
                future = self._ensure_download(job)
                if future is not None:
                    future.result(None if deadline is None
                                  else max(0.0, deadline - time.monotonic()))
        return jobs

    def on_notice(self, listener: Notice) -> None:
        """Call ``listener(job, text)`` when something about a job needs saying."""
        self._notice_listeners.append(listener)

    # -- events --------------------------------------------------------------------
    def _notice(self, job: Job, text: str) -> None:
        for listener in list(self._notice_listeners):
            try:
                listener(job, text)
            except Exception:  # one view's bug must not stop the others
                _log.exception("notice listener %r failed", listener)

    def _record_change(self, job: Job) -> None:
        state = job.state
        self.ledger.record_status(
            job.request_id, status=state.status, output_url=state.output_url,
            error_code=state.error.code if state.error else None,
            error_message=state.error.message if state.error else None,
            credits_charged=job.credits_charged, last_running_at=job.last_running_at,
        )

    def job_folder(self, request_id: str) -> Path:
        """The folder a job's relative paths (download_dir, local_path) start from.

        The notebook's folder for a kernel; the server overrides it with the
        folder the ledger recorded for the job.
        """
        return self.folder

    def _saved(self, record: JobRecord | None) -> bool:
        """True when the row names a downloaded file that is still there."""
        if record is None or not record.local_path or record.request_id is None:
            return False
        return (self.job_folder(record.request_id) / record.local_path).exists()

    # -- leases --------------------------------------------------------------------
    def _lease_seconds(self) -> float:
        return max(LEASE_MIN_SECONDS, 2 * self.settings.max_poll_interval + 5.0)

    def _take_lease(self, job: Job) -> bool:
        """Poller hook: take or renew the job's lease before a status request.

        A job leased by another process is not polled here; a job whose row is
        already final (a webhook, the server, another kernel) takes the row's state.
        """
        assert self.lease_owner is not None
        leased = self.ledger.try_lease(
            job.request_id, self.lease_owner, self._lease_seconds(), backend=self.backend.key
        )
        record = self.ledger.get(job.request_id, backend=self.backend.key)
        if record is not None and record.is_terminal:
            job.update(state_of(record))
            return False
        return leased

    def _release(self, job: Job) -> None:
        if self.lease_owner is not None and not self._closed:
            self.ledger.release(job.request_id, self.lease_owner, backend=self.backend.key)

    def _on_done(self, job: Job) -> None:
        if self.lease_owner is not None and not self.ledger.try_lease(
            job.request_id, self.lease_owner, self._lease_seconds(), backend=self.backend.key
        ):
            return  # whoever holds the lease downloads it
        future = self._ensure_download(job)
        if future is None:
            self._release(job)
        else:
            future.add_done_callback(lambda _done: self._release(job))

    def _ensure_download(self, job: Job) -> concurrent.futures.Future[None] | None:
        if job.status != "succeeded" or not job.output_url:
            return None
        if job.request_id in self._no_download or not self.settings.download:
            return None
        with self._lock:
            future = self._downloads.get(job.request_id)
            if future is None:
                future = self._fetches.submit(self._download, job)
                self._downloads[job.request_id] = future
        return future

    def _download(self, job: Job) -> None:
        from .downloads import download, output_filename
        from .poster import poster_data_uri

        folder = self.job_folder(job.request_id)
        if job.local_path and (folder / job.local_path).exists():
            return
        record = self.ledger.get(job.request_id, backend=self.backend.key)
        if record is not None and self._saved(record):
            job.local_path = record.local_path  # another process downloaded it
            job.notify()
            return
        dest = folder / self.settings.download_dir / output_filename(job.request_id)
        for attempt in range(_DOWNLOAD_ATTEMPTS):
            url = job.output_url
            if url is None:
                return
            try:
                path = download(url, dest)
                break
            except OutputExpiredError as exc:
                failure: SeedanceError = exc
                try:
                    job.refresh()
                except SeedanceError as refresh_failure:
                    self._notice(job, messages.OUTPUT_NOT_REFRESHED.format(
                        detail=refresh_failure.message))
                    return
            except DownloadError as exc:
                failure = exc
                time.sleep(_DOWNLOAD_BACKOFF.delay(attempt, jitter=False))
        else:
            self._notice(job, messages.DOWNLOAD_FAILED.format(detail=failure))
            return
        job.local_path = _display_path(path, folder)
        job.poster_data_uri = poster_data_uri(path)
        self.ledger.record_download(job.request_id, job.local_path, backend=self.backend.key,
                                    releasing=self.lease_owner)
        job.notify()

    def close(self) -> None:
        """Stop polling and give up every lease, so the server finishes the jobs at once."""
        self.poller.stop()
        for pool in (self._cancels, self._fetches, self._retries):
            pool.shutdown(wait=False, cancel_futures=True)
        if self.lease_owner is not None:
            self.ledger.release(None, self.lease_owner)
        self._closed = True
        self.backend.close()
        self.ledger.close()

    def _runtime_window(self, job: Job) -> RuntimeWindow | None:
        request = job.request
        if request is None:
            return None
        return self.ledger.runtime_window(
            backend=self.backend.key, model=request.model, resolution=request.resolution,
            duration=request.duration, media=bool(request.media_urls),
        )

    def _by_webhook(self, job: Job) -> bool:
        request = job.request
        return self.webhooks_arrive and request is not None and request.webhook_url is not None


def state_of(record: JobRecord) -> JobState:
    """The service state a ledger row records (a local status reads as ``queued``)."""
    assert record.request_id is not None
    error = None
    if record.error_code is not None:
        error = JobError(record.error_code, record.error_message or "")
    return JobState(
        request_id=record.request_id,
        status=record.status if record.status in API_STATUSES else "queued",
        output_url=record.output_url, error=error, credits_charged=record.credits_charged,
        model=record.model, prompt=record.prompt, duration=record.duration,
        aspect_ratio=record.aspect_ratio, resolution=record.resolution,
    )


def _with_webhook(request: GenerationRequest, token: str) -> GenerationRequest:
    """The request as sent: a webhook URL of its own that names its client token.

    The contract does not promise that webhooks echo ``metadata``, so the URL is
    what ties a delivery to its submission (even one whose create answer was
    lost). ``{token}`` in a user's URL is filled in; with no URL, a Jupyter server
    extension that announced a public address in ``SEEDANCE_HOME/server.json``
    receives it. The ledger keeps the request as written, so re-runs still match.
    """
    if request.webhook_url is not None:
        if WEBHOOK_TOKEN_FIELD not in request.webhook_url:
            return request
        return dataclasses.replace(
            request, webhook_url=request.webhook_url.replace(WEBHOOK_TOKEN_FIELD, token)
        )
    try:
        announced = json.loads((seedance_home() / "server.json").read_text())
        public = str(announced["publicUrl"]).rstrip("/")
        base = "/" + str(announced.get("baseUrl") or "/").strip("/")
    except (OSError, ValueError, KeyError, TypeError):
        return request
    path = f"{base.rstrip('/')}/seedance/webhook/{token}"
    return dataclasses.replace(request, webhook_url=public + path)


def _display_path(path: Path, folder: Path) -> str:
    """Relative to the notebook's folder when inside it, so the saved notebook plays it."""
    try:
        return str(path.resolve().relative_to(folder.resolve()))
    except ValueError:
        return str(path.resolve())
