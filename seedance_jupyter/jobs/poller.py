"""One scheduler for every job of the kernel, on a thread of its own.

The scheduler runs an asyncio loop on one daemon thread, in a kernel as in
terminal IPython, so a cell that blocks the kernel's own loop (``time.sleep``,
a long computation) never freezes a card. Blocking HTTP runs in a small thread
pool, so that loop never waits on the network; there is no thread or timer per
job. What a job's watchers do with a change (cards) goes through widget traits
and ``update_display``, which are safe from any thread.

The schedule learns from the runtime distribution of alike jobs (a
:class:`~seedance_jupyter.jobs.ledger.RuntimeWindow`): sparse checks before the
window where they usually finish, at most ``poll_latency`` apart across it and
closest where most of them finish, the window widened while few jobs taught it,
and, with little history or past the window, gaps that stay a small fraction of
the job's age, so any runtime is seen in bounded relative time. All jobs share
one request budget (a token bucket), which shrinks on 429 and follows
``Retry-After``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from ..api.types import JobState
from ..errors import MalformedResponseError, NotFoundError, RateLimitedError, SeedanceError
from ..retry import Backoff
from .handle import Job
from .ledger import RuntimeWindow

__all__ = ["Poller", "Schedule"]

T = TypeVar("T")
_log = logging.getLogger("seedance_jupyter")
#: Unreadable status answers in a row before the job's card says what came back.
UNREADABLE_LIMIT = 3
_FAILURE_BACKOFF = Backoff(base=0.25, cap=15.0)


@dataclass(frozen=True)
class Schedule:
    """When to look again at a job; pure, so it can be tested and benchmarked.

    ``poll_latency`` is the user's point on the latency/requests curve: the
    longest gap between two checks while a job is in its likely window (the
    learnt [p5, p95 + margin] of alike jobs, see :meth:`span`). The p5 and p95
    of a few jobs are rough guesses, so both ends move out by ``spread`` times
    the window's width over the square root of the number of jobs it was
    learnt from: the window tightens as samples accumulate. Inside it the gap
    follows how densely alike jobs finish (a lognormal fitted to the window):
    ``core`` times the window's gap at its middle, growing as one over the
    square root of that density to the full gap towards its ends, which puts
    most finishes well within ``poll_latency``. Before the window the gap is
    ``approach`` times the time left to it (never past its start, never over
    ``max_interval``); after it, the gap grows by ``late_patience`` of the time
    past it; without a window, the gap is ``patience`` times the time so far
    (at least ``poll_latency``), so a job of any runtime is seen within about
    ``patience`` of its runtime. A narrow window (alike jobs take alike time) is
    split into at least ``dense_checks`` checks, down to ``min_interval``. A job
    whose result comes by webhook is only checked every ``webhook_interval``
    seconds, as a safety net.
    """

    first_check: float = 1.0
    poll_latency: float = 2.0
    max_interval: float = 15.0
    approach: float = 0.4
    patience: float = 0.1
    late_patience: float = 0.05
    margin: float = 0.25
    spread: float = 1.0
    core: float = 0.7
    dense_checks: int = 12
    min_interval: float = 0.25
    webhook_interval: float = 60.0
    jitter: float = 0.1

    def delay(
        self,
        *,
        checks: int,
        age: float,
        window: RuntimeWindow | None,
        rng: random.Random,
        webhook: bool = False,
    ) -> float:
        """Seconds until the next check of a job ``age`` seconds old."""
        if checks == 0:
            return max(0.0, self.first_check - age)
        if webhook:
            return self.webhook_interval
        # Jitter only ever shortens a gap, so every bound above holds.
        shorten = rng.uniform(1.0 - self.jitter, 1.0)
        if window is None:
            return self._patient(age, self.poll_latency, self.patience) * shorten
        start, end = self.span(window)
        learnt = (1 + self.margin) * (window.high - window.low)  # the span's width when sure
        dense = min(self.poll_latency, max(self.min_interval, learnt / self.dense_checks))
        if age < start:
            sparse = min(self.max_interval, max(self.poll_latency, self.approach * (start - age)))
            return min(sparse * shorten, start - age)
        if age < end:
            return max(self.min_interval, dense * self._density_factor(age, window)) * shorten
        return self._patient(age - end, dense, self.late_patience) * shorten

    def span(self, window: RuntimeWindow) -> tuple[float, float]:
        """Ages from which and until which a job of ``window`` is checked densely."""
        width = window.high - window.low
        unsure = self.spread * width / math.sqrt(max(1, window.samples))
        return window.low - unsure, window.high + self.margin * width + unsure

    def _density_factor(self, age: float, window: RuntimeWindow) -> float:
        """``core`` where alike jobs finish most densely, up to 1 where few do."""
        if window.low <= 0 or window.high <= window.low:
            return 1.0
        # The lognormal whose p5 and p95 are the window's ends: 2 x 1.645 sigma apart.
        sigma = math.log(window.high / window.low) / (2 * 1.645)
        score = math.log(max(age, 1e-9) / math.sqrt(window.low * window.high)) / sigma
        return min(1.0, self.core * math.exp(min(score * score / 4, 50.0)))

    def _patient(self, since: float, floor: float, patience: float) -> float:
        """A gap that grows by ``patience`` of the time ``since``, from ``floor``."""
        return min(self.max_interval, floor + patience * since)


@dataclass
class _Entry:
    job: Job
    submitted_at: float
    window: RuntimeWindow | None
    checks: int = 0
    next_at: float = 0.0
    in_flight: bool = False
    failures: int = 0
    unreadable: int = 0
    on_done: list[Callable[[Job], None]] = field(default_factory=list)
    unsubscribe: Callable[[], None] | None = None


class _Budget:
    """A token bucket shared by all status requests."""

    def __init__(self, per_minute: float, clock: Callable[[], float]) -> None:
        self.per_minute = 0.0
        self.configure(per_minute)
        self.rate = self.configured
        self.tokens = self.capacity
        self.paused_until = 0.0
        self._clock = clock
        self._stamp = clock()

    def configure(self, per_minute: float) -> None:
        """Take a new limit (a ``%config`` change); the current slowdown is kept in ratio."""
        if per_minute == self.per_minute:
            return
        old = getattr(self, "configured", None)
        # The burst plus a minute's refill never exceeds ``per_minute`` in any
        # 60 s window, so a service that counts per rolling minute is never passed.
        self.per_minute = per_minute
        self.capacity = max(1.0, min(per_minute / 12.0, per_minute / 2.0))
        self.configured = max(per_minute - self.capacity, 1.0) / 60.0
        if old is not None:
            self.rate = self.configured * min(1.0, self.rate / old)
            self.tokens = min(self.tokens, self.capacity)

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def take(self, now: float) -> bool:
        self._refill(now)
        if now < self.paused_until or self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True

    def next_token_at(self, now: float) -> float:
        self._refill(now)
        wait = 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate
        return max(now + wait, self.paused_until)

    def throttle(self, now: float, retry_after: float | None) -> None:
        """A 429: halve the pace and pause for what the server asked."""
        self.rate = max(self.configured / 16.0, self.rate / 2.0)
        self.tokens = 0.0
        self.paused_until = max(self.paused_until, now + (retry_after or 60.0 / 8))

    def recover(self) -> None:
        self.rate = min(self.configured, self.rate * 1.05)


class Poller:
    """Polls every tracked job until it is terminal, then calls its ``on_done`` hooks.

    ``runtime_window(job)`` is where alike jobs finished (None without enough
    history); ``by_webhook(job)`` says the job's result is on its way by webhook,
    so polling it is only a rare safety net. A job that turns terminal by other
    means (a webhook, ``refresh``) is finished at once, with no request.
    """

    def __init__(
        self,
        fetch: Callable[[str], JobState],
        *,
        requests_per_minute: float | Callable[[], float] = 240.0,
        schedule: Schedule | Callable[[], Schedule] | None = None,
        runtime_window: Callable[[Job], RuntimeWindow | None] | None = None,
        by_webhook: Callable[[Job], bool] | None = None,
        on_unreadable: Callable[[Job, str], None] | None = None,
        should_poll: Callable[[Job], bool] | None = None,
        workers: int = 4,
        clock: Callable[[], float] = time.monotonic,
        seed: int | None = None,
    ) -> None:
        self._fetch = fetch
        self._schedule = schedule or Schedule()
        self._per_minute = requests_per_minute
        self._window = runtime_window
        self._by_webhook = by_webhook
        self._on_unreadable = on_unreadable
        #: Asked off the loop before each status request; False skips this check
        #: (another process polls the job). It may update the job itself.
        self._should_poll = should_poll
        self._clock = clock
        self._rng = random.Random(seed)
        self.budget = _Budget(self._limit(), clock)
        self._entries: dict[str, _Entry] = {}
        self._pool = concurrent.futures.ThreadPoolExecutor(workers, "seedance-poll")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Event | None = None
        self._lock = threading.Lock()

    # -- public ------------------------------------------------------------------
    @property
    def schedule(self) -> Schedule:
        """The schedule as the settings say now."""
        return self._schedule() if callable(self._schedule) else self._schedule

    def _limit(self) -> float:
        return self._per_minute() if callable(self._per_minute) else self._per_minute

    @property
    def active(self) -> int:
        """How many jobs are being polled."""
        return len(self._entries)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def track(
        self,
        job: Job,
        *,
        submitted_at: float | None = None,
        on_done: Callable[[Job], None] | None = None,
    ) -> None:
        """Poll ``job`` until it is terminal; safe from any thread."""
        entry = _Entry(
            job=job,
            submitted_at=self._clock() if submitted_at is None else submitted_at,
            window=self._window(job) if self._window else None,
        )
        if on_done is not None:
            entry.on_done.append(on_done)
        job.watcher = self
        if job.done:
            self._finish(entry)
            return
        loop = self._ensure_loop()
        loop.call_soon_threadsafe(self._add, entry)

    def stop(self) -> None:
        """Forget every job and release the threads (on extension unload)."""
        for entry in list(self._entries.values()):
            self._forget(entry)
        self._entries.clear()
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is not None:
            loop.call_soon_threadsafe(self._end, loop)
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- loop ----------------------------------------------------------------------
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        """The scheduler's own loop, on its own thread, started on first use."""
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                started = threading.Event()
                loop = self._loop

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(started.set)
                    try:
                        loop.run_forever()
                    finally:
                        loop.close()

                threading.Thread(target=run, name="seedance-poller", daemon=True).start()
                started.wait()
            return self._loop

    def _end(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the loop: cancel the scheduler, then stop once the cancel is through."""
        task = self._task
        if task is None or task.done():
            loop.stop()
            return
        task.cancel()
        task.add_done_callback(lambda _task: loop.stop())

    def _add(self, entry: _Entry) -> None:
        job = entry.job
        request_id = job.request_id
        if request_id in self._entries:
            self._entries[request_id].on_done.extend(entry.on_done)
            return
        entry.next_at = entry.submitted_at + self.schedule.delay(
            checks=0, age=self._clock() - entry.submitted_at, window=entry.window,
            rng=self._rng,
        )
        loop = asyncio.get_running_loop()

        def changed(changed_job: Job) -> None:
            if changed_job.done:
                loop.call_soon_threadsafe(self._settled, entry)

        entry.unsubscribe = job.on_change(changed)
        self._entries[request_id] = entry
        if job.done:
            self._settled(entry)
            return
        if self._wakeup is None or not self.running:
            self._wakeup = asyncio.Event()
            self._task = loop.create_task(self._run())
        self._wakeup.set()

    async def _run(self) -> None:
        assert self._wakeup is not None
        while self._entries:
            now = self._clock()
            self.budget.configure(self._limit())
            due = sorted(
                (e for e in self._entries.values() if not e.in_flight and e.next_at <= now),
                key=lambda e: e.next_at,
            )
            for entry in due:
                if not self.budget.take(now):
                    break
                entry.in_flight = True
                asyncio.get_running_loop().create_task(self._check(entry))
            if due and not due[-1].in_flight:
                # The budget stopped the dispatch: nothing can go out before a token.
                wake = self.budget.next_token_at(now)
            else:
                wake = min(
                    (e.next_at for e in self._entries.values() if not e.in_flight),
                    default=now + 60.0,
                )
            self._wakeup.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), max(0.01, wake - self._clock()))

    async def _check(self, entry: _Entry) -> None:
        job = entry.job
        loop = asyncio.get_running_loop()
        try:
            if self._should_poll is not None and not await loop.run_in_executor(
                self._pool, self._should_poll, job
            ):
                state = job.state
            else:
                state = await loop.run_in_executor(self._pool, self._fetch, job.request_id)
        except RateLimitedError as exc:
            self.budget.throttle(self._clock(), exc.retry_after)
            self._reschedule(entry, failed=True)
        except NotFoundError as exc:
            _log.warning("job %s is unknown to the service: %s", job.request_id, exc)
            self._drop(entry)
        except MalformedResponseError as exc:
            entry.unreadable += 1
            if entry.unreadable == UNREADABLE_LIMIT and self._on_unreadable is not None:
                self._on_unreadable(job, exc.message)
            self._reschedule(entry, failed=True)
        except (SeedanceError, RuntimeError) as exc:
            _log.info("status check of %s failed, will retry: %s", job.request_id, exc)
            self._reschedule(entry, failed=True)
        except Exception:  # one job's failure never stops the others
            _log.exception("status check of %s failed", job.request_id)
            self._reschedule(entry, failed=True)
        else:
            self.budget.recover()
            entry.unreadable = 0
            job.update(state)
            if job.done:
                self._settled(entry)
            else:
                self._reschedule(entry, failed=False)
        if self._wakeup is not None:
            self._wakeup.set()

    def _reschedule(self, entry: _Entry, *, failed: bool) -> None:
        entry.in_flight = False
        entry.failures = entry.failures + 1 if failed else 0
        entry.checks += 1
        now = self._clock()
        delay = self.schedule.delay(
            checks=entry.checks, age=now - entry.submitted_at, window=entry.window,
            rng=self._rng,
            webhook=self._by_webhook is not None and self._by_webhook(entry.job),
        )
        if failed:
            delay = max(delay, _FAILURE_BACKOFF.delay(entry.failures, jitter=False))
        entry.next_at = max(now + delay, self.budget.paused_until)

    def _settled(self, entry: _Entry) -> None:
        """The job is terminal (by this poller's answer or any other): finish it once."""
        if self._entries.get(entry.job.request_id) is not entry:
            return
        self._drop(entry)
        self._finish(entry)

    def _drop(self, entry: _Entry) -> None:
        self._entries.pop(entry.job.request_id, None)
        self._forget(entry)

    @staticmethod
    def _forget(entry: _Entry) -> None:
        entry.job.watcher = None
        if entry.unsubscribe is not None:
            entry.unsubscribe()
            entry.unsubscribe = None

    def _finish(self, entry: _Entry) -> None:
        for hook in entry.on_done:
            try:
                hook(entry.job)
            except Exception:  # a hook's bug must not stop the poller
                _log.exception("completion hook for %s failed", entry.job.request_id)
