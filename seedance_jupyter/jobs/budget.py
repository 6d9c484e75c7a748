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

    ``session_limit`` and ``daily_limit`` are callables so a ``%config`` change
    applies to the very next submission.
    """

    def __init__(
        self,
        session_limit: Callable[[], float | None],
        daily_limit: Callable[[], float | None],
    ) -> None:
        self._session_limit = session_limit
        self._daily_limit = daily_limit
        self.spent_usd = 0.0
        self.lock = threading.Lock()

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
