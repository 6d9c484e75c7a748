"""Money first, against scripted servers that answer differently from our emulator.

A 2xx answer to a create is a charge; a POST that may have reached the server is
never resent; racing submissions claim once; a paid request id is never lost.
"""

from __future__ import annotations

import _thread
import json
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from traitlets import TraitError

from seedance_jupyter.api.transport import Transport
from seedance_jupyter.catalog import MEDIA_SURCHARGE
from seedance_jupyter.errors import AmbiguousSubmitError, InvalidRequestError, SeedanceError
from seedance_jupyter.jobs.backend import Backend
from seedance_jupyter.jobs.client import Client
from seedance_jupyter.jobs.ledger import Ledger
from seedance_jupyter.jobs.ledger import database as ledger_database
from seedance_jupyter.jobs.service import JobService
from seedance_jupyter.jobs.settings import JobSettings
from seedance_jupyter.retry import Backoff

from ..helpers import Settings, eventually
from ..postgres import PostgresServer
from ..scripted import Answer, ScriptedServer, Seen, accepted


def service_for(server: ScriptedServer, tmp_path: Path, **settings: object) -> JobService:
    client = Client(api_key="sd2_test", base_url=server.url, backoff=Backoff(base=0.01),
                    max_retries=2)
    backend = Backend(client, server.url, "scripted", False)
    return JobService(Settings(**settings),  # type: ignore[arg-type]
                      backend=backend, ledger=Ledger(tmp_path / "ledger.sqlite3"))


@pytest.fixture
def make(tmp_path: Path) -> Iterator[object]:
    made: list[tuple[ScriptedServer, JobService]] = []

    def build(**kwargs: object) -> tuple[ScriptedServer, JobService]:
        settings = kwargs.pop("settings", {})
        server = ScriptedServer(**kwargs)  # type: ignore[arg-type]
        service = service_for(server, tmp_path, **settings)  # type: ignore[arg-type]
        made.append((server, service))
        return server, service

    yield build
    for server, service in made:
        service.close()
        server.close()


@pytest.mark.parametrize(
    "answer",
    [
        {"success": True, "requestId": "req_odd", "status": "accepted", "creditsCharged": 40},
        {"success": True, "requestId": "req_odd", "status": "queued", "creditsCharged": "40"},
        {"success": True, "data": {"requestId": "req_odd", "status": "queued"}},
        {"success": False, "requestId": "req_odd"},
    ],
    ids=["unknown-status", "credits-not-int", "wrapped", "success-false"],
)
def test_an_off_contract_2xx_create_with_a_request_id_is_submitted(make, answer) -> None:
    _server, service = make(create=lambda seen: Answer(200, answer))
    submission = service.submit(service.prepare("a kite"))
    assert submission.job.request_id == "req_odd"
    assert submission.notice is not None and "charged" in submission.notice
    record = service.ledger.get("req_odd")
    assert record is not None and record.status != "rejected"


def test_an_off_contract_create_is_reused_not_paid_again(make) -> None:
    server, service = make(create=lambda seen: Answer(201, {"data": {"requestId": "req_w"}}))
    service.submit(service.prepare("a kite"))
    again = service.submit(service.prepare("a kite"))
    assert again.job.request_id == "req_w"
    assert server.posts == 1


@pytest.mark.parametrize(
    "answer",
    [
        Answer(200, b"<html>ok</html>", {"Content-Type": "text/html"}),
        Answer(200, {"success": True, "status": "queued"}),
        Answer(403, b"<html>Forbidden</html>", {"Content-Type": "text/html"}),
        Answer(409, {"message": "conflict"}),
        Answer(502, b""),
    ],
    ids=["2xx-html", "2xx-no-id", "403-html", "4xx-no-envelope", "502"],
)
def test_a_create_answer_without_id_or_envelope_is_uncertain_never_rejected(
    make, answer: Answer
) -> None:
    _server, service = make(create=lambda seen: answer)
    with pytest.raises(AmbiguousSubmitError) as caught:
        service.submit(service.prepare("a kite"))
    record = service.ledger.by_token(caught.value.client_token)
    assert record is not None and record.status == "submission_uncertain"
    assert service.spent_usd > 0


