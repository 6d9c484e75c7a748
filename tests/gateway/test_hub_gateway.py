"""End to end: a real JupyterHub runs the gateway as a managed service on PostgreSQL,
in front of a scripted upstream that delivers signed webhooks."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from seedance_jupyter.media.refs import from_bytes
from seedance_jupyter.media.stores import GatewayStore
from tests.gateway.hub import TEAM_KEY, Hub, Upstream, wait_for
from tests.kernel_harness import Kernel, display_ids
from tests.media.conftest import LIMITS, png
from tests.postgres import PostgresServer

pytestmark = pytest.mark.timeout(300)

PROMPT = {"model": "seedance-2.0", "prompt": "a red kite over a beach", "duration": 5,
          "resolution": "720p"}
USER_DAILY = 1.5  # three 0.50 USD jobs
TEAM_DAILY = 12.0


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.close()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, upstream: Upstream,
        postgres_server: PostgresServer) -> Iterator[Hub]:
    if not Path(__file__).resolve().parents[2].joinpath(
            "node_modules/.bin/configurable-http-proxy").exists():
        pytest.fail("configurable-http-proxy is missing: run jlpm install")
    running = Hub(tmp_path_factory.mktemp("hub"), upstream, postgres_server.new_database(), {
        "user_daily_budget_usd": USER_DAILY, "team_daily_budget_usd": TEAM_DAILY,
        "admin_users": ["boss"],
    })
    yield running
    running.close()


def create(hub: Hub, user: str, key: str | None = None) -> dict:
    headers = {"Idempotency-Key": key} if key else None
    answer = hub.call("POST", "/video/generations", user=user, body=PROMPT, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_no_token_is_401_unauthorized(hub: Hub) -> None:
    answer = hub.call("GET", "/video/generations/req_1")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthorized"


def test_a_bad_token_is_401_and_nothing_is_sent(hub: Hub, upstream: Upstream) -> None:
    before = upstream.posts()
    answer = hub.call("POST", "/video/generations", token="not-a-hub-token", body=PROMPT)
    assert answer.status_code == 401
    assert answer.json() == {"success": False, "error": {
        "code": "unauthorized", "message": answer.json()["error"]["message"]}}
    assert upstream.posts() == before


def test_a_token_without_the_service_scope_is_401(hub: Hub) -> None:
    hub.token("nina")
    bare = hub.api("POST", "/users/nina/tokens", {"scopes": ["read:users:name!user=nina"]})
    answer = hub.call("POST", "/video/generations", token=bare["token"], body=PROMPT)
    assert answer.status_code == 401


def test_the_models_need_no_token_as_the_services_own(hub: Hub) -> None:
    answer = hub.call("GET", "/models")
    assert answer.status_code == 200
    assert answer.json()["success"] is True


def test_create_answers_the_contract_and_forwards_no_hub_token(
        hub: Hub, upstream: Upstream) -> None:
    job = create(hub, "alice")
    assert set(job) == {"success", "requestId", "status", "creditsCharged"}
    seen = [s for s in upstream.server.seen if s.method == "POST"]
    assert seen[-1].authorization == f"Bearer {TEAM_KEY}"
    assert all(hub.token("alice") not in (s.authorization or "") for s in upstream.server.seen)


def test_another_users_job_is_404_not_found(hub: Hub) -> None:
    job = create(hub, "alice")
    answer = hub.call("GET", f"/video/generations/{job['requestId']}", user="bob")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    cancel = hub.call("POST", f"/video/generations/{job['requestId']}/cancel", user="bob")
    assert cancel.status_code == 404


def test_an_admin_sees_every_users_job(hub: Hub) -> None:
    job = create(hub, "alice")
    answer = hub.call("GET", f"/video/generations/{job['requestId']}", user="boss")
    assert answer.status_code == 200
    assert answer.json()["requestId"] == job["requestId"]


def test_a_retried_create_with_the_same_key_is_the_same_job_posted_once(
        hub: Hub, upstream: Upstream) -> None:
    before = upstream.posts()
    first = create(hub, "dora", key="sjt_same-key-1")
    again = create(hub, "dora", key="sjt_same-key-1")
    assert again["requestId"] == first["requestId"]
    assert upstream.posts() == before + 1


def test_the_same_key_from_another_user_is_another_job(hub: Hub) -> None:
    first = create(hub, "dora", key="sjt_shared-key")
    other = create(hub, "erik", key="sjt_shared-key")
    assert other["requestId"] != first["requestId"]


def test_the_users_daily_budget_refuses_with_402_naming_it_and_sends_nothing(
        hub: Hub, upstream: Upstream) -> None:
    for _ in range(3):
        create(hub, "carol")
    before = upstream.posts()
    answer = hub.call("POST", "/video/generations", user="carol", body=PROMPT)
    assert answer.status_code == 402
    error = answer.json()["error"]
    assert error["code"] == "insufficient_credits"
    assert "Your daily budget" in error["message"]
    assert "$0.00 of your $1.50 for today is left" in error["message"]
    assert upstream.posts() == before


def test_a_webhook_finishes_the_job_for_its_user_without_status_polls(
        hub: Hub, upstream: Upstream) -> None:
    job = create(hub, "fay")
    request_id = job["requestId"]
    assert upstream.webhook_url(request_id).startswith(hub.gateway + "webhook/")
    assert upstream.deliver(request_id).status_code == 200
    status = hub.call("GET", f"/video/generations/{request_id}", user="fay").json()
    assert status["status"] == "succeeded"
    assert status["output"]["url"].endswith(f"/out/{request_id}.mp4")
    assert upstream.status_gets(request_id) == 0


def test_a_badly_signed_webhook_changes_nothing(hub: Hub, upstream: Upstream) -> None:
    job = create(hub, "gus")
    answer = upstream.deliver(job["requestId"], secret="not-the-secret")
    assert answer.status_code == 401
    status = hub.call("GET", f"/video/generations/{job['requestId']}", user="gus").json()
    assert status["status"] == "queued"


def test_the_team_key_is_in_no_answer(hub: Hub, upstream: Upstream) -> None:
    job = create(hub, "hana")
    upstream.deliver(job["requestId"])
    answers = [
        hub.call("GET", "/models", user="hana"),
        hub.call("GET", f"/video/generations/{job['requestId']}", user="hana"),
        hub.call("POST", f"/video/generations/{job['requestId']}/cancel", user="hana"),
        hub.call("POST", "/video/generations", user="hana", body={"prompt": 3}),
        hub.call("GET", "/nowhere", user="hana"),
    ]
    for answer in answers:
        assert TEAM_KEY not in answer.text
        assert TEAM_KEY not in str(answer.headers)


def test_the_gateway_restarted_mid_job_loses_none(hub: Hub, upstream: Upstream) -> None:
    jobs = [create(hub, "ivan")["requestId"] for _ in range(2)]
    posts = upstream.posts()
    (pid,) = hub.gateway_pids()
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: hub.gateway_pids() not in ([], [pid]), 90, "the Hub restarting the gateway")
    wait_for(lambda: hub.call("GET", "/models", user="ivan").status_code == 200, 90,
             "the restarted gateway answering")
    for request_id in jobs:
        assert upstream.deliver(request_id).status_code == 200
        status = hub.call("GET", f"/video/generations/{request_id}", user="ivan").json()
        assert status["status"] == "succeeded"
    assert upstream.posts() == posts


def test_a_kernel_with_only_the_gateway_url_and_a_hub_token_makes_and_finishes_a_job(
        hub: Hub, upstream: Upstream, tmp_path: Path) -> None:
    env = {"SEEDANCE_GATEWAY_URL": hub.gateway.rstrip("/"),
           "JUPYTERHUB_API_TOKEN": hub.token("judy"), "JUPYTERHUB_USER": "judy",
           "SEEDANCE_HOME": str(tmp_path / "home")}
    kernel = Kernel(tmp_path, {**env, "SEEDANCE_API_KEY": "", "SEEDANCE_BASE_URL": ""})
    try:
        environment = kernel.execute("import os; print(sorted(os.environ.values()))")
        assert TEAM_KEY not in environment.stdout()
        kernel.execute("%load_ext seedance_jupyter")
        before = upstream.posts()
        finisher = _finish_when_posted(upstream, before)
        cell = kernel.execute(
            "%%seedance --wait --no-download -d 5 -r 720p\na heron in the reeds", timeout=120)
        finisher.join(60)
        [display_id] = display_ids(cell)

        def shown(_: object = None) -> str:
            return "".join(m["content"].get("data", {}).get("text/html", "")
                           for m in cell.outputs + kernel.updates(display_id))

        kernel.wait_for(lambda _: "seedance-status-succeeded" in shown(), 60)
        assert "seedance-status-succeeded" in shown(), cell.text()
        assert upstream.posts() == before + 1
        assert "backend: team" in shown()
        hub_token = env["JUPYTERHUB_API_TOKEN"]
        assert all(hub_token not in (seen.authorization or "") for seen in upstream.server.seen)
    finally:
        kernel.shutdown()


def _browser(hub: Hub, user: str) -> requests.Session:
    """A browser session logged in to the Hub (DummyAuthenticator) as ``user``."""
    session = requests.Session()
    session.get(f"{hub.url}/hub/login", timeout=30)
    session.post(f"{hub.url}/hub/login", timeout=30, data={
        "username": user, "password": "any", "_xsrf": session.cookies.get("_xsrf", "")})
    return session


def test_the_admin_page_shows_an_admin_every_users_jobs(hub: Hub) -> None:
    mine = create(hub, "kate")["requestId"]
    page = _browser(hub, "boss").get(hub.gateway, timeout=60)
    assert page.status_code == 200
    assert mine in page.text and "kate" in page.text
    assert ">team<" in page.text


def test_the_admin_page_shows_a_user_only_their_own_jobs(hub: Hub) -> None:
    theirs = create(hub, "kate")["requestId"]
    mine = create(hub, "liam")["requestId"]
    page = _browser(hub, "liam").get(hub.gateway, timeout=60)
    assert page.status_code == 200
    assert mine in page.text
    assert theirs not in page.text


# Last: it spends what is left of the team's day.
def test_the_teams_daily_budget_refuses_with_402_naming_it_and_sends_nothing(
        hub: Hub, upstream: Upstream) -> None:
    refusal = None
    for n in range(40):
        for _ in range(3):
            before = upstream.posts()
            answer = hub.call("POST", "/video/generations", user=f"member{n}", body=PROMPT)
            if answer.status_code == 402:
                refusal = answer.json()["error"]["message"]
                assert upstream.posts() == before
                break
            assert answer.status_code == 200, answer.text
        if refusal is not None:
            break
    assert refusal is not None
    assert "team's daily budget" in refusal
    assert "of the team's $12.00 for today is left" in refusal


def _finish_when_posted(upstream: Upstream, before: int) -> threading.Thread:
    """Deliver the webhook of the next job the upstream gets, once it is posted."""
    def run() -> None:
        wait_for(lambda: upstream.posts() > before, 60, "the kernel's create upstream")
        request_id = max(upstream.jobs, key=lambda rid: int(rid.split("_")[1]))
        upstream.deliver(request_id)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread



def test_a_users_media_is_published_through_the_hub_and_read_there_with_no_login(
        hub: Hub) -> None:
    data = png(11)
    url = GatewayStore(hub.gateway, hub.token("mia")).publish(from_bytes("kite.png", data, LIMITS))
    assert url.startswith(hub.gateway + "media/")
    answer = requests.get(url, timeout=30)
    assert (answer.status_code, answer.headers["Content-Type"]) == (200, "image/png")
    assert answer.content == data
