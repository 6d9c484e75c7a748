"""The one backoff rule: exponential with full jitter, or what ``Retry-After`` asks, capped.

Used by the HTTP transport, job waits, downloads, the poller and the emulator's
webhook sender, so a change of policy happens in one place.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from dataclasses import dataclass

__all__ = ["Backoff", "parse_retry_after"]


@dataclass(frozen=True)
class Backoff:
    """Delays for attempt 0, 1, 2...: ``uniform(0, min(cap, base * 2**attempt))``."""

    base: float = 0.5
    cap: float = 30.0
    max_retry_after: float = 120.0

    def delay(
        self,
        attempt: int,
        retry_after: float | None = None,
        *,
        rng: random.Random | None = None,
        jitter: bool = True,
    ) -> float:
        """Seconds before attempt ``attempt + 1``; a server's ``Retry-After`` wins, capped."""
        if retry_after is not None:
            return max(0.0, min(retry_after, self.max_retry_after))
        ceiling = min(self.cap, self.base * 2.0 ** min(attempt, 62))
        if not jitter:
            return ceiling
        return float((rng or random).uniform(0.0, ceiling))


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` in seconds from a number or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)