def test_ctrl_c_while_a_create_is_on_the_wire_records_it_uncertain(make) -> None:
    server, service = make(create=lambda seen: Answer(body=accepted().body, delay=5))

    def interrupt_once_sent() -> None:
        if eventually(lambda: server.posts == 1, timeout=5):
            _thread.interrupt_main()

    threading.Thread(target=interrupt_once_sent, daemon=True).start()
    with pytest.raises(AmbiguousSubmitError) as caught:
        service.submit(service.prepare("a kite"))
    record = service.ledger.by_token(caught.value.client_token)
    assert record is not None and record.status == "submission_uncertain"
    assert server.posts == 1


def test_an_uncertain_submission_is_never_resent(make) -> None:
    server, service = make(create=lambda seen: Answer(502, b""))
    with pytest.raises(AmbiguousSubmitError):
        service.submit(service.prepare("a kite"))
    with pytest.raises(AmbiguousSubmitError):
        service.submit(service.prepare("a kite"))
    assert server.posts == 1


def test_a_4xx_with_the_error_envelope_is_rejected_and_refunded(make) -> None:
    refusal = {"success": False, "error": {"code": "invalid_request", "message": "no"}}
    _server, service = make(create=lambda seen: Answer(400, refusal))
    with pytest.raises(InvalidRequestError):
        service.submit(service.prepare("a kite"))
    assert service.spent_usd == 0
    assert [r.status for r in service.ledger.jobs()] == ["rejected"]


def test_identical_submissions_from_many_threads_make_one_post(make) -> None:
    server, service = make(create=lambda seen: Answer(body=accepted().body, delay=0.2))
    request = service.prepare("a kite")
    barrier = threading.Barrier(8)
    ids: list[str] = []

    def submit() -> None:
        barrier.wait()
        ids.append(service.submit(request).job.request_id)

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert server.posts == 1
    assert set(ids) == {"req_1"}


def test_racing_threads_never_overrun_the_daily_budget(make) -> None:
    counter = iter(range(100))
    server, service = make(
        create=lambda seen: Answer(body=accepted(f"req_{next(counter)}").body, delay=0.1),
        settings={"daily_budget_usd": 1.0},  # room for two 5 s 720p jobs ($0.50 each)
    )
    barrier = threading.Barrier(6)
    refused: list[SeedanceError] = []

    def submit(n: int) -> None:
        barrier.wait()
        try:
            service.submit(service.prepare(f"take {n}"))
        except SeedanceError as exc:
            refused.append(exc)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert server.posts == 2
    assert len(refused) == 4


def test_a_paid_request_id_survives_a_locked_ledger(
    make, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_database, "_BUSY_TIMEOUT_S", 0.2)
    locker = sqlite3.connect(
        tmp_path / "ledger.sqlite3", isolation_level=None, check_same_thread=False
    )

    def lock_then_answer(seen: Seen) -> Answer:
        locker.execute("BEGIN IMMEDIATE")
        threading.Timer(1.5, lambda: locker.execute("COMMIT")).start()
        return accepted("req_paid")

    _server, service = make(create=lock_then_answer)
    submission = service.submit(service.prepare("a kite"))
    assert submission.job.request_id == "req_paid"
    assert submission.notice is not None and "req_paid" in submission.notice
    journal = service.ledger.journal_path.read_text()
    assert "req_paid" in journal
    assert eventually(lambda: service.ledger.get("req_paid") is not None, timeout=20)


def test_the_journal_is_merged_when_the_ledger_is_opened(make, tmp_path: Path) -> None:
    _server, service = make(create=lambda seen: Answer(502, b""))
    with pytest.raises(AmbiguousSubmitError) as caught:
        service.submit(service.prepare("a kite"))
    service.ledger.journal_submitted(
        caught.value.client_token, request_id="req_late", status="queued", credits_charged=40
    )
    reopened = Ledger(tmp_path / "ledger.sqlite3")
    try:
        record = reopened.by_token(caught.value.client_token)
        assert record is not None and record.request_id == "req_late"
        assert not reopened.journal_path.exists()
    finally:
        reopened.close()


