"""Spend today and this month, per user and for the team, from the gateway's ledger.

The admin page shows it as a table; ``GET {prefix}api/spend`` gives a user their
own and the team's totals (what the form and the status bar show as "team").
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..jobs.budget import local_midnight, month_start
from .handlers import GatewayHandler
from .service import GatewayService

__all__ = ["TEAM", "SpendHandler", "spend_by_user", "user_spend"]

#: The key of the whole team's totals in :func:`spend_by_user`.
TEAM = "team"


def spend_by_user(service: GatewayService,
                  user: str | None) -> tuple[dict[str, float], dict[str, float]]:
    """USD today and this month by user name, plus :data:`TEAM` (``user``: only theirs
    in the per-user keys; the team's total is always everyone's)."""
    today: dict[str, float] = defaultdict(float)
    month: dict[str, float] = defaultdict(float)
    for since, into in ((local_midnight(), today), (month_start(), month)):
        for row in service.ledger.spend(since=since, backend=service.backend.key, user=None,
                                        per_user=True):
            usd = row.usd + row.uncertain_usd
            into[TEAM] += usd
            if user is None or row.user_name == user:
                into[row.user_name or "?"] += usd
    return today, month


def user_spend(service: GatewayService, user: str) -> dict[str, Any]:
    """The answer of ``GET {prefix}api/spend``: the caller's and the team's totals."""
    today, month = spend_by_user(service, user)
    budgets = service.config.budgets
    return {
        "success": True, "user": user,
        "userTodayUsd": today.get(user, 0.0), "userMonthUsd": month.get(user, 0.0),
        "teamTodayUsd": today.get(TEAM, 0.0), "teamMonthUsd": month.get(TEAM, 0.0),
        "budgets": {"userDaily": budgets.get("user_daily"),
                    "userMonthly": budgets.get("user_monthly"),
                    "teamDaily": budgets.get("team_daily"),
                    "teamMonthly": budgets.get("team_monthly")},
    }


class SpendHandler(GatewayHandler):
    """``GET {prefix}api/spend`` with the user's token."""

    async def get(self) -> None:
        user = await self.user()
        if user is not None:
            await self.answer(user_spend, self.service, user)
