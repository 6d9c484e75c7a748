"""A user's own and the team's spend, from the gateway (``GET {prefix}api/spend``) to the
kernel's and the server's side (``jobs.team.team_spend``)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
import requests

from seedance_jupyter.jobs import team
from seedance_jupyter.jobs.team import TeamSpend, team_spend
from tests.gateway.hub import free_port
from tests.gateway.standalone import Gateway, running_gateway
from tests.scripted import Answer, ScriptedServer, Seen, accepted

pytestmark = pytest.mark.timeout(120)

PROMPT = {"model": "seedance-2.0", "prompt": "a heron", "duration": 5, "resolution": "720p"}


@pytest.fixture(scope="module")
def upstream() -> Iterator[ScriptedServer]:
    ids = itertools.count(1)

    def create(seen: Seen) -> Answer:
        return accepted(f"req_{next(ids)}")

    server = ScriptedServer(create=create)
    yield server
    server.close()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory,
            upstream: ScriptedServer) -> Iterator[Gateway]:
    for running in running_gateway(tmp_path_factory, upstream, 3600.0):
        for bearer in ("tok-ana", "tok-ben", "tok-ben"):
            answer = requests.post(running.url + "api/open/v1/video/generations", json=PROMPT,
                                   headers={"Authorization": f"Bearer {bearer}"}, timeout=60)
            assert answer.status_code == 200, answer.text
        yield running


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(team, "_cache", {})


def spend_of(gateway: Gateway, bearer: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    return requests.get(gateway.url + "api/spend", headers=headers, timeout=30)


def test_a_user_gets_their_own_and_the_teams_spend(gateway: Gateway) -> None:
    body = spend_of(gateway, "tok-ana").json()
    assert body["user"] == "ana"
    assert body["userTodayUsd"] > 0
    assert body["teamTodayUsd"] == pytest.approx(3 * body["userTodayUsd"])
    assert body["teamMonthUsd"] == pytest.approx(body["teamTodayUsd"])


def test_the_spend_needs_a_users_token(gateway: Gateway) -> None:
    answer = spend_of(gateway, None)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthorized"


def test_the_kernel_side_reads_it_with_the_hub_token(
        gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEEDANCE_GATEWAY_URL", gateway.url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "tok-ben")
    body = spend_of(gateway, "tok-ben").json()
    assert team_spend() == TeamSpend(body["userTodayUsd"], body["userMonthUsd"],
                                     body["teamTodayUsd"], body["teamMonthUsd"])
    assert body["teamTodayUsd"] == pytest.approx(1.5 * body["userTodayUsd"])


def test_without_a_gateway_there_is_no_team_spend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEEDANCE_GATEWAY_URL", raising=False)
    assert team_spend() is None


def test_a_gateway_that_does_not_answer_gives_no_number(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEEDANCE_GATEWAY_URL", f"http://127.0.0.1:{free_port()}/")
    assert team_spend(timeout=5) is None


def test_a_refused_token_gives_no_number(
        gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEEDANCE_GATEWAY_URL", gateway.url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "tok-nobody")
    assert team_spend() is None
