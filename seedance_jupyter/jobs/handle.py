"""A handle on one remote job: its latest known state, change events, cancel and waiting.

The job knows nothing of IPython or of the HTTP client: it reads fresh state
through a small :class:`JobSource`; the kernel side subscribes with
:meth:`Job.on_change`; the poller and webhooks feed it with :meth:`Job.update`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Protocol

from .. import messages
from ..api.types import JobError, JobState
from ..errors import RateLimitedError, SeedanceError, WaitTimeoutError
from ..media.refs import JobMedia
from ..retry import Backoff
from ..status import CANCELLABLE

if TYPE_CHECKING:
    from ..catalog import GenerationRequest

__all__ = ["Job", "JobSource"]

_log = logging.getLogger("seedance_jupyter")
_WAIT_BACKOFF = Backoff(base=1.0, cap=30.0)


class JobSource(Protocol):
    """Where a job's fresh state comes from: the generations resource, or a fake in tests."""

    def get(self, request_id: str, *, retry: bool = True) -> JobState: ...

    def cancel(self, request_id: str) -> JobState: ...


Listener = Callable[["Job"], None]


class Job:
    """A job of the service, as this process last saw it.

    ``wait()`` and ``await job`` are woken by whoever updates first; they poll by
    themselves only while no poller watches the job.
    """

    def __init__(
        self,
        source: JobSource,
        state: JobState,
        *,
        request: GenerationRequest | None = None,
        client_token: str | None = None,
    ) -> None:
        self.source = source
        self.request = request
        self.client_token = client_token
        self.local_path: str | None = None
        #: The downloaded video's first frame as an inline JPEG, once there is one.
        self.poster_data_uri: str | None = None
        #: The poller that keeps this job up to date, if any (so waiters need not poll).
        self.watcher: object | None = None
        #: When an answer last said queued/processing, once the job is terminal:
        #: with the terminal answer it brackets when the job really finished.
        self.last_running_at: float | None = None
        self._state = state
        self._listeners: list[Listener] = []
        self._changed = threading.Condition()

    # -- state ---------------------------------------------------------------
    @property
    def state(self) -> JobState:
        return self._state

    @property
    def request_id(self) -> str:
        return self._state.request_id

    @property
    def status(self) -> str:
        return self._state.status

    @property
    def output_url(self) -> str | None:
        return self._state.output_url

    @property
    def error(self) -> JobError | None:
        return self._state.error

    @property
    def credits_charged(self) -> int | None:
        """Known from the create answer; later status answers that omit it keep it."""
        return self._state.credits_charged

    @property
    def done(self) -> bool:
        return self._state.is_terminal

    @property
    def can_cancel(self) -> bool:
        return self._state.status in CANCELLABLE

    def update(self, state: JobState) -> bool:
        """Take a newer state; a terminal status is never replaced. True if it changed."""
        with self._changed:
            old = self._state
            if state.request_id != old.request_id or (
                old.is_terminal and state.status != old.status
            ):
                return False
            merged = old.merged(state)
            changed = merged != old
            if merged.is_terminal and not old.is_terminal:
                self.last_running_at = old.received_at
            self._state = merged
            self._changed.notify_all()
        if changed:
            self._notify()
        return changed

    def notify(self) -> None:
        """Tell listeners about a change that is not in the API state (a local file)."""
        self._notify()

    def on_change(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(job)`` after every change, from whichever thread made it."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _notify(self) -> None:
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception:  # one view's bug must not stop the others
                _log.exception("job listener %r failed", listener)

    # -- actions -------------------------------------------------------------
    def last_frame(self) -> JobMedia:
        """The last frame of this job's video as a reference (``media=[job.last_frame()]``),
        to continue a shot where this take ended; read when the next job is prepared."""
        return JobMedia(self.request_id, last_frame=True)

    def refresh(self) -> Job:
        """Fetch the current state from the service."""
        self.update(self.source.get(self.request_id))
        return self

    def cancel(self) -> Job:
        """Cancel the remote job (queued or processing only)."""
        self.update(self.source.cancel(self.request_id))
        return self

    def wait(self, timeout: float | None = None, *, max_interval: float = 5.0) -> Job:
        """Block until the job is terminal; ``timeout`` bounds the whole wait.

        While a poller watches the job, waiting only listens; otherwise it sends
        one un-retried status request at a time, backing off on errors and on
        ``Retry-After``, never past the deadline.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        interval = 1.0
        failures = 0
        while not self.done:
            pause = interval
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self._timed_out(timeout)
                pause = min(pause, left)
            with self._changed:
                finished = self._changed.wait_for(lambda: self.done, timeout=pause)
            if finished or self.watched:
                continue
            try:
                self.update(self.source.get(self.request_id, retry=False))
            except RateLimitedError as exc:
                interval = _WAIT_BACKOFF.delay(failures, exc.retry_after)
                failures += 1
                continue
            except SeedanceError:
                interval = max(interval, _WAIT_BACKOFF.delay(failures, jitter=False))
                failures += 1
                continue
            failures = 0
            interval = min(interval * 1.5, max_interval)
        return self

    async def wait_async(self, timeout: float | None = None, *, max_interval: float = 5.0) -> Job:
        """Wait without blocking the event loop; a poller's updates wake it at once."""
        loop = asyncio.get_running_loop()
        woken = asyncio.Event()

        def wake(_job: Job) -> None:
            loop.call_soon_threadsafe(woken.set)

        unsubscribe = self.on_change(wake)
        deadline = None if timeout is None else loop.time() + timeout
        interval = 1.0
        try:
            while not self.done:
                pause = interval if deadline is None else min(interval, deadline - loop.time())
                if pause <= 0:
                    raise self._timed_out(timeout)
                woken.clear()
                try:
                    await asyncio.wait_for(woken.wait(), pause)
                except asyncio.TimeoutError:
                    if not self.watched:
                        await loop.run_in_executor(None, self.refresh)
                    interval = min(interval * 1.5, max_interval)
        finally:
            unsubscribe()
        return self

    def _timed_out(self, timeout: float | None) -> WaitTimeoutError:
        return WaitTimeoutError(
            messages.WAIT_TIMEOUT.format(
                request_id=self.request_id, status=self.status, timeout=timeout
            ),
            request_id=self.request_id,
        )

    def __await__(self) -> Generator[Any, None, Job]:
        return self.wait_async().__await__()

    @property
    def watched(self) -> bool:
        """True while a poller keeps this job up to date."""
        return self.watcher is not None

    def __repr__(self) -> str:
        request = self.request
        details = ""
        if request is not None:
            details = f" {request.model} {request.duration or '?'}s {request.resolution or ''}"
        return f"<Job {self.request_id} {self.status}{details.rstrip()}>"
