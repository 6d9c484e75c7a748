"""Budgets: a per-service-instance cap, and per-user and whole-team caps read from the ledger."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .. import messages
from ..errors import BudgetExceededError
from .ledger import Spent
from .settings import ServiceSettings

__all__ = ["Budget", "local_midnight", "month_start"]


def local_midnight(now: float | None = None) -> float:
    """The start of today, local time, as a Unix timestamp."""
    day = time.localtime(time.time() if now is None else now)
    return time.mktime((*day[:3], 0, 0, 0, 0, 0, -1))


def month_start(now: float | None = None) -> float:
    """The start of this calendar month, local time, as a Unix timestamp."""
    day = time.localtime(time.time() if now is None else now)
    return time.mktime((day[0], day[1], 1, 0, 0, 0, 0, 0, -1))


class Budget:
    """Money this process has committed, checked against limits read at each call
    (from the settings, so a ``%config`` change applies to the very next submission)."""

    def __init__(self, settings: ServiceSettings) -> None:
        self._settings = settings
        self.spent_usd = 0.0
        self.lock = threading.Lock()

    def credits_per_usd(self) -> float:
        """The rate a charge in credits is counted at (the ``credits_per_usd`` setting).

        A job counts at its estimate until the service says what it charged, then at
        that charge.
        """
        return self._settings.credits_per_usd

    def charged(self, estimated_usd: float, credits: int | None) -> None:
        """The service answered a create: count what it charged instead of the estimate."""
        if credits is None:
            return
        with self.lock:
            self.spent_usd += credits / self.credits_per_usd() - estimated_usd

    def check_session(self, usd: float) -> None:
        """Refuse a job that would pass this session's budget (hold :attr:`lock`)."""
        budget = self._settings.budget_usd
        if budget is not None and self.spent_usd + usd > budget + 1e-9:
            left = max(0.0, budget - self.spent_usd)
            raise BudgetExceededError(
                messages.BUDGET_SESSION.format(usd=usd, left=left, budget=budget),
                code="budget_exceeded",
            )

    def ledger_check(self, usd: float) -> Callable[[Spent], None] | None:
        """A check for the ledger's claim transaction, given what is already spent:
        this user's day, the team's day and the team's month. None: no such budget."""
        limits = [
            (self._settings.daily_budget_usd, messages.BUDGET_DAILY, "user_today"),
            (self._settings.team_daily_budget_usd, messages.BUDGET_TEAM_DAILY, "team_today"),
            (self._settings.team_monthly_budget_usd, messages.BUDGET_TEAM_MONTHLY, "team_month"),
        ]
        limits = [limit for limit in limits if limit[0] is not None]
        if not limits:
            return None

        def check(spent: Spent) -> None:
            for budget, message, field in limits:
                assert budget is not None
                already = float(getattr(spent, field))
                if already + usd > budget + 1e-9:
                    raise BudgetExceededError(
                        message.format(usd=usd, left=max(0.0, budget - already), budget=budget),
                        code="budget_exceeded",
                    )

        return check

    @property
    def needs_month(self) -> bool:
        """Whether a claim must sum this month's spend (a team monthly budget is set)."""
        return self._settings.team_monthly_budget_usd is not None
