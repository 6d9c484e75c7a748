"""The server extension on a team's PostgreSQL ledger: this user's jobs and spend by
default, everyone's when asked, and the events stream fed by another process's writes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from seedance_jupyter.jobs.ledger import Ledger

from .conftest import Submitter, body, until
from .test_events import Stream

_COLLEAGUE = """
import sys
from seedance_jupyter.catalog import GenerationRequest
from seedance_jupyter.jobs.backend import backend_key_from_env
from seedance_jupyter.jobs.ledger import Ledger
with Ledger(sys.argv[1], user="ben") as ledger:
    ledger.claim(client_token="ben-1", backend=backend_key_from_env(),
                 request=GenerationRequest("ben's take", duration=5, resolution="480p"),
                 fingerprint="ben", estimated_usd=3.0)
"""
_OTHER_PROCESS = """
import sys
from seedance_jupyter.jobs.ledger import Ledger
with Ledger(sys.argv[1]) as ledger:
    ledger.record_status(sys.argv[2], status="processing")
"""
JOBS = ("seedance", "api", "jobs")
SPEND = ("seedance", "api", "spend")


@pytest.fixture
def seedance_config(postgres_url: str) -> dict[str, Any]:
    return {"watch_orphans": False, "events_interval": 0.2, "db_url": postgres_url}


@pytest.fixture
def ledger(seedance_home: Any, postgres_url: str) -> Iterator[Ledger]:
    """The team's ledger, as this user's kernel opens it."""
    with Ledger(postgres_url) as opened:
        yield opened


async def test_the_list_shows_this_users_jobs_unless_the_team_is_asked_for(
    jp_fetch: Any, submitter: Submitter, postgres_url: str, ledger: Ledger
) -> None:
    mine = submitter.submit()
    subprocess.run([sys.executable, "-c", _COLLEAGUE, postgres_url], check=True, timeout=60)
    own = body(await jp_fetch(*JOBS))["jobs"]
    team = body(await jp_fetch(*JOBS, params={"team": "1"}))["jobs"]
    assert [j["clientToken"] for j in own] == [mine.client_token]
    assert own[0]["user"] == ledger.user
    assert {j["user"] for j in team} == {ledger.user, "ben"}


async def test_spend_is_this_users_and_the_team_is_broken_down_by_user(
    jp_fetch: Any, submitter: Submitter, postgres_url: str, ledger: Ledger
) -> None:
    submitter.submit()
    subprocess.run([sys.executable, "-c", _COLLEAGUE, postgres_url], check=True, timeout=60)
    own = body(await jp_fetch(*SPEND))
    team = body(await jp_fetch(*SPEND, params={"team": "1"}))
    assert (own["user"], own["todayUsd"]) == (ledger.user, 0.25)
    assert team["todayUsd"] == 3.25
    assert {u["user"]: u["monthUsd"] for u in team["byUser"]} == {ledger.user: 0.25, "ben": 3.0}


async def test_a_change_written_by_another_host_is_streamed(
    http_server_client: Any, jp_http_port: int, jp_base_url: str,
    jp_auth_header: dict[str, str], submitter: Submitter, postgres_url: str,
) -> None:
    stream = Stream(f"http://127.0.0.1:{jp_http_port}{jp_base_url}seedance/api/events",
                    jp_auth_header)
    try:
        assert await until(lambda: ": connected" in stream.text, 10)
        record = submitter.submit()
        assert record.request_id is not None
        subprocess.run([sys.executable, "-c", _OTHER_PROCESS, postgres_url, record.request_id],
                       check=True, timeout=60)

        def processing() -> bool:
            return any(job["requestId"] == record.request_id and job["status"] == "processing"
                       for job in stream.events("job"))

        assert await until(processing, 20)
        assert stream.events("spend")[-1]["todayUsd"] == 0.25
    finally:
        stream.close()


async def test_the_watcher_leaves_a_colleagues_unpolled_job_to_their_server(
    extension: Any, postgres_url: str
) -> None:
    subprocess.run([sys.executable, "-c", _COLLEAGUE + _ACCEPTED, postgres_url], check=True,
                   timeout=60)
    assert extension.jobs.adopt_orphans() == 0


_ACCEPTED = """
    ledger.record_submitted("ben-1", request_id="req_ben", status="queued", credits_charged=8)
"""
