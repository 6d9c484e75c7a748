"""The team gateway's totals for this user and the whole team, for the form and status bar.

Only the gateway's ledger knows the team's spend: ``GET {gateway}api/spend`` with
the hub token (to the gateway's URL only, no redirects). Asked at most every
:data:`TEAM_SPEND_MAX_AGE_S` seconds per process; None when there is no gateway
or it did not answer (the caller says so rather than showing a wrong number).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests

from ..paths import GATEWAY_URL_ENV

__all__ = ["TEAM_SPEND_MAX_AGE_S", "TeamSpend", "team_spend"]

TEAM_SPEND_MAX_AGE_S = 10.0
_cache: dict[str, tuple[float, TeamSpend | None]] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class TeamSpend:
    """USD today and this month: the user's own and the team's (charges, else estimates)."""

    user_today: float
    user_month: float
    team_today: float
    team_month: float

    def to_json(self) -> dict[str, Any]:
        return {"userTodayUsd": self.user_today, "userMonthUsd": self.user_month,
                "teamTodayUsd": self.team_today, "teamMonthUsd": self.team_month}


def team_spend(timeout: float = 10.0) -> TeamSpend | None:
    """The gateway's answer (cached briefly), or None: no gateway, or it did not answer."""
    gateway = os.environ.get(GATEWAY_URL_ENV)
    if not gateway:
        return None
    url = gateway.rstrip("/") + "/api/spend"
    with _lock:
        cached = _cache.get(url)
        if cached is not None and time.monotonic() - cached[0] < TEAM_SPEND_MAX_AGE_S:
            return cached[1]
    found = _ask(url, timeout)
    with _lock:
        _cache[url] = (time.monotonic(), found)
    return found


def _ask(url: str, timeout: float) -> TeamSpend | None:
    token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
    try:
        answer = requests.get(url, headers={"Authorization": f"Bearer {token}"},
                              timeout=timeout, allow_redirects=False)
        body = answer.json() if answer.status_code == 200 else {}
        return TeamSpend(float(body["userTodayUsd"]), float(body["userMonthUsd"]),
                         float(body["teamTodayUsd"]), float(body["teamMonthUsd"]))
    except (requests.RequestException, ValueError, KeyError, TypeError):
        return None
