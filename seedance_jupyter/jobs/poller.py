"""One scheduler for every job of the kernel, on the kernel's own event loop.

Blocking HTTP runs in a small thread pool, so the loop never waits on the
network; there is no thread or timer per job. The schedule is adaptive: a first
check about a second after submission, then slower with jitter, and dense again
around the time the job is expected to finish. All jobs share one request
budget (a token bucket), which shrinks on 429 and follows ``Retry-After``.
Without a running loop (terminal IPython) the same scheduler runs on one
background thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from ..api.types import JobState
from ..errors import NotFoundError, RateLimitedError, SeedanceError
from ..retry import Backoff
from .handle import Job

__all__ = ["Poller", "Schedule"]

T = TypeVar("T")
_log = logging.getLogger("seedance_jupyter")
_FAILURE_BACKOFF = Backoff(base=0.25, cap=15.0)


@dataclass(frozen=True)
class Schedule:
    """When to look again at a job; pure, so it can be tested and benchmarked."""

    first_check: float = 1.0
    growth: float = 1.5
    growth_when_expected: float = 2.0
    max_interval: float = 15.0
    near_interval: float = 0.7
    lead: float = 0.3
    jitter: float = 0.15

    def delay(
        self, *, checks: int, age: float, expected: float | None, rng: random.Random
    ) -> float:
        """Seconds until the next check of a job ``age`` seconds old."""
        if checks == 0:
            return max(0.0, self.first_check - age)
        growth = self.growth if expected is None else self.growth_when_expected
        base = min(self.max_interval, self.first_check * growth**checks)
        base *= rng.uniform(1 - self.jitter, 1 + self.jitter)
        if expected is None:
            return base
        until = expected - self.lead - age
        if until > 0:
            return min(base, until)
        window = max(6.0, 0.3 * expected)
        if age - expected < window:
            return self.near_interval
        return base


@dataclass
class _Entry:
    job: Job
    submitted_at: float
    expected: float | None
    checks: int = 0
    next_at: float = 0.0
    in_flight: bool = False
    failures: int = 0
    on_done: list[Callable[[Job], None]] = field(default_factory=list)


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
    """Polls every tracked job until it is terminal, then calls its ``on_done`` hooks."""

    def __init__(
        self,
        fetch: Callable[[str], JobState],
        *,
        requests_per_minute: float | Callable[[], float] = 240.0,
        schedule: Schedule | Callable[[], Schedule] | None = None,
        expected_runtime: Callable[[Job], float | None] | None = None,
        on_tick: Callable[[], None] | None = None,
        workers: int = 4,
        clock: Callable[[], float] = time.monotonic,
        seed: int | None = None,
    ) -> None:
        self._fetch = fetch
        self._schedule = schedule or Schedule()
        self._per_minute = requests_per_minute
        self._expected = expected_runtime
        #: Called about once a second while jobs are polled (cards tick their clocks).
        self.on_tick = on_tick
        self._clock = clock
        self._rng = random.Random(seed)
        self.budget = _Budget(self._limit(), clock)
        self._entries: dict[str, _Entry] = {}
        self._pool = concurrent.futures.ThreadPoolExecutor(workers, "seedance-poll")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
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
            expected=self._expected(job) if self._expected else None,
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
            entry.job.watcher = None
        self._entries.clear()
        if self._loop is not None and self._wakeup is not None:
            self._loop.call_soon_threadsafe(self._wakeup.set)
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- loop ----------------------------------------------------------------------
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is not None and self._loop.is_running():
                return self._loop
            try:
                self._loop = asyncio.get_running_loop()
            except RuntimeError:
                self._loop = self._start_thread_loop()
            return self._loop

    def _start_thread_loop(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.new_event_loop()
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(started.set)
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="seedance-poller", daemon=True)
        self._thread.start()
        started.wait()
        return loop

    def _add(self, entry: _Entry) -> None:
        request_id = entry.job.request_id
        if request_id in self._entries:
            self._entries[request_id].on_done.extend(entry.on_done)
            return
        entry.next_at = entry.submitted_at + self.schedule.delay(
            checks=0, age=self._clock() - entry.submitted_at, expected=entry.expected,
            rng=self._rng,
        )
        self._entries[request_id] = entry
        if self._wakeup is None or not self.running:
            self._wakeup = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run())
        self._wakeup.set()

    async def _run(self) -> None:
        assert self._wakeup is not None
        next_tick = self._clock()
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
            if now >= next_tick:
                next_tick = now + 1.0
                self._tick()
            if due and not due[-1].in_flight:
                # The budget stopped the dispatch: nothing can go out before a token.
                wake = min(next_tick, self.budget.next_token_at(now))
            else:
                wake = min(
                    [e.next_at for e in self._entries.values() if not e.in_flight]
                    + [next_tick]
                )
            self._wakeup.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), max(0.01, wake - self._clock()))
        self._tick()
        if self._thread is not None and self._loop is not None:
            self._loop.call_soon(self._loop.stop)
            self._thread = None
            with self._lock:
                self._loop = None

    async def _check(self, entry: _Entry) -> None:
        job = entry.job
        loop = asyncio.get_running_loop()
        try:
            state = await loop.run_in_executor(self._pool, self._fetch, job.request_id)
        except RateLimitedError as exc:
            self.budget.throttle(self._clock(), exc.retry_after)
            self._reschedule(entry, failed=True)
        except NotFoundError as exc:
            _log.warning("job %s is unknown to the service: %s", job.request_id, exc)
            self._drop(entry)
        except (SeedanceError, RuntimeError) as exc:
            _log.info("status check of %s failed, will retry: %s", job.request_id, exc)
            self._reschedule(entry, failed=True)
        except Exception:  # one job's failure never stops the others
            _log.exception("status check of %s failed", job.request_id)
            self._reschedule(entry, failed=True)
        else:
            self.budget.recover()
            job.update(state)
            if job.done:
                self._drop(entry)
                self._finish(entry)
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
            checks=entry.checks, age=now - entry.submitted_at, expected=entry.expected,
            rng=self._rng,
        )
        if failed:
            delay = max(delay, _FAILURE_BACKOFF.delay(entry.failures, jitter=False))
        entry.next_at = max(now + delay, self.budget.paused_until)

    def _drop(self, entry: _Entry) -> None:
        self._entries.pop(entry.job.request_id, None)
        entry.job.watcher = None

    def _finish(self, entry: _Entry) -> None:
        for hook in entry.on_done:
            try:
                hook(entry.job)
            except Exception:  # a hook's bug must not stop the poller
                _log.exception("completion hook for %s failed", entry.job.request_id)

    def _tick(self) -> None:
        if self.on_tick is not None:
            try:
                self.on_tick()
            except Exception:
                _log.exception("poller tick failed")