def test_a_key_read_from_a_file_loses_its_newline(make) -> None:
    server, service = make()
    service.backend.client.set_api_key("sd2_from_file\n")
    service.submit(service.prepare("a kite"))
    assert server.seen[-1].authorization == "Bearer sd2_from_file"


@pytest.mark.parametrize("key", ["sd2 live", "sd2\tlive", "sd2\x00live", "sd2\nlive"])
def test_a_key_with_inner_whitespace_is_refused_before_sending_without_showing_it(
    make, key: str
) -> None:
    server, service = make()
    service.backend.client.set_api_key(key)
    with pytest.raises(SeedanceError) as caught:
        service.submit(service.prepare("a kite"))
    assert server.posts == 0
    assert key not in str(caught.value) and "live" not in str(caught.value)


def test_no_header_repr_shows_the_key() -> None:
    import requests

    reprs: list[str] = []

    class Recording(requests.Session):
        def send(self, request: requests.PreparedRequest, **kw: object) -> requests.Response:
            reprs.append(repr(request.headers) + repr(dict(request.headers)))
            return super().send(request, **kw)  # type: ignore[arg-type]

    server = ScriptedServer()
    try:
        transport = Transport("sd2_secret_key", server.url, session=Recording())
        transport.create("/video/generations", {"model": "m", "prompt": "p"}, "sjt_x")
    finally:
        server.close()
    assert reprs and all("sd2_secret_key" not in text for text in reprs)


