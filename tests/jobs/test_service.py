"""JobService and Job at their own level: a scripted jobs API, no HTTP, no kernel."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from seedance_jupyter.api.types import JobState
from seedance_jupyter.catalog import Catalog, GenerationRequest
from seedance_jupyter.errors import AmbiguousSubmitError, BudgetExceededError, WaitTimeoutError
from seedance_jupyter.jobs.backend import Backend
from seedance_jupyter.jobs.client import Client
from seedance_jupyter.jobs.handle import Job
from seedance_jupyter.jobs.ledger import Ledger
from seedance_jupyter.jobs.service import JobService
from seedance_jupyter.webhooks import sign_webhook_body

from ..helpers import Settings


class FakeGenerations:
    """The generations resource, scripted: what create/get/cancel answer, and a log."""

    def __init__(self, ledger_path: Path) -> None:
        self.ledger_path = ledger_path
        self.calls: list[tuple[str, str]] = []
        self.states: dict[str, JobState] = {}
        self.fail_create: Exception | None = None
        self.rows_seen_at_create: list[str] = []

    def create(
        self, request: GenerationRequest, *, client_token: str | None = None, **_: object
    ) -> JobState:
        with Ledger(self.ledger_path) as ledger:
            row = ledger.by_token(client_token or "")
            self.rows_seen_at_create.append(row.status if row else "missing")
        self.calls.append(("create", client_token or ""))
        if self.fail_create is not None:
            raise self.fail_create
        request_id = f"req_{len(self.states) + 1}"
        self.states[request_id] = JobState(request_id, "queued", credits_charged=40)
        return self.states[request_id]

    def get(self, request_id: str, *, retry: bool = True) -> JobState:
        self.calls.append(("get", request_id))
        return self.states[request_id]

    def cancel(self, request_id: str) -> JobState:
        self.calls.append(("cancel", request_id))
        self.states[request_id] = JobState(request_id, "cancelled")
        return self.states[request_id]

    def finish(self, request_id: str) -> None:
        self.states[request_id] = JobState(
            request_id, "succeeded", output_url="https://cdn.example/v.mp4"
        )


@pytest.fixture
def api(tmp_path: Path) -> FakeGenerations:
    return FakeGenerations(tmp_path / "ledger.sqlite3")


def service_over(api: FakeGenerations, origin: str | None = None, **settings: Any) -> JobService:
    """A service whose generations resource is ``api``, with the documented catalogue."""
    client = Client(api_key="k", base_url="https://service.example")
    client.models._catalog = Catalog.documented()
    client.generations = api  # type: ignore[assignment]
    backend = Backend(client, "https://service.example", "fake", False)
    return JobService(Settings(**settings), backend=backend, ledger=Ledger(api.ledger_path),
                      origin=origin)


@pytest.fixture
def service(api: FakeGenerations) -> Iterator[JobService]:
    svc = service_over(api)
    yield svc
    svc.close()


def test_the_ledger_row_exists_before_the_create_is_sent(
    service: JobService, api: FakeGenerations
) -> None:
    service.submit(service.prepare("a kite"))
    assert api.rows_seen_at_create == ["pending"]


def test_the_request_id_is_recorded_after_the_create(
    service: JobService, api: FakeGenerations
) -> None:
    job = service.submit(service.prepare("a kite")).job
    record = service.ledger.get(job.request_id)
    assert record is not None and record.status == "queued" and record.credits_charged == 40


def test_an_identical_rerun_reattaches_without_a_create(
    service: JobService, api: FakeGenerations
) -> None:
    first = service.submit(service.prepare("a kite")).job
    again = service.submit(service.prepare("a  kite"))
    assert again.job is first
    assert again.notice is not None
    assert [c for c, _ in api.calls].count("create") == 1


def test_an_identical_job_of_another_notebook_is_not_reused(api: FakeGenerations) -> None:
    here, there = service_over(api, "/work/a.ipynb"), service_over(api, "/work/b.ipynb")
    try:
        here.submit(here.prepare("a kite"))
        there.submit(there.prepare("a kite"))
    finally:
        here.close()
        there.close()
    assert [c for c, _ in api.calls].count("create") == 2


def test_reuse_across_notebooks_reattaches_and_names_where_the_job_came_from(
    api: FakeGenerations,
) -> None:
    here = service_over(api, "/work/a.ipynb")
    there = service_over(api, "/work/b.ipynb", reuse_across_notebooks=True)
    try:
        first = here.submit(here.prepare("a kite")).job
        again = there.submit(there.prepare("a kite"))
    finally:
        here.close()
        there.close()
    assert again.job.request_id == first.request_id
    assert again.notice is not None and "/work/a.ipynb" in again.notice
    assert [c for c, _ in api.calls].count("create") == 1


def test_force_new_pays_again(service: JobService, api: FakeGenerations) -> None:
    service.submit(service.prepare("a kite"))
    service.submit(service.prepare("a kite"), force_new=True)
    assert [c for c, _ in api.calls].count("create") == 2


def test_an_uncertain_submission_blocks_identical_reruns(
    service: JobService, api: FakeGenerations
) -> None:
    api.fail_create = AmbiguousSubmitError("lost", client_token="t")
    with pytest.raises(AmbiguousSubmitError):
        service.submit(service.prepare("a kite"))
    api.fail_create = None
    with pytest.raises(AmbiguousSubmitError):
        service.submit(service.prepare("a kite"))
    assert [c for c, _ in api.calls].count("create") == 1


def test_the_session_budget_refuses_before_anything_is_sent(
    api: FakeGenerations, tmp_path: Path
) -> None:
    svc = service_over(api, budget_usd=0.6)
    try:
        svc.submit(svc.prepare("first"))
        with pytest.raises(BudgetExceededError):
            svc.submit(svc.prepare("second"))
    finally:
        svc.close()
    assert [c for c, _ in api.calls].count("create") == 1


def test_a_budget_change_applies_to_the_next_submission(
    service: JobService, api: FakeGenerations
) -> None:
    service.settings.budget_usd = 0.1  # type: ignore[misc]
    with pytest.raises(BudgetExceededError):
        service.submit(service.prepare("a kite"))
    assert api.calls == []


def test_resume_reattaches_unfinished_jobs_of_an_earlier_process(
    service: JobService, api: FakeGenerations
) -> None:
    job = service.submit(service.prepare("a kite")).job
    api.finish(job.request_id)
    later = JobService(service.settings, backend=service.backend,
                       ledger=Ledger(api.ledger_path))
    resumed = later.resume()
    assert [j.request_id for j in resumed] == [job.request_id]
    assert resumed[0].status == "succeeded"


def test_a_signed_webhook_finishes_the_job_and_a_replay_changes_nothing(
    service: JobService, api: FakeGenerations
) -> None:
    job = service.submit(service.prepare("a kite")).job
    body = json.dumps({"success": True, "requestId": job.request_id, "status": "succeeded",
                       "output": {"type": "video", "url": "https://cdn.example/a.mp4"},
                       "error": None}).encode()
    service.apply_webhook(body, sign_webhook_body(body, "s3"), "s3")
    assert job.status == "succeeded"
    replay = body.replace(b"a.mp4", b"b.mp4")
    service.apply_webhook(replay, sign_webhook_body(replay, "s3"), "s3")
    assert job.output_url == "https://cdn.example/a.mp4"


def test_a_webhook_with_a_wrong_signature_changes_nothing(
    service: JobService, api: FakeGenerations
) -> None:
    from seedance_jupyter.errors import SeedanceError

    job = service.submit(service.prepare("a kite")).job
    body = json.dumps({"success": True, "requestId": job.request_id,
                       "status": "failed", "output": None, "error": None}).encode()
    with pytest.raises(SeedanceError):
        service.apply_webhook(body, "0" * 64, "s3")
    assert job.status == "queued"


def test_a_terminal_job_state_is_never_replaced(api: FakeGenerations) -> None:
    job = Job(api, JobState("req_x", "succeeded", output_url="https://cdn.example/v.mp4"))
    assert not job.update(JobState("req_x", "processing"))
    assert job.status == "succeeded"


def test_an_answer_for_another_job_is_ignored(api: FakeGenerations) -> None:
    job = Job(api, JobState("req_x", "queued"))
    assert not job.update(JobState("req_y", "succeeded"))


def test_a_cancel_answer_keeps_what_it_leaves_out(api: FakeGenerations) -> None:
    api.states["req_x"] = JobState("req_x", "processing", credits_charged=40)
    job = Job(api, api.states["req_x"])
    job.cancel()
    assert job.status == "cancelled" and job.credits_charged == 40


def test_wait_honours_its_timeout(api: FakeGenerations) -> None:
    api.states["req_x"] = JobState("req_x", "processing")
    job = Job(api, api.states["req_x"])
    with pytest.raises(WaitTimeoutError):
        job.wait(timeout=0.3)


class RecordingGenerations(FakeGenerations):
    def __init__(self, ledger_path: Path) -> None:
        super().__init__(ledger_path)
        self.sent: list[GenerationRequest] = []

    def create(
        self, request: GenerationRequest, *, client_token: str | None = None, **_: object
    ) -> JobState:
        self.sent.append(request)
        return super().create(request, client_token=client_token)


def test_a_webhook_url_with_a_token_field_names_its_submission(
    tmp_path: Path,
) -> None:
    api = RecordingGenerations(tmp_path / "ledger.sqlite3")
    svc = service_over(api)
    try:
        job = svc.submit(svc.prepare("a kite", webhook_url="https://hooks.example/w/{token}")).job
        record = svc.ledger.get(job.request_id)
    finally:
        svc.close()
    assert record is not None
    assert api.sent[0].webhook_url == f"https://hooks.example/w/{record.client_token}"
    assert record.webhook_url == "https://hooks.example/w/{token}"


def test_an_announced_server_receives_the_webhooks_of_plain_submissions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEDANCE_HOME", str(tmp_path))
    (tmp_path / "server.json").write_text(
        json.dumps({"publicUrl": "https://hub.example", "baseUrl": "/user/ada/"})
    )
    api = RecordingGenerations(tmp_path / "ledger.sqlite3")
    svc = service_over(api)
    try:
        job = svc.submit(svc.prepare("a kite")).job
        record = svc.ledger.get(job.request_id)
    finally:
        svc.close()
    assert record is not None
    assert api.sent[0].webhook_url == (
        f"https://hub.example/user/ada/seedance/webhook/{record.client_token}"
    )
