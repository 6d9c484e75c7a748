"""The jobs service: prepare, submit (write-ahead, once), reuse, resume, reconcile, cancel.

Data flows one way: request -> one ledger transaction (reuse? budget? claim) ->
create POST (never resent) -> ledger (request id, credits) -> poller or webhook
-> job state -> ledger -> download. It needs no IPython: a kernel, the Jupyter
server extension and tests all drive the same :class:`JobService`, the one
facade over the collaborators that play each role: :class:`Submitter` (claim,
POST, record), :class:`Leases` (one poller per job across processes),
:class:`Saver` (downloads) and :class:`Reconciler` (webhooks, late-seen jobs).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from .. import messages
from ..catalog import GenerationRequest
from ..errors import AmbiguousSubmitError, SeedanceError, WaitTimeoutError
from ..media.refs import refuse
from ..paths import notebook_dir, notebook_file
from .backend import Backend, resolve_backend
from .budget import Budget, local_midnight, month_start
from .handle import Job
from .leases import Leases, owner_name
from .ledger import LEDGER_ERRORS, JobRecord, Ledger, RuntimeWindow, state_of
from .poller import UNREADABLE_LIMIT, Poller, Schedule
from .reconciler import Reconciler
from .references import References, video_of
from .saver import Saver
from .settings import ServiceSettings
from .submitter import Submitter
from .summary import JobSummary

__all__ = ["JobService", "Submission"]

_log = logging.getLogger("seedance_jupyter")


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
        origin: str | None = None,
        lease: bool = True,
        budget: Budget | None = None,
    ) -> None:
        """``lease``: poll a job only while holding its ledger lease, so across all
        kernels and the server exactly one process polls (and downloads) each job.
        ``budget``: the budgets and their wording (default: the settings' own)."""
        self.settings = settings
        self.backend = backend or resolve_backend()
        self.ledger = ledger or Ledger(settings.db_url or None)
        #: The notebook's folder: downloads land here and paths in cards are relative to it.
        self.folder = folder or notebook_dir()
        #: Where this service's jobs come from, as the ledger records it: the notebook's
        #: path when Jupyter names one, else the folder. Re-use is scoped to it.
        self.origin = os.path.realpath(origin or notebook_file() or self.folder)
        self.budget = budget or Budget(settings)
        self.leases = Leases(self.ledger, self.backend.key, settings) if lease else None
        self.submitter = Submitter(self.ledger, self.backend, self.budget,
                                   self.leases.owner if self.leases else owner_name())
        self.saver = Saver(
            settings, self.ledger, self.backend.key,
            folder_of=self.job_folder, notice=self._notice, leases=self.leases,
        )
        self.reconciler = Reconciler(self.ledger, self.backend, self.get_job)
        self.poller = Poller(
            lambda request_id: self.backend.client.generations.get(request_id, retry=False),
            requests_per_minute=lambda: settings.requests_per_minute,
            schedule=lambda: Schedule(
                first_check=settings.first_poll_delay, max_interval=settings.max_poll_interval,
                poll_latency=settings.poll_latency,
            ),
            runtime_window=self._runtime_window,
            by_webhook=self.reconciler.by_webhook,
            on_unreadable=lambda job, detail: self._notice(
                job, messages.STATUS_UNREADABLE.format(count=UNREADABLE_LIMIT, detail=detail)
            ),
            should_poll=None if self.leases is None else self.leases.before_poll,
        )
        self.references = References(
            settings, service_on_loopback=self.backend.client.is_loopback,
            service_label=self.backend.label, folder=lambda: self.folder, video=self._video,
        )
        self._jobs: dict[str, Job] = {}
        self._started: dict[str, float] = {}
        self._estimates: dict[str, float] = {}
        self._notice_listeners: list[Notice] = []
        # A pool of its own: a Cancel never waits behind downloads or ledger retries.
        self._cancels = concurrent.futures.ThreadPoolExecutor(2, "seedance-cancel")

    @property
    def lease_owner(self) -> str | None:
        """This service's name on the leases it holds (None when it polls without)."""
        return None if self.leases is None else self.leases.owner

    @property
    def webhooks_arrive(self) -> bool:
        """True once a webhook of this backend was applied."""
        return self.reconciler.webhooks_arrive

    @property
    def spent_usd(self) -> float:
        """USD this service instance has committed: charges, estimates until known."""
        return self.budget.spent_usd

    # -- requests ------------------------------------------------------------------
    def prepare(
        self, prompt: str, *, media: Iterable[object] = (), **fields: object
    ) -> GenerationRequest:
        """Fill the settings' defaults in, validate, then publish the media (raises
        before any upload or POST).

        ``media``: references besides ``media_urls``: https URLs, paths relative to
        the notebook's folder, PIL images, NumPy arrays, bytes, finished jobs and
        ``last-frame:REQUEST_ID`` (or ``job.last_frame()``).
        """
        values: dict[str, object] = {
            "model": self.settings.default_model,
            "duration": self.settings.default_duration,
            "resolution": self.settings.default_resolution,
            "aspect_ratio": self.settings.default_aspect_ratio,
        }
        values.update({k: v for k, v in fields.items() if v is not None})
        # ``media_urls`` are URLs, checked as the catalogue checks them; ``media`` is anything.
        request = self.backend.client.prepare(prompt, **values)  # type: ignore[arg-type]
        items = [*request.media_urls, *media]
        values.pop("media_urls", None)
        if not items:
            return request
        urls, refs = self.references.resolve(items)
        request = self.backend.client.prepare(
            prompt, media_urls=urls, **values  # type: ignore[arg-type]
        )
        return replace(request, media_refs=refs)

    def _video(self, request_id: str, scratch: Path) -> Path:
        """A finished job's video file for use as a reference (downloaded if need be)."""
        try:
            job = self.get_job(request_id)
        except SeedanceError as exc:
            raise refuse(request_id, exc.message) from None
        future = self.saver.ensure(job)
        if future is not None:
            future.result()
        return video_of(job, self.job_folder(request_id), scratch)

    def estimate(self, request: GenerationRequest) -> float:
        """USD the request is estimated to cost (reference media add the surcharge)."""
        assert request.duration is not None
        assert request.resolution is not None
        return self.backend.client.estimate_cost(
            request.model, request.duration, request.resolution,
            with_media=bool(request.media_urls),
        )

    def check_budget(self, usd: float) -> None:
        """Refuse a job that would pass the session or daily budget (a preview for forms)."""
        self.budget.check_session(usd)
        check = self.budget.ledger_check(usd)
        if check is not None:
            check(self.ledger.spent(
                self.backend.key, day_start=local_midnight(),
                month_start=month_start() if self.budget.needs_month else None,
                credits_per_usd=self.settings.credits_per_usd,
            ))

    def submit(
        self,
        request: GenerationRequest,
        *,
        force_new: bool = False,
        download: bool = True,
        announce: Callable[[str], None] | None = None,
        hint: str = messages.NEW_JOB_HINT,
        token: str | None = None,
    ) -> Submission:
        """Re-attach to an identical job, or claim, price and POST a new one exactly once.

        ``hint``: how the caller's user asks for a fresh paid job instead of a re-attach.
        ``token``: the client token to claim under (default: a new random one).
        """
        usd = self.estimate(request)
        sent = self.submitter.send(
            request, usd, reuse=not force_new, announce=announce, notebook=self.origin,
            reuse_from=None if self.settings.reuse_across_notebooks else self.origin,
            token=token,
        )
        if isinstance(sent, JobRecord):
            if sent.status == "rejected":
                return self.submit(request, force_new=force_new, download=download,
                                   announce=announce, hint=hint)
            return self._reattach(sent, hint)
        job = Job(self.backend.client.generations, sent.state, request=request,
                  client_token=sent.token)
        if not download or not self.settings.download:
            self.saver.skip(job.request_id)  # recorded: no process downloads it later
        self._adopt(job, usd, time.time())
        return Submission(job, notice=sent.notice)

    def _reattach(self, record: JobRecord, hint: str) -> Submission:
        if record.request_id is None:
            raise AmbiguousSubmitError(
                messages.UNCERTAIN_EXISTS.format(token=record.client_token),
                client_token=record.client_token,
            )
        job = self.job_from_record(record)
        notice = messages.REATTACHED.format(
            request_id=record.request_id, status=job.status, hint=hint
        )
        if record.notebook is not None and record.notebook != self.ledger.current_origin(
            self.origin
        ):
            notice += " " + messages.REATTACHED_FROM.format(origin=record.notebook)
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
        if self.saver.saved(record):
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
            if self.leases is not None:
                self.leases.claim(job)
            age = time.time() - started_at
            self.poller.track(job, submitted_at=time.monotonic() - age, on_done=self.saver.on_done)
        elif job.status == "succeeded" and job.local_path is None:
            self.saver.on_done(job)

    def summary(self, job: Job) -> JobSummary:
        """What a person is shown about ``job``: its ledger row brought up to its live state.

        A job this ledger never recorded (``%seedance status`` of someone else's
        job) is summarised from what the service said and what this process saw.
        """
        record = self.ledger.get(job.request_id)
        if record is not None:
            base = JobSummary.from_record(record, is_emulator=self.backend.is_emulator,
                                          credits_per_usd=self.settings.credits_per_usd)
        else:
            base = self._unrecorded_summary(job)
        return replace(
            base.with_state(job.state),
            local_path=job.local_path or base.local_path,
            poster_data_uri=job.poster_data_uri or base.poster_data_uri,
            save_error=None if job.local_path else base.save_error,
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
                estimate = self.backend.client.estimate_cost(
                    model, duration, resolution, with_media=bool(request and request.media_urls)
                )
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
            credits_per_usd=self.settings.credits_per_usd,
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
        self.backend.ready()
        record = self.ledger.get(request_id)
        if record is not None:
            return self.job_from_record(record)
        generations = self.backend.client.generations
        job = Job(generations, generations.get(request_id))
        self._adopt(job, None, time.time())
        return job

    def resume(self) -> list[Job]:
        """Re-attach this user's unfinished jobs of this backend (after a kernel restart):
        those still running, and succeeded ones whose video is not saved yet (a download
        cut by a killed kernel resumes from its ``.part``; one that failed is tried again)."""
        self.backend.ready()
        jobs = []
        mine = self.ledger.user
        records = [r for r in self.ledger.unfinished(self.backend.key, user=mine)
                   + self.ledger.unsaved(self.backend.key) if r.user_name == mine]
        for record in records:
            if record.request_id is None:
                continue
            job = self.job_from_record(record)
            if not job.done:
                job.refresh()
            elif job.local_path is None:
                self.saver.on_done(job)  # a try that failed in this process runs again
            jobs.append(job)
        return jobs

    def reconcile(self, request_id: str, *, client_token: str | None = None) -> Job:
        """Match a job seen later (dashboard, webhook) to an uncertain submission."""
        return self.reconciler.reconcile(request_id, client_token=client_token)

    def apply_webhook(
        self, body: bytes, signature: str | None, secret: str, *, client_token: str | None = None
    ) -> Job:
        """Take a webhook delivery: verified, idempotent (a replay changes nothing)."""
        return self.reconciler.apply_webhook(body, signature, secret, client_token=client_token)

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
        future = self.saver.ensure(job)
        if future is not None:
            future.result()
        return job

    def download_pending(self, job: Job) -> bool:
        """True while a finished job's video is still to be downloaded."""
        return self.saver.pending(job)

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
                future = self.saver.ensure(job)
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

    def close(self) -> None:
        """Stop polling and give up every lease, so the server finishes the jobs at once."""
        self.poller.stop()
        self._cancels.shutdown(wait=False, cancel_futures=True)
        self.saver.close()
        self.submitter.close()
        if self.leases is not None:
            self.leases.close()
        self.backend.close()
        self.ledger.close()

    def _runtime_window(self, job: Job) -> RuntimeWindow | None:
        """What alike jobs taught; nothing while the ledger cannot be read (a paid job
        is still tracked, on the schedule for jobs nothing is known about)."""
        request = job.request
        if request is None:
            return None
        try:
            return self.ledger.runtime_window(
                backend=self.backend.key, model=request.model, resolution=request.resolution,
                duration=request.duration, media=bool(request.media_urls),
            )
        except LEDGER_ERRORS:
            return None