def test_a_create_answer_that_trickles_is_uncertain_after_the_deadline(
    make, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seedance_jupyter.api import transport

    monkeypatch.setattr(transport, "BODY_DEADLINE_S", 0.5)
    server, service = make(create=lambda seen: Answer(body=accepted().body, trickle=0.1))
    with pytest.raises(AmbiguousSubmitError):
        service.submit(service.prepare("a kite"))
    assert server.posts == 1


def test_a_redirect_loop_is_cut_after_a_few_hops(make) -> None:
    server, service = make(
        status=lambda seen: Answer(302, b"", {"Location": seen.path}),
    )
    with pytest.raises(SeedanceError):
        service.backend.client.generations.get("req_loop", retry=False)
    assert sum(1 for s in server.seen if "req_loop" in s.path) <= 4


@pytest.mark.parametrize("price", [-0.1, 0, float("nan"), 1e400])
def test_a_catalogue_with_a_price_that_cannot_guard_a_budget_is_refused(
    make, price: float
) -> None:
    def models(seen: Seen) -> Answer:
        entry = {"id": "seedance-2.0", "durations": [5], "aspectRatios": ["16:9"],
                 "resolutions": ["720p"], "usdPerSecond": {"720p": price}}
        return Answer(body=json.dumps({"success": True, "data": [entry]}).encode())

    _server, service = make(models=models)
    catalog = service.backend.client.models.catalog()
    assert not catalog.live
    assert service.estimate(service.prepare("a kite")) == pytest.approx(0.5)


def test_a_corrupt_ledger_is_moved_aside_and_a_fresh_one_started(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    ledger = Ledger(path)
    try:
        assert ledger.moved_aside is not None and ledger.moved_aside.exists()
        assert ledger.jobs() == []
    finally:
        ledger.close()


def test_opening_a_ledger_needs_no_write_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ledger.sqlite3"
    Ledger(path).close()
    monkeypatch.setattr(ledger_database, "_BUSY_TIMEOUT_S", 0.2)
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    try:
        Ledger(path).close()
    finally:
        locker.execute("COMMIT")
        locker.close()


_RACE_SETTINGS = settings(max_examples=4, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
_RACE_PLANS = given(
    plan=st.lists(
        st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=4),
        min_size=2, max_size=3,
    ),
    budget_jobs=st.integers(min_value=1, max_value=4),
)


@_RACE_SETTINGS
@_RACE_PLANS
def test_racing_kernels_post_each_admitted_request_once_within_budget(
    tmp_path_factory: pytest.TempPathFactory, plan: list[list[str]], budget_jobs: int
) -> None:
    ledger = tmp_path_factory.mktemp("race") / "ledger.sqlite3"
    Ledger(ledger).close()
    _race(str(ledger), plan, budget_jobs)


@_RACE_SETTINGS
@_RACE_PLANS
def test_racing_kernels_on_postgres_post_each_admitted_request_once_within_budget(
    postgres_server: PostgresServer, plan: list[list[str]], budget_jobs: int
) -> None:
    url = postgres_server.new_database()
    Ledger(url).close()
    _race(url, plan, budget_jobs)


def _race(ledger: str, plan: list[list[str]], budget_jobs: int) -> None:
    """N processes (each M threads) submit at one instant: every admitted request is
    POSTed once, and together they never pass the daily budget."""
    import subprocess
    import sys
    import time

    counter = iter(range(1000))
    lock = threading.Lock()

    def create(seen: Seen) -> Answer:
        with lock:
            number = next(counter)
        return Answer(body=accepted(f"req_{number}").body, delay=0.05)

    server = ScriptedServer(create=create)
    start_at = time.time() + 3.0
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.race_worker", json.dumps({
                "url": server.url, "ledger": ledger, "prompts": prompts,
                "daily_budget_usd": 0.5 * budget_jobs, "start_at": start_at,
            })],
            stdout=subprocess.PIPE, cwd=Path(__file__).parents[2], text=True,
        )
        for prompts in plan
    ]
    try:
        outcomes = [json.loads(worker.communicate(timeout=120)[0]) for worker in workers]
    finally:
        server.close()
    admitted = {o for per_kernel in outcomes for o in per_kernel if o.startswith("req_")}
    errors = [o for per_kernel in outcomes for o in per_kernel if o.startswith("error")]
    assert not errors
    assert server.posts == len(admitted)
    assert len(admitted) <= budget_jobs
    assert len(admitted) == min(budget_jobs, len({p for prompts in plan for p in prompts}))


def test_a_huge_retry_after_on_create_fails_fast_with_nothing_charged(make) -> None:
    import time

    from seedance_jupyter.errors import RateLimitedError

    busy = {"success": False, "error": {"code": "rate_limited", "message": "slow down"}}
    server, service = make(create=lambda seen: Answer(429, busy, {"Retry-After": "600"}))
    started = time.monotonic()
    with pytest.raises(RateLimitedError, match="Nothing was created"):
        service.submit(service.prepare("a kite"))
    assert time.monotonic() - started < 5
    assert server.posts == 1
    assert [r.status for r in service.ledger.jobs()] == ["rejected"]


def test_a_cell_says_what_it_waits_for_on_a_short_retry_after(make) -> None:
    answers = iter([
        Answer(429, {"success": False, "error": {"code": "rate_limited", "message": "x"}},
               {"Retry-After": "1"}),
        accepted("req_after_wait"),
    ])
    _server, service = make(create=lambda seen: next(answers))
    said: list[str] = []
    job = service.submit(service.prepare("a kite"), announce=said.append).job
    assert job.request_id == "req_after_wait"
    assert any("waiting 1 s" in line for line in said)


def test_wait_honours_its_timeout_against_a_rate_limited_status(make) -> None:
    import time

    from seedance_jupyter.errors import WaitTimeoutError

    busy = {"success": False, "error": {"code": "rate_limited", "message": "x"}}
    _server, service = make(
        create=lambda seen: accepted("req_w"),
        status=lambda seen: Answer(429, busy, {"Retry-After": "100"}),
    )
    job = service.submit(service.prepare("a kite")).job
    service.poller.stop()
    job.watcher = None
    started = time.monotonic()
    with pytest.raises(WaitTimeoutError):
        job.wait(timeout=2)
    assert time.monotonic() - started < 4


