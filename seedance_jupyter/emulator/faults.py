"""Failures on demand: random rates and one-off injections, decided per request.

Rates come from a :class:`Faults` value read on every request (so tests and
notebooks can change it while the emulator runs) and a seeded ``random.Random``
per emulator, so a run with the same seed fails the same requests. One-off
injections take precedence over the rates.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass

__all__ = ["ROUTES", "Decision", "FaultPlan", "Faults"]

#: Routes faults can hit: the four API endpoints and the output downloads.
ROUTES: tuple[str, ...] = ("models", "create", "status", "cancel", "output")


@dataclass
class Faults:
    """Shares of requests (on ``routes``) that fail, and of jobs that end ``failed``.

    ``error_rate``: answered 500 before handling, so nothing happens.
    ``drop_rate``: handled first, then the connection is closed with no answer
    (the work was done, the answer is lost: what makes a create POST ambiguous).
    ``latency``: seconds added before each request on ``routes``.
    ``fail_rate``: share of new jobs that end ``failed`` with ``generation_failed``.
    """

    error_rate: float = 0.0
    drop_rate: float = 0.0
    latency: float = 0.0
    fail_rate: float = 0.0
    routes: tuple[str, ...] = ("models", "create", "status", "cancel")


@dataclass(frozen=True)
class Decision:
    """What to do with one request: answer ``status`` unhandled, or handle and maybe drop."""

    status: int | None = None
    retry_after: float | None = None
    drop: bool = False
    latency: float = 0.0


@dataclass
class _Injection:
    status: int | None
    retry_after: float | None
    drop: bool
    times: int


class FaultPlan:
    """The faults of one emulator: the current rates and the pending injections."""

    def __init__(self, faults: Faults, seed: int) -> None:
        self.faults = faults
        self._rng = random.Random(seed)
        self._pending: dict[str, deque[_Injection]] = {route: deque() for route in ROUTES}
        self._lock = threading.Lock()

    def inject(
        self, route: str, *, status: int | None, retry_after: float | None, drop: bool,
        times: int,
    ) -> None:
        """Queue a fault for the next ``times`` requests on ``route``."""
        if route not in ROUTES:
            raise ValueError(f"route must be one of {', '.join(ROUTES)}, not {route!r}")
        if drop == (status is not None):
            raise ValueError("give either status=... or drop=True")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._pending[route].append(_Injection(status, retry_after, drop, times))

    def decide(self, route: str | None) -> Decision:
        """The fault (if any) for one request on ``route`` (``None``: not a fault route)."""
        if route is None:
            return Decision()
        with self._lock:
            pending = self._pending.get(route)
            if pending:
                injection = pending[0]
                injection.times -= 1
                if injection.times == 0:
                    pending.popleft()
                return Decision(injection.status, injection.retry_after, injection.drop)
            faults = self.faults
            if route not in faults.routes:
                return Decision()
            roll = self._rng.random()
        if roll < faults.error_rate:
            return Decision(status=500, latency=faults.latency)
        if roll < faults.error_rate + faults.drop_rate:
            return Decision(drop=True, latency=faults.latency)
        return Decision(latency=faults.latency)

    def job_fails(self) -> bool:
        """Whether a new job should end ``failed`` (``fail_rate``)."""
        with self._lock:
            return self._rng.random() < self.faults.fail_rate
