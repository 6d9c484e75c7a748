"""The REST endpoints: authentication, pages, errors in one envelope, cancel, spend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from seedance_jupyter.catalog import GenerationRequest
from seedance_jupyter.emulator import Emulator
from seedance_jupyter.emulator.render import render_video
from seedance_jupyter.jobs.ledger import Ledger
from seedance_jupyter.jobs.team import TeamSpend
from seedance_jupyter.server import service as server_service

from .conftest import Submitter, body, until

JOBS = ("seedance", "api", "jobs")


async def refused(fetch: Any, *parts: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(HTTPClientError) as caught:
        await fetch(*parts, **kwargs)
    response = caught.value.response
    assert response is not None
    assert response.headers["Content-Type"].startswith("application/json")
    return caught.value.code, json.loads(response.body)


def pending(ledger: Ledger, token: str, notebook: Path, request_id: str, status: str) -> None:
    """A ledger row as a kernel in ``notebook`` writes it, for a job the service accepted."""
    request = GenerationRequest.of(f"job {token}", model="seedance-2.0", duration=5,
                                   resolution="480p", aspect_ratio="16:9")
    ledger.claim(client_token=token, backend="http://127.0.0.1:1", request=request, reuse=False,
                          fingerprint=token, estimated_usd=0.25, notebook=str(notebook))
    ledger.record_submitted(token, request_id=request_id, status="queued", credits_charged=8)
    if status != "queued":
        ledger.record_status(request_id, status=status)


async def test_requests_without_a_token_are_refused_with_403(jp_fetch: Any) -> None:
    code, answer = await refused(jp_fetch, *JOBS, headers={"Authorization": ""})
    assert code == 403
    assert answer["error"]["code"] == "forbidden"


async def test_a_cookie_authenticated_post_needs_the_xsrf_token(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    token = jp_serverapp.identity_provider.token
    login = await jp_fetch("api", "status", params={"token": token}, headers={"Authorization": ""})
    cookies = "; ".join(
        value.split(";", 1)[0] for value in login.headers.get_list("Set-Cookie")
    )
    assert cookies
    no_auth = {"Authorization": ""}
    code, _ = await refused(jp_fetch, *JOBS, "req_x", "cancel", method="POST", body=b"",
                            headers={**no_auth, "Cookie": cookies})
    assert code == 403
    xsrf = "xsrf-token-for-tests"
    code, answer = await refused(
        jp_fetch, *JOBS, "req_x", "cancel", method="POST", body=b"",
        headers={**no_auth, "Cookie": f"{cookies}; _xsrf={xsrf}", "X-XSRFToken": xsrf},
    )
    assert code == 404  # past authentication and XSRF: the job is unknown
    assert answer["error"]["code"] == "not_found"


async def test_jobs_are_listed_newest_first_in_pages_with_a_cursor(
    jp_fetch: Any, ledger: Ledger, notebook_dir: Path
) -> None:
    for number in range(5):
        pending(ledger, f"tok{number}", notebook_dir, f"req_{number}", "queued")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"before": cursor} if cursor else {})}
        page = body(await jp_fetch(*JOBS, params=params))
        assert len(page["jobs"]) <= 2
        seen += [job["requestId"] for job in page["jobs"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == ["req_4", "req_3", "req_2", "req_1", "req_0"]


async def test_jobs_are_filtered_by_status_and_notebook(
    jp_fetch: Any, ledger: Ledger, notebook_dir: Path, jp_root_dir: Path
) -> None:
    other = jp_root_dir / "other"
    other.mkdir()
    film = notebook_dir / "film.ipynb"
    pending(ledger, "a", film, "req_a", "queued")
    pending(ledger, "b", film, "req_b", "succeeded")
    pending(ledger, "c", other, "req_c", "succeeded")
    pending(ledger, "d", notebook_dir / "trailer.ipynb", "req_d", "queued")
    done = body(await jp_fetch(*JOBS, params={"status": "succeeded"}))
    assert [job["requestId"] for job in done["jobs"]] == ["req_c", "req_b"]
    mine = body(await jp_fetch(*JOBS, params={"notebook": "project/film.ipynb"}))
    assert [job["requestId"] for job in mine["jobs"]] == ["req_b", "req_a"]
    assert {job["notebook"] for job in mine["jobs"]} == {"project/film.ipynb"}
    both = body(await jp_fetch(*JOBS, params={"status": "succeeded", "notebook": "other"}))
    assert [job["requestId"] for job in both["jobs"]] == ["req_c"]


async def test_a_job_names_its_notebook_and_its_video_beside_it(
    jp_fetch: Any, ledger: Ledger, notebook_dir: Path
) -> None:
    pending(ledger, "a", notebook_dir / "film.ipynb", "req_a", "succeeded")
    ledger.record_download("req_a", "seedance_outputs/req_a.mp4")
    job = body(await jp_fetch(*JOBS, "req_a"))
    assert job["notebook"] == "project/film.ipynb"
    assert job["localPath"] == "project/seedance_outputs/req_a.mp4"


async def test_a_renamed_notebooks_jobs_follow_it(
    jp_fetch: Any, ledger: Ledger, notebook_dir: Path
) -> None:
    (notebook_dir / "Untitled.ipynb").write_text(json.dumps(
        {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    pending(ledger, "a", notebook_dir / "Untitled.ipynb", "req_a", "queued")
    await jp_fetch("api", "contents", "project", "Untitled.ipynb", method="PATCH",
                   body=json.dumps({"path": "project/boats.ipynb"}))
    assert await until(lambda: ledger.by_token("a").notebook == str(  # type: ignore[union-attr]
        notebook_dir / "boats.ipynb"))
    job = body(await jp_fetch(*JOBS, "req_a"))
    assert (job["notebook"], job["notebookExists"]) == ("project/boats.ipynb", True)


async def test_a_deleted_notebook_is_named_as_gone(
    jp_fetch: Any, ledger: Ledger, notebook_dir: Path
) -> None:
    pending(ledger, "a", notebook_dir / "gone.ipynb", "req_a", "queued")
    job = body(await jp_fetch(*JOBS, "req_a"))
    assert (job["notebook"], job["notebookExists"]) == ("project/gone.ipynb", False)


async def test_origins_are_named_relative_to_the_root_never_dot_or_outside(
    jp_fetch: Any, ledger: Ledger, notebook_dir: Path, jp_root_dir: Path, tmp_path_factory: Any
) -> None:
    pending(ledger, "a", jp_root_dir, "req_a", "queued")
    pending(ledger, "b", notebook_dir, "req_b", "queued")
    pending(ledger, "c", tmp_path_factory.mktemp("elsewhere"), "req_c", "queued")
    named = {j["requestId"]: j["notebook"] for j in body(await jp_fetch(*JOBS))["jobs"]}
    assert named == {"req_a": None, "req_b": "project/", "req_c": None}


@pytest.mark.parametrize(
    ("name", "value"),
    [("limit", "0"), ("limit", "lots"), ("limit", "100000"), ("before", "not-a-cursor"),
     ("status", "finished")],
)
async def test_a_bad_query_is_a_400_envelope(jp_fetch: Any, name: str, value: str) -> None:
    code, answer = await refused(jp_fetch, *JOBS, params={name: value})
    assert code == 400
    assert answer["error"]["code"] == "invalid_request"
    assert name in answer["error"]["message"]


async def test_an_unknown_job_is_a_404_envelope(jp_fetch: Any) -> None:
    code, answer = await refused(jp_fetch, *JOBS, "req_nobody")
    assert code == 404
    assert answer["error"]["code"] == "not_found"
    assert "req_nobody" in answer["error"]["message"]


async def test_an_unknown_path_is_a_404_envelope(jp_fetch: Any) -> None:
    code, answer = await refused(jp_fetch, "seedance", "api", "nothing", "here")
    assert code == 404
    assert answer["error"]["code"] == "not_found"


async def test_one_job_is_its_summary(jp_fetch: Any, submitter: Submitter) -> None:
    record = submitter.submit()
    job = body(await jp_fetch(*JOBS, record.request_id))
    assert job["requestId"] == record.request_id
    assert job["clientToken"] == record.client_token
    assert job["status"] == "queued"
    assert job["isEmulator"] is True
    assert job["notebook"] == "project/"


async def test_cancel_reaches_the_service_and_answers_the_summary(
    jp_fetch: Any, submitter: Submitter, emulator: Emulator, ledger: Ledger
) -> None:
    record = submitter.submit()
    assert record.request_id is not None
    job = body(await jp_fetch(*JOBS, record.request_id, "cancel", method="POST", body=b""))
    assert job["status"] == "cancelled"
    cancels = [r for r in emulator.requests
               if r.method == "POST" and r.path.endswith(f"{record.request_id}/cancel")]
    assert [r.status for r in cancels] == [200]
    assert emulator.jobs(record.request_id)["status"] == "cancelled"
    assert await until(lambda: (ledger.get(record.request_id) or record).status == "cancelled")


async def test_cancelling_a_final_job_is_a_409_envelope(
    jp_fetch: Any, submitter: Submitter, ledger: Ledger, emulator: Emulator
) -> None:
    record = submitter.submit()
    assert record.request_id is not None
    ledger.record_status(record.request_id, status="succeeded")
    emulator.clear_requests()
    code, answer = await refused(jp_fetch, *JOBS, record.request_id, "cancel",
                                 method="POST", body=b"")
    assert code == 409
    assert answer["error"]["code"] == "conflict"
    assert not [r for r in emulator.requests if r.path.endswith("/cancel")]


async def test_cancelling_another_services_job_says_this_server_cannot(
    jp_fetch: Any, ledger: Ledger, notebook_dir: Path
) -> None:
    pending(ledger, "elsewhere", notebook_dir, "req_elsewhere", "processing")
    code, answer = await refused(jp_fetch, *JOBS, "req_elsewhere", "cancel",
                                 method="POST", body=b"")
    assert code == 409
    assert answer["error"]["code"] == "other_service"
    assert "http://127.0.0.1:1" in answer["error"]["message"]
    row = ledger.get("req_elsewhere")
    assert row is not None and row.status == "processing"


async def test_a_saved_video_comes_with_its_first_frame_as_poster_and_a_missing_one_without(
    jp_fetch: Any, ledger: Ledger, notebook_dir: Path
) -> None:
    pending(ledger, "saved", notebook_dir, "req_saved", "succeeded")
    pending(ledger, "gone", notebook_dir, "req_gone", "succeeded")
    (notebook_dir / "out").mkdir()
    render_video(notebook_dir / "out" / "saved.mp4", prompt="a poster", duration=1,
                 width=320, height=180)
    ledger.record_download("req_saved", "out/saved.mp4")
    ledger.record_download("req_gone", "out/gone.mp4")

    saved = body(await jp_fetch(*JOBS, "req_saved"))
    gone = body(await jp_fetch(*JOBS, "req_gone"))
    assert saved["localPath"] == "project/out/saved.mp4"
    assert saved["posterDataUri"].startswith("data:image/jpeg;base64,/9j/")  # a JPEG's SOI
    assert gone["posterDataUri"] is None


async def test_spend_totals_come_from_the_ledger_with_the_configured_budgets(
    jp_fetch: Any, submitter: Submitter, extension: Any
) -> None:
    extension.budget_usd = 10.0
    extension.daily_budget_usd = 2.5
    submitter.submit("one")
    submitter.submit("two")
    spend = body(await jp_fetch("seedance", "api", "spend"))
    assert spend["todayUsd"] == pytest.approx(0.5)
    assert spend["monthUsd"] == pytest.approx(0.5)
    assert spend["budgetUsd"] == 10.0
    assert spend["dailyBudgetUsd"] == 2.5
    assert spend["byModel"] == [
        {"model": "seedance-2.0", "jobs": 2, "usd": pytest.approx(0.5),
         "credits": spend["byModel"][0]["credits"]},
    ]
    assert spend["byModel"][0]["credits"] > 0


async def test_spend_counts_what_the_service_charged_at_the_configured_rate(
    jp_fetch: Any, submitter: Submitter, extension: Any
) -> None:
    extension.credits_per_usd = 40.0  # the emulator charges 20 credits for a $0.25 job
    submitter.submit("one")
    spend = body(await jp_fetch("seedance", "api", "spend"))
    assert spend["todayUsd"] == pytest.approx(0.5)
    assert spend["byModel"][0]["credits"] == 20


async def test_spend_without_the_team_gateway_has_no_gateway_totals(
    jp_fetch: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SEEDANCE_GATEWAY_URL", raising=False)
    assert "gateway" not in body(await jp_fetch("seedance", "api", "spend"))


async def test_spend_with_the_team_gateway_carries_the_users_and_the_teams_totals(
    jp_fetch: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEDANCE_GATEWAY_URL", "https://hub.example.org/services/seedance/")
    monkeypatch.setattr(server_service, "team_spend", lambda: TeamSpend(1.0, 2.0, 5.0, 9.0))
    spend = body(await jp_fetch("seedance", "api", "spend"))
    assert spend["gateway"] == {"userTodayUsd": 1.0, "userMonthUsd": 2.0,
                                "teamTodayUsd": 5.0, "teamMonthUsd": 9.0}


async def test_spend_says_null_when_the_team_gateway_did_not_answer(
    jp_fetch: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEDANCE_GATEWAY_URL", "https://hub.example.org/services/seedance/")
    monkeypatch.setattr(server_service, "team_spend", lambda: None)
    assert body(await jp_fetch("seedance", "api", "spend"))["gateway"] is None