def test_a_cancel_goes_out_at_once_while_downloads_crawl(make, tmp_path: Path) -> None:
    import time

    ids = iter(f"req_{n}" for n in range(10))
    head = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"

    def status(seen: Seen) -> Answer:
        if "/outputs/" in seen.path:
            return Answer(200, head + bytes(1000), {"Content-Type": "video/mp4"}, delay=8)
        if seen.path.endswith("/cancel"):
            return Answer(body={"success": True, "requestId": "req_4", "status": "cancelled"})
        request_id = seen.path.rsplit("/", 1)[-1]
        if request_id == "req_4":
            return Answer(body={"success": True, "requestId": request_id, "status": "queued"})
        return Answer(body={
            "success": True, "requestId": request_id, "status": "succeeded",
            "output": {"type": "video", "url": f"{server.url}/outputs/{request_id}.mp4"},
            "error": None,
        })

    server, service = make(
        create=lambda seen: accepted(next(ids)), status=status,
        settings={"download": True, "download_dir": str(tmp_path / "videos"),
                  "first_poll_delay": 0.1},
    )
    jobs = [service.submit(service.prepare(f"take {n}")).job for n in range(5)]
    assert eventually(
        lambda: sum("/outputs/" in s.path for s in server.seen) >= 2, timeout=10
    )
    clicked = time.monotonic()
    service.cancel(jobs[4])
    assert eventually(lambda: any(s.path.endswith("/cancel") for s in server.seen), timeout=5)
    assert time.monotonic() - clicked < 4.0  # not behind the 8 s downloads


@pytest.mark.parametrize(
    "answer",
    [
        Answer(body={"success": True, "requestId": "req_1", "status": "weird"}),
        Answer(body={"success": True, "requestId": "req_other", "status": "queued"}),
        Answer(body=[1, 2]),
        Answer(body=b"<html>maintenance</html>", headers={"Content-Type": "text/html"}),
    ],
    ids=["unknown-status", "other-job", "array", "html"],
)
def test_unreadable_status_answers_are_shown_on_the_card_after_a_few(
    make, answer: Answer
) -> None:
    server, service = make(status=lambda seen: answer, settings={"first_poll_delay": 0.05})
    said: list[str] = []
    service.on_notice(lambda job, text: said.append(text))
    job = service.submit(service.prepare("a kite")).job
    assert eventually(lambda: bool(said), timeout=20)
    assert "could not be read" in said[0]
    assert job.status == "queued"
    status_checks = [s for s in server.seen if s.method == "GET" and "req_1" in s.path]
    assert len(status_checks) >= 3


def test_an_image_to_video_job_is_estimated_with_the_media_surcharge(make) -> None:
    _server, service = make()
    text = service.estimate(service.prepare("a kite"))
    image = service.estimate(service.prepare("a kite", media_urls=["https://x.test/a.png"]))
    assert text == pytest.approx(0.5)
    assert image == pytest.approx(0.5 * MEDIA_SURCHARGE)


def charging(credits: int) -> object:
    """A create script that charges ``credits`` for every job, under a new request id."""
    counter = iter(range(1000))
    return lambda seen: accepted(f"req_{next(counter)}", creditsCharged=credits)


def test_the_daily_budget_counts_what_the_service_charged(make) -> None:
    # $0.50 estimated, 80 credits ($1.00 at 80/USD) charged: a second job would pass $1.20.
    server, service = make(create=charging(80), settings={"daily_budget_usd": 1.2})
    service.submit(service.prepare("take 1"))
    with pytest.raises(SeedanceError, match="budget"):
        service.submit(service.prepare("take 2"))
    assert server.posts == 1


