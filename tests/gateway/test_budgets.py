"""The gateway's monthly budget per user: counted from the shared ledger, worded for its users."""

from __future__ import annotations

from pathlib import Path

import pytest

from seedance_jupyter import messages
from seedance_jupyter.catalog import GenerationRequest
from seedance_jupyter.errors import BudgetExceededError
from seedance_jupyter.jobs.budget import Budget
from seedance_jupyter.jobs.ledger import Ledger, Spent
from seedance_jupyter.jobs.settings import JobSettings

REQUEST = GenerationRequest(prompt="a fox", duration=5, resolution="720p")


def test_spent_counts_this_users_month_beside_the_teams(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    with Ledger(url, user="ana") as ana, Ledger(url, user="ben") as ben:
        ana.claim(client_token="a1", backend="live", request=REQUEST, fingerprint="a",
                  estimated_usd=0.5)
        ben.claim(client_token="b1", backend="live", request=REQUEST, fingerprint="b",
                  estimated_usd=2.0)
        assert ana.spent("live", day_start=0.0, month_start=0.0).user_month == 0.5


def test_a_users_monthly_limit_refuses_naming_it_and_what_is_left() -> None:
    budget = Budget(JobSettings(), [
        (lambda: 1.0, messages.GATEWAY_BUDGET_USER_MONTHLY, "user_month")])
    check = budget.ledger_check(0.5)
    assert check is not None and budget.needs_month
    check(Spent(user_today=0.0, team_today=0.0, team_month=0.0, user_month=0.5))
    with pytest.raises(BudgetExceededError, match=r"Your monthly budget.*only \$0\.20 of your "
                       r"\$1\.00 for this month is left"):
        check(Spent(user_today=0.0, team_today=0.0, team_month=0.0, user_month=0.8))
