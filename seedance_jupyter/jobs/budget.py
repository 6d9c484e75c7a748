"""Budgets: a per-service-instance cap and a per-day cap read from the shared ledger."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .. import messages
from ..errors import BudgetExceededError

__all__ = ["Budget", "local_midnight"]


def local_midnight(now: float | None = None) -> float:
    """The start of today, local time, as a Unix timestamp."""
    day = time.localtime(time.time() if now is None else now)
    return time.mktime((*day[:3], 0, 0, 0, 0, 0, -1))


class Budget:
    """Money this process has committed, checked against limits read at each call.

    ``session_limit``, ``daily_limit`` and ``credits_per_usd`` are callables so a
    ``%config`` change applies to the very next submission. A job counts at its
    estimate until the service says what it charged, then at that charge.
    """

    def __init__(
        self,
        session_limit: Callable[[], float | None],
        daily_limit: Callable[[], float | None],
        credits_per_usd: Callable[[], float],
    ) -> None:
        self._session_limit = session_limit
        self._daily_limit = daily_limit
        #: The rate a charge in credits is counted at (the ``credits_per_usd`` setting).
        self.credits_per_usd = credits_per_usd
        self.spent_usd = 0.0
        self.lock = threading.Lock()

    def charged(self, estimated_usd: float, credits: int | None) -> None:
        """The service answered a create: count what it charged instead of the estimate."""
        if credits is None:
            return
        with self.lock:
            self.spent_usd += credits / self.credits_per_usd() - estimated_usd

    def check_session(self, usd: float) -> None:
        """Refuse a job that would pass this session's budget (hold :attr:`lock`)."""
        budget = self._session_limit()
        if budget is not None and self.spent_usd + usd > budget + 1e-9:
            left = max(0.0, budget - self.spent_usd)
            raise BudgetExceededError(
                messages.BUDGET_SESSION.format(usd=usd, left=left, budget=budget),
                code="budget_exceeded",
            )

    def daily_check(self, usd: float) -> Callable[[float], None] | None:
        """A check for the ledger's claim transaction, given what today already spent."""
        daily = self._daily_limit()
        if daily is None:
            return None

        def check(spent: float) -> None:
            if spent + usd > daily + 1e-9:
                raise BudgetExceededError(
                    messages.BUDGET_DAILY.format(
                        usd=usd, left=max(0.0, daily - spent), budget=daily
                    ),
                    code="budget_exceeded",
                )

        return check