def test_the_session_budget_counts_what_the_service_charged(make) -> None:
    server, service = make(create=charging(80), settings={"budget_usd": 1.2})
    service.submit(service.prepare("take 1"))
    assert service.spent_usd == pytest.approx(1.0)
    with pytest.raises(SeedanceError, match="budget"):
        service.submit(service.prepare("take 2"))
    assert server.posts == 1


def test_spend_counts_what_the_service_charged_at_the_configured_rate(make) -> None:
    _server, service = make(create=charging(64), settings={"credits_per_usd": 100.0})
    service.submit(service.prepare("a kite"))
    [row] = service.ledger.spend(credits_per_usd=service.settings.credits_per_usd)
    assert row.credits == 64
    assert row.usd == pytest.approx(0.64)


def test_the_summary_says_when_the_charge_differs_from_the_estimate(make) -> None:
    _server, service = make(create=charging(64))
    job = service.submit(service.prepare("a kite")).job
    summary = service.summary(job)
    assert summary.charged_usd == pytest.approx(0.8)
    assert summary.charge_differs


def test_a_charge_within_ten_percent_of_the_estimate_is_not_pointed_out(make) -> None:
    _server, service = make(create=charging(42))
    summary = service.summary(service.submit(service.prepare("a kite")).job)
    assert not summary.charge_differs


class HeldCreate:
    """A create script that holds each POST open until released (the answer is on the wire)."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def __call__(self, seen: Seen) -> Answer:
        self.release.wait(120)
        return accepted("req_held")


@pytest.fixture
def held_kernel(make, tmp_path: Path) -> Iterator[tuple[ScriptedServer, JobService, object]]:
    """A real process whose create POST hangs, and a second service on the same ledger."""
    held = HeldCreate()
    server, service = make(create=held, settings={"reuse_across_notebooks": True})
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.submit_worker", server.url,
         str(tmp_path / "ledger.sqlite3"), "a kite"],
        stdout=subprocess.PIPE, cwd=Path(__file__).parents[2], text=True,
    )
    try:
        assert eventually(lambda: server.posts == 1, timeout=60)
        yield server, service, worker
    finally:
        held.release.set()
        worker.kill()
        worker.communicate(timeout=60)


def test_a_rerun_after_a_kernel_died_mid_create_settles_uncertain_at_once(held_kernel) -> None:
    server, service, worker = held_kernel
    worker.kill()
    worker.wait(timeout=60)
    with pytest.raises(AmbiguousSubmitError):
        service.submit(service.prepare("a kite"))
    [row] = service.ledger.jobs()
    assert row.status == "submission_uncertain"
    assert f"process {worker.pid} " in (row.error_message or "")
    assert server.posts == 1


def test_a_rerun_says_which_live_process_it_waits_for(held_kernel) -> None:
    server, service, worker = held_kernel
    said: list[str] = []
    outcome: list[str] = []
    rerun = threading.Thread(target=lambda: outcome.append(
        service.submit(service.prepare("a kite"), announce=said.append).job.request_id))
    rerun.start()
    assert eventually(lambda: any(f"process {worker.pid} " in line for line in said), timeout=30)
    server.create.release.set()  # type: ignore[attr-defined]
    rerun.join(timeout=60)
    assert outcome == ["req_held"]
    assert server.posts == 1


@pytest.mark.parametrize("rate", [0.0, -80.0, float("inf"), float("nan")])
def test_a_credit_rate_that_cannot_convert_a_charge_is_refused_naming_it(rate: float) -> None:
    with pytest.raises(TraitError, match=r"credits_per_usd: .* use a number above 0"):
        JobSettings(credits_per_usd=rate)


def test_a_request_id_the_service_gives_twice_leaves_the_second_job_uncertain(make) -> None:
    server, service = make(create=lambda seen: accepted("req_same"))
    service.submit(service.prepare("first"))
    service.submit(service.prepare("second"))
    second = next(r for r in service.ledger.jobs() if r.prompt == "second")
    assert (second.request_id, second.status) == (None, "submission_uncertain")
    assert "req_same" in (second.error_message or "")
    assert not service.ledger.journal_path.exists()
    assert server.posts == 2
