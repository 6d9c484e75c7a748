"""What one kernel shares: backend, ledger, poller and cards; submit, re-attach, resume.

Data flows one way: request -> ledger row (before the POST) -> client -> ledger
(request id, credits) -> poller -> job events -> ledger and card -> download.
The magic and the form only parse and call :meth:`KernelSession.submit`.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import messages
from .backend import Backend, resolve_backend
from .catalog import GenerationRequest
from .client import CLIENT_TOKEN_KEY, new_client_token
from .errors import (
    AmbiguousSubmitError,
    BudgetExceededError,
    DownloadError,
    OutputExpiredError,
    SeedanceError,
)
from .jobs import STATUSES, Job, JobError, JobState
from .ledger import JobRecord, Ledger
from .poller import Poller, Schedule
from .webhooks import verify_webhook_signature

if TYPE_CHECKING:
    from .card import JobCard
    from .config import SeedanceSettings

__all__ = ["KernelSession", "Submission"]


@dataclass
class Submission:
    """The outcome of one submit: the job, and a notice when it was re-attached."""

    job: Job
    notice: str | None = None


class KernelSession:
    """One per kernel; created on first use so ``%load_ext`` stays cheap."""

    def __init__(
        self,
        settings: SeedanceSettings,
        *,
        backend: Backend | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        self.settings = settings
        self.backend = backend or resolve_backend()
        self.ledger = ledger or Ledger()
        self.poller = Poller(
            lambda request_id: self.backend.client.fetch_state(request_id, retry=False),
            requests_per_minute=settings.requests_per_minute,
            schedule=Schedule(
                first_check=settings.first_poll_delay, max_interval=settings.max_poll_interval
            ),
            expected_runtime=self._expected_runtime,
            on_tick=self._tick,
        )
        self.spent_usd = 0.0
        self._jobs: dict[str, Job] = {}
        self._cards: list[JobCard] = []
        self._started: dict[str, float] = {}
        self._estimates: dict[str, float] = {}
        self._downloads: dict[str, concurrent.futures.Future[None]] = {}
        self._no_download: set[str] = set()
        self._lock = threading.Lock()

    # -- requests ------------------------------------------------------------------
    def prepare(self, prompt: str, **fields: Any) -> GenerationRequest:
        """Fill the settings' defaults in, then validate (raises before any POST)."""
        values = {
            "model": self.settings.default_model,
            "duration": self.settings.default_duration,
            "resolution": self.settings.default_resolution,
            "aspect_ratio": self.settings.default_aspect_ratio,
        }
        values.update({k: v for k, v in fields.items() if v is not None})
        return self.backend.client.prepare(prompt, **values)

    def estimate(self, request: GenerationRequest) -> float:
        assert request.duration is not None
        assert request.resolution is not None
        return self.backend.client.estimate_cost(
            request.model, request.duration, request.resolution
        )

    def check_budget(self, usd: float) -> None:
        """Refuse a job that would pass the session or daily budget."""
        budget = self.settings.budget_usd
        if budget is not None and self.spent_usd + usd > budget + 1e-9:
            left = max(0.0, budget - self.spent_usd)
            raise BudgetExceededError(
                messages.BUDGET_SESSION.format(usd=usd, left=left, budget=budget),
                code="budget_exceeded",
            )
        daily = self.settings.daily_budget_usd
        if daily is not None:
            midnight = time.mktime((*time.localtime()[:3], 0, 0, 0, 0, 0, -1))
            spent = self.ledger.spent_usd_since(midnight, backend=self.backend.key)
            if spent + usd > daily + 1e-9:
                raise BudgetExceededError(
                    messages.BUDGET_DAILY.format(usd=usd, left=max(0.0, daily - spent),
                                                 budget=daily),
                    code="budget_exceeded",
                )

    def submit(
        self,
        request: GenerationRequest,
        *,
        force_new: bool = False,
        download: bool = True,
        announce: Callable[[str], None] | None = None,
    ) -> Submission:
        """Re-attach to an identical job, or record, price and POST a new one."""
        fingerprint = request.fingerprint()
        if not force_new:
            reused = self._reuse(fingerprint)
            if reused is not None:
                return reused
        usd = self.estimate(request)
        self.check_budget(usd)
        if announce is not None:
            announce(messages.SUBMITTING.format(
                model=request.model, duration=request.duration, resolution=request.resolution,
                ratio=request.aspect_ratio, usd=usd, backend=self.backend.label,
            ))
        token = new_client_token()
        self.ledger.record_pending(
            client_token=token, backend=self.backend.key, request=request,
            fingerprint=fingerprint, estimated_usd=usd, notebook=os.getcwd(),
        )
        self.spent_usd += usd
        try:
            job = self.backend.client.create(request, client_token=token)
        except AmbiguousSubmitError as exc:
            self.ledger.record_uncertain(token, detail=exc.message)
            raise
        except SeedanceError as exc:
            self.spent_usd -= usd
            self.ledger.record_rejected(token, code=exc.code, message=exc.message)
            raise
        self.ledger.record_submitted(
            token, request_id=job.request_id, status=job.status,
            credits_charged=job.credits_charged,
        )
        if not download:
            self._no_download.add(job.request_id)
        self._adopt(job, usd, time.time())
        return Submission(job)

    def _reuse(self, fingerprint: str) -> Submission | None:
        record = self.ledger.find_reusable(self.backend.key, fingerprint)
        if record is None:
            return None
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
        error = None
        if record.error_code is not None:
            error = JobError(record.error_code, record.error_message or "")
        state = JobState(
            request_id=record.request_id,
            status=record.status if record.status in STATUSES else "queued",
            output_url=record.output_url, error=error, credits_charged=record.credits_charged,
            model=record.model, prompt=record.prompt, duration=record.duration,
            aspect_ratio=record.aspect_ratio, resolution=record.resolution,
        )
        request = GenerationRequest(
            prompt=record.prompt, model=record.model, media_urls=tuple(record.media_urls),
            aspect_ratio=record.aspect_ratio, duration=record.duration,
            resolution=record.resolution, webhook_url=record.webhook_url,
            metadata=record.metadata,
        )
        job = Job(self.backend.client, state, request=request, client_token=record.client_token)
        if record.local_path and Path(record.local_path).exists():
            job.local_path = record.local_path
        started = record.submitted_at or record.created_at
        self._adopt(job, record.estimated_usd, started)
        return job

    def _adopt(self, job: Job, usd: float | None, started_at: float) -> None:
        self._jobs[job.request_id] = job
        self._started[job.request_id] = started_at
        if usd is not None:
            self._estimates[job.request_id] = usd
        job.on_change(self._record_change)
        needs_file = job.status == "succeeded" and job.local_path is None
        if not job.done:
            age = time.time() - started_at
            self.poller.track(job, submitted_at=time.monotonic() - age,
                              on_done=self._on_done)
        elif needs_file:
            self._on_done(job)

    def get_job(self, request_id: str) -> Job:
        """A job of this kernel, of the ledger, or of the service."""
        job = self._jobs.get(request_id)
        if job is not None:
            return job
        record = self.ledger.get(request_id)
        if record is not None:
            return self.job_from_record(record)
        job = self.backend.client.get(request_id)
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

    def reconcile(self, request_id: str) -> Job:
        """Match a job seen later (dashboard, webhook) to an uncertain submission.

        The client token this package put into the request's metadata proves the
        job is ours; without it nothing is matched, so no row is ever guessed.
        """
        state = self.backend.client.fetch_state(request_id)
        token = (state.metadata or {}).get(CLIENT_TOKEN_KEY)
        record = self.ledger.by_token(token) if isinstance(token, str) else None
        if record is None or not isinstance(token, str):
            raise SeedanceError(
                messages.NOT_OURS.format(request_id=request_id), request_id=request_id
            )
        if record.request_id is None:
            self.ledger.reconcile(token, request_id=request_id, status=state.status)
        job = self.get_job(request_id)
        job.update(state)
        return job

    def apply_webhook(self, body: bytes, signature: str | None, secret: str) -> Job:
        """Take a webhook delivery: verified, idempotent (a replay changes nothing).

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
            return self.reconcile(state.request_id)
        job = self.get_job(state.request_id)
        if not job.done:
            job.update(state)
        return job

    def cancel(self, job: Job, on_error: Callable[[str], None] | None = None) -> None:
        """Cancel in a worker thread; safe to call from any thread (a widget click)."""

        def run() -> None:
            try:
                job.cancel()
            except SeedanceError as exc:
                if on_error is not None:
                    on_error(messages.CANCEL_FAILED.format(detail=exc))

        self.poller.run_blocking(run)

    def settle(self, job: Job, timeout: float | None = None) -> Job:
        """Block until the job is terminal and its video is on disk (``--wait``)."""
        job.wait(timeout)
        future = self._ensure_download(job)
        if future is not None:
            future.result()
        return job

    # -- cards ---------------------------------------------------------------------
    def card_for(self, job: Job, notice: str | None = None) -> JobCard:
        """A new card view of ``job`` (the caller shows it from the cell's thread)."""
        from .card import JobCard

        def on_cancel(target: Job) -> None:
            self.cancel(target, on_error=lambda text: _cancel_failed(card, text))

        card = JobCard(
            job,
            backend_label=self.backend.label,
            is_emulator=self.backend.is_emulator,
            estimated_usd=self._estimates.get(job.request_id),
            started_at=self._started.get(job.request_id),
            on_cancel=on_cancel,
            notice=notice,
        )
        self._cards.append(card)
        return card

    def _tell_cards(self, job: Job, text: str) -> None:
        for card in self._cards:
            if card.job is job:
                card.set_notice(text)

    def _tick(self) -> None:
        for card in list(self._cards):
            card.tick()

    # -- events --------------------------------------------------------------------
    def _record_change(self, job: Job) -> None:
        state = job.state
        self.ledger.record_status(
            job.request_id, status=state.status, output_url=state.output_url,
            error_code=state.error.code if state.error else None,
            error_message=state.error.message if state.error else None,
            credits_charged=job.credits_charged, last_running_at=job.last_running_at,
        )

    def _on_done(self, job: Job) -> None:
        self._ensure_download(job)

    def _ensure_download(self, job: Job) -> concurrent.futures.Future[None] | None:
        if job.status != "succeeded" or not job.output_url:
            return None
        if job.request_id in self._no_download or not self.settings.download:
            return None
        with self._lock:
            future = self._downloads.get(job.request_id)
            if future is None:
                future = self.poller.run_blocking(lambda: self._download(job))
                self._downloads[job.request_id] = future
        return future

    def _download(self, job: Job) -> None:
        from .downloads import download, output_filename

        if job.local_path and Path(job.local_path).exists():
            return
        dest = Path(self.settings.download_dir) / output_filename(job.request_id)
        for attempt in range(3):
            url = job.output_url
            if url is None:
                return
            try:
                path = download(url, dest)
                break
            except OutputExpiredError as exc:
                failure: SeedanceError = exc
                job.refresh()
            except DownloadError as exc:
                failure = exc
                time.sleep(0.5 * 2**attempt)
        else:
            self._tell_cards(job, messages.DOWNLOAD_FAILED.format(detail=failure))
            return
        job.local_path = _display_path(path)
        self.ledger.record_download(job.request_id, job.local_path)
        job.notify()

    def close(self) -> None:
        for card in self._cards:
            card.close()
        self.poller.stop()
        self.backend.close()
        self.ledger.close()

    def _expected_runtime(self, job: Job) -> float | None:
        request = job.request
        if request is None:
            return None
        return self.ledger.expected_runtime(
            backend=self.backend.key, model=request.model,
            resolution=request.resolution, duration=request.duration,
        )


def _display_path(path: Path) -> str:
    """Relative to the working directory when inside it, so notebooks can play it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path.resolve())


def _cancel_failed(card: JobCard, text: str) -> None:
    """Put the card back in the job's real state and say why the cancel did not land."""
    card.set_status_override(None)
    card.set_notice(text)

