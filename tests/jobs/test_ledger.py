"""The ledger on real SQLite files: lifecycle, guards, spend, permissions, concurrency."""

from __future__ import annotations

import multiprocessing
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
import sqlalchemy.exc

from seedance_jupyter.catalog import GenerationRequest
from seedance_jupyter.errors import SeedanceError
from seedance_jupyter.jobs.ledger import (
    MIN_RUNTIME_SAMPLES,
    JobRecord,
    Ledger,
    RuntimeWindow,
    schema,
)

DAY = 86_400.0
REQUEST = GenerationRequest(prompt="A river at dawn", duration=5, resolution="720p")


class Clock:
    """A settable clock, so times in the ledger are exact."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(ledger_url: str, clock: Clock) -> Iterator[Ledger]:
    """A fresh ledger on each database: SQLite, then PostgreSQL."""
    with Ledger(ledger_url, clock=clock) as opened:
        yield opened


def pending(
    ledger: Ledger,
    token: str,
    *,
    backend: str = "live",
    request: GenerationRequest = REQUEST,
    fingerprint: str = "fp",
    usd: float = 0.5,
) -> JobRecord:
    return ledger.claim(
        client_token=token, backend=backend, request=request,
        fingerprint=fingerprint, estimated_usd=usd, reuse=False,
    ).record


def submitted(ledger: Ledger, token: str, request_id: str, **kw: object) -> JobRecord:
    pending(ledger, token, **kw)  # type: ignore[arg-type]
    return ledger.record_submitted(token, request_id=request_id, status="queued",
                                   credits_charged=40)


def test_row_is_pending_before_post_then_submitted(ledger: Ledger, clock: Clock) -> None:
    row = pending(ledger, "tok-1")
    assert (row.status, row.request_id, row.submitted_at) == ("pending", None, None)
    assert ledger.by_token("tok-1") == row

    clock.now += 2
    done = ledger.record_submitted("tok-1", request_id="req_1", status="queued",
                                   credits_charged=40)

    assert (done.status, done.request_id, done.credits_charged) == ("queued", "req_1", 40)
    assert done.submitted_at == clock.now
    assert ledger.get("req_1") == done


def test_request_fields_round_trip(ledger: Ledger) -> None:
    request = GenerationRequest(
        prompt="p", model="seedance-2.0-fast", media_urls=("https://x.test/a.png",),
        aspect_ratio="9:16", duration=6, resolution="1080p",
        webhook_url="https://hook.test/", metadata={"seedance_jupyter_token": "tok", "n": [1]},
    )
    row = ledger.claim(client_token="tok", backend="live", request=request,
                       fingerprint=request.fingerprint(), estimated_usd=1.2,
                       notebook="demo.ipynb", reuse=False).record
    assert row.media_urls == ("https://x.test/a.png",)
    assert row.metadata == {"seedance_jupyter_token": "tok", "n": [1]}
    assert (row.model, row.aspect_ratio, row.duration, row.resolution) == (
        "seedance-2.0-fast", "9:16", 6, "1080p")
    assert (row.webhook_url, row.notebook, row.estimated_usd) == (
        "https://hook.test/", "demo.ipynb", 1.2)


def test_duplicate_client_token_is_refused(ledger: Ledger) -> None:
    pending(ledger, "tok")
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        pending(ledger, "tok")


def test_submitting_an_unknown_token_raises(ledger: Ledger) -> None:
    with pytest.raises(KeyError):
        ledger.record_submitted("nope", request_id="req", status="queued", credits_charged=1)


def test_uncertain_row_is_reconciled_with_its_request_id(ledger: Ledger) -> None:
    pending(ledger, "tok")
    uncertain = ledger.record_uncertain("tok", detail="read timed out")
    assert (uncertain.status, uncertain.error_message) == ("submission_uncertain", "read timed out")
    assert ledger.unfinished() == [uncertain]

    row = ledger.reconcile("tok", request_id="req_9", status="processing")

    assert row is not None
    assert (row.status, row.request_id, row.error_message) == ("processing", "req_9", None)
    assert ledger.get("req_9") == row


def test_reconcile_unknown_token_returns_none(ledger: Ledger) -> None:
    assert ledger.reconcile("nope", request_id="req", status="queued") is None


def test_rejected_row_is_never_reusable(ledger: Ledger) -> None:
    pending(ledger, "tok")
    row = ledger.record_rejected("tok", code="insufficient_credits", message="top up")
    assert (row.status, row.error_code, row.is_terminal) == ("rejected", "insufficient_credits",
                                                            True)
    assert ledger.find_reusable("live", "fp") is None
    assert ledger.unfinished() == []


def test_rejected_row_costs_nothing(ledger: Ledger, clock: Clock) -> None:
    pending(ledger, "tok", usd=3.0)
    ledger.record_rejected("tok", code="invalid_request", message="bad")
    assert ledger.spent_usd_since(clock.now - 1) == 0.0
    assert ledger.spend() == []


def test_charged_job_cannot_be_marked_rejected(ledger: Ledger) -> None:
    submitted(ledger, "tok", "req_1")
    row = ledger.record_rejected("tok", code="invalid_request", message="late")
    assert (row.status, row.request_id) == ("queued", "req_1")


@pytest.mark.parametrize("status", ["queued", "processing", "succeeded"])
def test_find_reusable_returns_submitted_or_succeeded_job(ledger: Ledger, status: str) -> None:
    submitted(ledger, "tok", "req_1")
    ledger.record_status("req_1", status=status)
    found = ledger.find_reusable("live", "fp")
    assert found is not None
    assert (found.client_token, found.status) == ("tok", status)


@pytest.mark.parametrize("status", ["pending", "submission_uncertain"])
def test_find_reusable_returns_job_whose_post_may_have_been_charged(
    ledger: Ledger, status: str
) -> None:
    pending(ledger, "tok")
    if status == "submission_uncertain":
        ledger.record_uncertain("tok", detail="connection reset")
    found = ledger.find_reusable("live", "fp")
    assert found is not None
    assert found.status == status


@pytest.mark.parametrize("status", ["failed", "cancelled"])
def test_find_reusable_ignores_failed_and_cancelled(ledger: Ledger, status: str) -> None:
    submitted(ledger, "tok", "req_1")
    ledger.record_status("req_1", status=status)
    assert ledger.find_reusable("live", "fp") is None


def test_find_reusable_matches_backend_and_fingerprint(ledger: Ledger) -> None:
    submitted(ledger, "tok", "req_1")
    assert ledger.find_reusable("emulator", "fp") is None
    assert ledger.find_reusable("live", "other") is None


def test_find_reusable_prefers_the_newest_job(ledger: Ledger, clock: Clock) -> None:
    submitted(ledger, "old", "req_1")
    ledger.record_status("req_1", status="succeeded")
    clock.now += 10
    submitted(ledger, "new", "req_2")
    found = ledger.find_reusable("live", "fp")
    assert found is not None
    assert found.client_token == "new"


@pytest.mark.parametrize("late", ["queued", "processing", "failed", "cancelled"])
def test_terminal_status_is_never_overwritten(ledger: Ledger, late: str) -> None:
    submitted(ledger, "tok", "req_1")
    done = ledger.record_status("req_1", status="succeeded", output_url="https://o.test/1.mp4")

    after = ledger.record_status("req_1", status=late, error_code="late")

    assert after == done
    assert ledger.get("req_1") == done


@pytest.mark.parametrize("local", ["pending", "submission_uncertain", "rejected"])
def test_service_answer_cannot_claim_a_local_status(ledger: Ledger, local: str) -> None:
    submitted(ledger, "tok", "req_1")
    with pytest.raises(ValueError, match=local):
        ledger.record_status("req_1", status=local)
    row = ledger.get("req_1")
    assert row is not None
    assert row.status == "queued"


def test_in_flight_status_never_moves_back(ledger: Ledger) -> None:
    submitted(ledger, "tok", "req_1")
    ledger.record_status("req_1", status="processing")
    row = ledger.record_status("req_1", status="queued")
    assert row is not None
    assert row.status == "processing"


def test_repeated_success_refreshes_output_url(ledger: Ledger) -> None:
    submitted(ledger, "tok", "req_1")
    first = ledger.record_status("req_1", status="succeeded", output_url="https://o.test/a")
    again = ledger.record_status("req_1", status="succeeded", output_url="https://o.test/b")
    assert first is not None
    assert again is not None
    assert again.output_url == "https://o.test/b"
    assert again.finished_at == first.finished_at


def test_terminal_status_sets_finished_at(ledger: Ledger, clock: Clock) -> None:
    submitted(ledger, "tok", "req_1")
    running = ledger.record_status("req_1", status="processing")
    clock.now += 30
    failed = ledger.record_status("req_1", status="failed", error_code="internal_error",
                                  error_message="boom")
    assert running is not None
    assert running.finished_at is None
    assert failed is not None
    assert (failed.finished_at, failed.error_code, failed.error_message) == (
        clock.now, "internal_error", "boom")


def test_record_status_of_unknown_id_returns_none(ledger: Ledger) -> None:
    assert ledger.record_status("req_missing", status="succeeded") is None


def test_same_request_id_on_two_backends_is_told_apart(ledger: Ledger, clock: Clock) -> None:
    submitted(ledger, "live-tok", "req_1", backend="live")
    clock.now += 1
    submitted(ledger, "emu-tok", "req_1", backend="emulator")

    ledger.record_status("req_1", status="succeeded", backend="live")

    live, emu = ledger.get("req_1", backend="live"), ledger.get("req_1", backend="emulator")
    assert live is not None
    assert emu is not None
    assert (live.status, emu.status) == ("succeeded", "queued")


def test_record_download_stores_local_path(ledger: Ledger) -> None:
    submitted(ledger, "tok", "req_1")
    ledger.record_download("req_1", "/videos/req_1.mp4")
    row = ledger.get("req_1")
    assert row is not None
    assert row.local_path == "/videos/req_1.mp4"


def test_recording_a_download_gives_up_the_recorders_lease_in_the_same_write(
    ledger: Ledger,
) -> None:
    submitted(ledger, "tok", "req_1")
    assert ledger.try_lease("req_1", "me", 30)
    ledger.record_download("req_1", "v/req_1.mp4", releasing="me")
    row = ledger.get("req_1")
    assert row is not None
    assert (row.local_path, row.lease_owner, row.lease_until) == ("v/req_1.mp4", None, None)


def test_recording_a_download_keeps_another_processs_lease(ledger: Ledger) -> None:
    submitted(ledger, "tok", "req_1")
    assert ledger.try_lease("req_1", "other", 30)
    ledger.record_download("req_1", "v/req_1.mp4", releasing="me")
    row = ledger.get("req_1")
    assert row is not None
    assert row.lease_owner == "other"


def test_unfinished_lists_in_flight_jobs_oldest_first(ledger: Ledger, clock: Clock) -> None:
    submitted(ledger, "a", "req_a")
    clock.now += 1
    pending(ledger, "b", backend="emulator")
    clock.now += 1
    submitted(ledger, "c", "req_c")
    ledger.record_status("req_c", status="succeeded")
    clock.now += 1
    pending(ledger, "d")
    ledger.record_uncertain("d", detail="timeout")

    assert [r.client_token for r in ledger.unfinished()] == ["a", "b", "d"]
    assert [r.client_token for r in ledger.unfinished("live")] == ["a", "d"]


def test_jobs_lists_newest_first_up_to_limit(ledger: Ledger, clock: Clock) -> None:
    for token in "abcd":
        pending(ledger, token, backend="emulator" if token == "c" else "live")
        clock.now += 1
    assert [r.client_token for r in ledger.jobs(limit=2)] == ["d", "c"]
    assert [r.client_token for r in ledger.jobs(backend="live")] == ["d", "b", "a"]


def test_spend_groups_by_local_day_and_model(ledger: Ledger, clock: Clock) -> None:
    day1 = time.mktime((2026, 3, 1, 12, 0, 0, 0, 0, -1))
    fast = GenerationRequest(prompt="p", model="seedance-2.0-fast")
    clock.now = day1
    submitted(ledger, "a", "req_a", usd=0.5)
    submitted(ledger, "b", "req_b", usd=1.0)
    submitted(ledger, "c", "req_c", usd=0.25, request=fast)
    pending(ledger, "d", usd=2.0)
    ledger.record_uncertain("d", detail="timeout")
    pending(ledger, "e", usd=9.0)
    ledger.record_rejected("e", code="insufficient_credits", message="no")
    clock.now = day1 + DAY
    submitted(ledger, "f", "req_f", usd=0.5)

    rows = [(r.day, r.model, r.jobs, r.credits, r.usd, r.uncertain_jobs, r.uncertain_usd)
            for r in ledger.spend()]

    assert rows == [
        ("2026-03-01", "seedance-2.0", 2, 80, 1.5, 1, 2.0),
        ("2026-03-01", "seedance-2.0-fast", 1, 40, 0.25, 0, 0.0),
        ("2026-03-02", "seedance-2.0", 1, 40, 0.5, 0, 0.0),
    ]
    assert [r.day for r in ledger.spend(since=day1 + DAY)] == ["2026-03-02"]


def test_spend_keeps_backends_apart(ledger: Ledger) -> None:
    submitted(ledger, "a", "req_a", backend="live")
    submitted(ledger, "b", "req_b", backend="emulator")
    assert [r.backend for r in ledger.spend()] == ["emulator", "live"]
    assert [r.backend for r in ledger.spend(backend="live")] == ["live"]


def test_spent_usd_since_counts_possible_charges(ledger: Ledger, clock: Clock) -> None:
    start = clock.now
    submitted(ledger, "old", "req_old", usd=100.0)
    clock.now += 60
    submitted(ledger, "charged", "req_1", usd=0.5)
    pending(ledger, "in-flight", usd=1.0)
    pending(ledger, "uncertain", usd=2.0)
    ledger.record_uncertain("uncertain", detail="timeout")
    pending(ledger, "refused", usd=4.0)
    ledger.record_rejected("refused", code="invalid_request", message="no")
    submitted(ledger, "emu", "req_e", backend="emulator", usd=8.0)

    assert ledger.spent_usd_since(start + 1, backend="live") == 3.5
    assert ledger.spent_usd_since(start + 1) == 11.5


def _finish(ledger: Ledger, clock: Clock, token: str, seconds: float, *,
            status: str = "succeeded", resolution: str = "720p",
            running: float | None = None, media: tuple[str, ...] = ()) -> None:
    """A job seen done ``seconds`` after submission (last seen running at ``running``)."""
    request = GenerationRequest(prompt=token, duration=5, resolution=resolution,
                                media_urls=media)
    submitted(ledger, token, f"req_{token}", request=request)
    start = clock.now
    clock.now += seconds
    ledger.record_status(f"req_{token}", status=status,
                         last_running_at=None if running is None else start + running)
    clock.now += 1


def window(ledger: Ledger, *, media: bool = False) -> RuntimeWindow | None:
    return ledger.runtime_window(backend="live", model="seedance-2.0", resolution="720p",
                                 duration=5, media=media)


def test_runtime_window_needs_five_alike_successes(ledger: Ledger, clock: Clock) -> None:
    for i in range(MIN_RUNTIME_SAMPLES - 1):
        _finish(ledger, clock, f"ok{i}", 60, running=59)
    _finish(ledger, clock, "failed", 60, running=59, status="failed")
    _finish(ledger, clock, "other", 60, running=59, resolution="1080p")
    assert window(ledger) is None
    _finish(ledger, clock, "fifth", 60, running=59)
    assert window(ledger) is not None


def test_runtime_window_spans_the_5th_to_95th_percentile_of_the_finishes(
    ledger: Ledger, clock: Clock
) -> None:
    for i in range(20):  # finishes at 41, 43, ..., 79 s, each bracketed within 2 s
        _finish(ledger, clock, f"j{i}", 42 + 2 * i, running=40 + 2 * i)
    learnt = window(ledger)
    assert learnt is not None
    assert 40 <= learnt.low <= 41 + 0.05 * 19 * 2
    assert 41 + 0.95 * 19 * 2 <= learnt.high <= 80
    assert learnt.samples == 20


def test_a_few_wide_brackets_do_not_stretch_the_window_of_jobs_alike_in_time(
    ledger: Ledger, clock: Clock
) -> None:
    for i in range(6):  # polled sparsely, before anything was learnt
        _finish(ledger, clock, f"cold{i}", 75 + i, running=66 + i)
    for i in range(14):  # polled densely: every one finished between 74.8 and 75.1 s
        _finish(ledger, clock, f"warm{i}", 75.1, running=74.8)
    learnt = window(ledger)
    assert learnt is not None
    assert 73 <= learnt.low <= 74.8 + 1e-3
    assert 75.1 - 1e-3 <= learnt.high <= 77


def test_jobs_with_reference_media_learn_a_window_of_their_own(
    ledger: Ledger, clock: Clock
) -> None:
    for i in range(5):
        _finish(ledger, clock, f"text{i}", 30, running=29)
        _finish(ledger, clock, f"image{i}", 90, running=89,
                media=("https://example.com/a.png",))
    text, image = window(ledger), window(ledger, media=True)
    assert text is not None and image is not None
    assert text.high < 31 < 88 < image.low


def test_runtime_window_learns_from_the_last_twenty(ledger: Ledger, clock: Clock) -> None:
    for i in range(5):
        _finish(ledger, clock, f"slow{i}", 1000, running=999)
    for i in range(20):
        _finish(ledger, clock, f"fast{i}", 10, running=9)
    learnt = window(ledger)
    assert learnt is not None
    assert learnt.high < 11


def test_a_row_without_a_running_answer_brackets_its_finish_at_when_it_was_seen(
    ledger: Ledger, clock: Clock
) -> None:
    for i in range(5):
        _finish(ledger, clock, f"old{i}", 50)
    learnt = window(ledger)
    assert learnt is not None
    assert learnt.low == pytest.approx(50) and learnt.high == pytest.approx(50)


def test_file_is_owner_only_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "private" / "ledger.sqlite3"
    with Ledger(path) as ledger:
        pending(ledger, "tok")
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        for name in ("ledger.sqlite3", "ledger.sqlite3-wal", "ledger.sqlite3-shm"):
            assert stat.S_IMODE((path.parent / name).stat().st_mode) == 0o600


def test_loose_existing_file_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    path.touch(mode=0o644)
    path.chmod(0o644)
    Ledger(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_version_1_ledger_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(schema.MIGRATIONS[0].replace("{rowid}", ""))
        conn.execute("PRAGMA user_version = 1")
    migrated = Ledger(path)
    try:
        record = migrated.claim(
            client_token="t", backend="live", request=GenerationRequest("p"),
            fingerprint="f", estimated_usd=0.5, reuse=False).record
        assert record.last_running_at is None
    finally:
        migrated.close()


def test_database_uses_wal_and_a_schema_version(tmp_path: Path) -> None:
    Ledger(tmp_path / "ledger.sqlite3").close()
    with sqlite3.connect(tmp_path / "ledger.sqlite3") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA user_version").fetchone() == (schema.SCHEMA_VERSION,)
        indexes = {row[0] for row in conn.execute("SELECT sql FROM sqlite_master")}
    assert any("UNIQUE INDEX" in (sql or "") and "(backend, request_id)" in (sql or "")
               for sql in indexes)
    assert any("(backend, fingerprint)" in (sql or "") for sql in indexes)


def test_the_database_refuses_a_second_row_with_a_paid_request_id(ledger: Ledger) -> None:
    submitted(ledger, "tok_paid", "req_paid")
    pending(ledger, "tok_other")
    with ledger.database.write() as conn, pytest.raises(sqlalchemy.exc.IntegrityError):
        conn.execute(sqlalchemy.text(
            "UPDATE jobs SET request_id = 'req_paid' WHERE client_token = 'tok_other'"))


def test_a_lookup_cannot_give_a_paid_request_id_to_an_uncertain_row(ledger: Ledger) -> None:
    submitted(ledger, "tok_paid", "req_paid")
    pending(ledger, "tok_lost")
    ledger.record_uncertain("tok_lost", detail="lost")
    assert ledger.reconcile("tok_lost", request_id="req_paid", status="queued") is None
    lost = ledger.by_token("tok_lost")
    assert lost is not None and (lost.request_id, lost.status) == (None, "submission_uncertain")


def test_the_same_request_id_may_be_on_two_backends(ledger: Ledger) -> None:
    submitted(ledger, "tok_live", "req_1", backend="live")
    submitted(ledger, "tok_emulator", "req_1", backend="emulator")
    assert ledger.get("req_1", backend="live").client_token == "tok_live"  # type: ignore[union-attr]


def test_a_ledger_whose_rows_share_a_request_id_keeps_it_on_the_charged_row(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:  # a version-3 ledger, before ids were unique
        for script in schema.MIGRATIONS[:3]:
            conn.executescript(script.replace("{rowid}", ""))
        conn.execute("PRAGMA user_version = 3")
        # The old bug: uncertain row C took A's id from a replayed webhook.
        for token, credits in (("tok_c", None), ("tok_a", 40)):
            conn.execute(
                "INSERT INTO jobs (client_token, request_id, backend, status, model, prompt, "
                "fingerprint, estimated_usd, credits_charged, created_at, updated_at) "
                "VALUES (?, 'req_a', 'live', 'succeeded', 'seedance-2.0', 'p', 'f', 0.5, ?, "
                "1, 1)", (token, credits))
    with Ledger(path) as migrated:
        owner = migrated.get("req_a")
        moved = migrated.by_token("tok_c")
    assert owner is not None and owner.client_token == "tok_a"
    assert moved is not None
    assert (moved.request_id, moved.status) == (None, "submission_uncertain")
    assert moved.error_message is not None and "req_a" in moved.error_message


def test_reopening_keeps_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with Ledger(path) as first:
        row = submitted(first, "tok", "req_1")
    with Ledger(path) as second:
        assert second.get("req_1") == row


def test_ledger_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    Ledger(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(SeedanceError, match="newer"):
        Ledger(path)


def test_default_path_honours_seedance_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEDANCE_HOME", str(tmp_path / "home"))
    assert Ledger.default_path() == tmp_path / "home" / "ledger.sqlite3"
    with Ledger() as ledger:
        assert ledger.path == tmp_path / "home" / "ledger.sqlite3"
        assert ledger.path.exists()


def test_default_path_is_under_jupyter_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SEEDANCE_HOME", raising=False)
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter"))
    assert Ledger.default_path() == tmp_path / "jupyter" / "seedance" / "ledger.sqlite3"


def test_closed_ledger_refuses_use(ledger: Ledger) -> None:
    ledger.close()
    ledger.close()
    with pytest.raises(SeedanceError, match="closed"):
        ledger.jobs()


ROWS_PER_WRITER = 200


def _write_jobs(url: str, name: str, start_together: Barrier) -> None:
    """One kernel's worth of jobs, each through its whole life."""
    with Ledger(url) as ledger:
        start_together.wait(60)
        for i in range(ROWS_PER_WRITER):
            token, request_id = f"{name}-{i}", f"req_{name}_{i}"
            pending(ledger, token, fingerprint=token)
            ledger.record_submitted(token, request_id=request_id, status="queued",
                                    credits_charged=i)
            ledger.record_status(request_id, status="processing")
            ledger.record_status(request_id, status="succeeded", output_url=f"https://o/{i}")
            time.sleep(0.001)  # let the other writer take the lock now and then


def _check_all_written(url: str, names: list[str]) -> None:
    with Ledger(url) as ledger:
        rows = ledger.jobs(limit=-1)
        assert len(rows) == len(names) * ROWS_PER_WRITER
        assert {r.status for r in rows} == {"succeeded"}
        for name in names:
            mine = [r for r in rows if r.client_token.startswith(f"{name}-")]
            assert sorted(r.credits_charged or 0 for r in mine) == list(range(ROWS_PER_WRITER))
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


@pytest.mark.timeout(120)
def test_two_processes_writing_at_once_lose_nothing(ledger_url: str) -> None:
    path = ledger_url
    ctx = multiprocessing.get_context("spawn")
    names = ["k1", "k2"]
    barrier = ctx.Barrier(len(names))
    procs = [ctx.Process(target=_write_jobs, args=(path, name, barrier)) for name in names]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(100)
    assert [proc.exitcode for proc in procs] == [0, 0]
    _check_all_written(path, names)
    with Ledger(path) as ledger:
        spans = [[r.created_at for r in ledger.jobs(limit=-1) if r.client_token.startswith(n)]
                 for n in names]
    assert max(min(s) for s in spans) < min(max(s) for s in spans), "writers did not overlap"


def test_threads_sharing_one_ledger_lose_nothing(ledger_url: str) -> None:
    path = ledger_url
    names = ["t1", "t2", "t3"]
    with Ledger(path) as shared:
        go = threading.Event()
        errors: list[Exception] = []

        def run(name: str) -> None:
            try:
                go.wait()
                for i in range(ROWS_PER_WRITER):
                    token = f"{name}-{i}"
                    pending(shared, token, fingerprint=token)
                    shared.record_submitted(token, request_id=f"req_{token}", status="queued",
                                            credits_charged=i)
                    shared.record_status(f"req_{token}", status="succeeded")
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(n,)) for n in names]
        for thread in threads:
            thread.start()
        go.set()
        for thread in threads:
            thread.join(60)
        assert errors == []
    _check_all_written(path, names)


def test_only_one_owner_holds_a_lease_until_it_runs_out(ledger: Ledger, clock: Clock) -> None:
    submitted(ledger, "tok-1", "req_1")
    assert ledger.try_lease("req_1", "kernel", 20)
    assert not ledger.try_lease("req_1", "server", 20)
    assert ledger.try_lease("req_1", "kernel", 20)  # the holder renews
    assert ledger.renew("req_1", "kernel", 20)
    assert not ledger.renew("req_1", "server", 20)
    clock.now += 21
    assert ledger.unleased_unfinished("live") == [ledger.get("req_1")]
    assert ledger.try_lease("req_1", "server", 20)
    assert not ledger.renew("req_1", "kernel", 20)


def test_a_lease_is_taken_over_from_the_holder_named_gone_only(ledger: Ledger) -> None:
    submitted(ledger, "tok-1", "req_1")
    assert ledger.try_lease("req_1", "dead kernel", 20)
    assert not ledger.try_lease("req_1", "server", 20, replacing="some other process")
    assert ledger.try_lease("req_1", "server", 20, replacing="dead kernel")
    assert not ledger.try_lease("req_1", "kernel", 20, replacing="dead kernel")


def test_a_job_leased_by_a_gone_process_is_listed_as_unpolled(ledger: Ledger) -> None:
    submitted(ledger, "tok-1", "req_1")
    submitted(ledger, "tok-2", "req_2")
    assert ledger.try_lease("req_1", "dead kernel", 20)
    assert ledger.try_lease("req_2", "live kernel", 20)
    assert ledger.unleased_unfinished("live") == []
    orphans = ledger.unleased_unfinished("live", gone=lambda owner: owner == "dead kernel")
    assert orphans == [ledger.get("req_1")]


def test_a_released_lease_is_free_at_once(ledger: Ledger) -> None:
    submitted(ledger, "tok-1", "req_1")
    submitted(ledger, "tok-2", "req_2")
    assert ledger.try_lease("req_1", "kernel", 20)
    assert ledger.try_lease("req_2", "kernel", 20)
    ledger.release("req_1", "server")  # not the holder: nothing happens
    assert not ledger.try_lease("req_1", "server", 20)
    ledger.release(None, "kernel")
    assert ledger.try_lease("req_1", "server", 20)
    assert ledger.try_lease("req_2", "server", 20)


def test_a_lease_changes_nothing_the_change_stream_sees(ledger: Ledger, clock: Clock) -> None:
    row = submitted(ledger, "tok-1", "req_1")
    clock.now += 5
    assert ledger.try_lease("req_1", "kernel", 20)
    assert ledger.changed_since(row.updated_at) == []



def _claim_in(ledger: Ledger, token: str, notebook: Path, *, prompt: str = "p") -> JobRecord:
    return ledger.claim(
        client_token=token, backend="live", request=GenerationRequest(prompt),
        fingerprint=prompt, estimated_usd=0.5, notebook=str(notebook), reuse_from=str(notebook),
    ).record


def test_a_renamed_notebooks_jobs_follow_it(ledger: Ledger, tmp_path: Path) -> None:
    old, new = tmp_path / "Untitled.ipynb", tmp_path / "boats.ipynb"
    new.write_text("{}")
    _claim_in(ledger, "t1", old)
    assert ledger.move_notebook(str(old), str(new)) == 1
    assert ledger.by_token("t1").notebook == str(new)


def test_later_jobs_of_a_kernel_started_for_the_old_name_follow_the_rename(
    ledger: Ledger, tmp_path: Path
) -> None:
    old, new = tmp_path / "Untitled.ipynb", tmp_path / "boats.ipynb"
    new.write_text("{}")
    ledger.move_notebook(str(old), str(new))
    assert _claim_in(ledger, "t2", old).notebook == str(new)


def test_a_re_run_after_a_rename_reuses_the_job_instead_of_paying_again(
    ledger: Ledger, tmp_path: Path
) -> None:
    old, new = tmp_path / "Untitled.ipynb", tmp_path / "boats.ipynb"
    first = _claim_in(ledger, "t1", old, prompt="same")
    new.write_text("{}")
    ledger.move_notebook(str(old), str(new))
    again = ledger.claim(
        client_token="t2", backend="live", request=GenerationRequest("same"),
        fingerprint="same", estimated_usd=0.5, notebook=str(old), reuse_from=str(old),
    )
    assert again.reused and again.record.client_token == first.client_token


def test_a_new_notebook_that_takes_the_old_name_keeps_its_own_jobs(
    ledger: Ledger, tmp_path: Path
) -> None:
    old, new = tmp_path / "Untitled.ipynb", tmp_path / "boats.ipynb"
    new.write_text("{}")
    ledger.move_notebook(str(old), str(new))
    old.write_text("{}")
    assert _claim_in(ledger, "t3", old).notebook == str(old)


def test_jobs_under_a_renamed_folder_follow_it(ledger: Ledger, tmp_path: Path) -> None:
    (tmp_path / "after").mkdir()
    _claim_in(ledger, "t1", tmp_path / "before" / "a.ipynb")
    ledger.move_notebook(str(tmp_path / "before"), str(tmp_path / "after"))
    assert ledger.by_token("t1").notebook == str(tmp_path / "after" / "a.ipynb")
    assert ledger.current_origin(str(tmp_path / "before" / "b.ipynb")) == str(
        tmp_path / "after" / "b.ipynb"
    )


def test_a_chain_of_renames_is_followed_and_a_rename_back_undoes_it(
    ledger: Ledger, tmp_path: Path
) -> None:
    a, b, c = (tmp_path / f"{name}.ipynb" for name in "abc")
    _claim_in(ledger, "t1", a)
    ledger.move_notebook(str(a), str(b))
    ledger.move_notebook(str(b), str(c))
    assert ledger.by_token("t1").notebook == str(c)
    assert ledger.current_origin(str(a)) == str(c)
    ledger.move_notebook(str(c), str(a))
    assert ledger.by_token("t1").notebook == str(a)
    assert ledger.current_origin(str(b)) == str(a)
    assert ledger.current_origin(str(a)) == str(a)


def test_one_users_rename_moves_neither_anothers_jobs_nor_where_they_record_new_ones(
    ledger_url: str, tmp_path: Path
) -> None:
    """On a team's database two people may have a notebook at the same path."""
    old, new = tmp_path / "Untitled.ipynb", tmp_path / "boats.ipynb"
    with Ledger(ledger_url, user="ana") as ana, Ledger(ledger_url, user="ben") as ben:
        _claim_in(ana, "a1", old)
        _claim_in(ben, "b1", old)
        assert ana.move_notebook(str(old), str(new)) == 1
        assert ana.by_token("a1").notebook == str(new)
        assert ben.by_token("b1").notebook == str(old)
        assert _claim_in(ben, "b2", old, prompt="other").notebook == str(old)
        assert ben.current_origin(str(old)) == str(old)
        assert ana.current_origin(str(old)) == str(new)


def test_a_version_8_ledger_gains_renames_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:  # the schema before renames were recorded
        for script in schema.MIGRATIONS[:8]:
            conn.executescript(script.replace("{rowid}", "").replace(":user", "'ana'"))
        conn.execute("PRAGMA user_version = 8")
    old, new = tmp_path / "Untitled.ipynb", tmp_path / "boats.ipynb"
    with Ledger(path, user="ana") as migrated:
        _claim_in(migrated, "t1", old)
        assert migrated.move_notebook(str(old), str(new)) == 1
        assert migrated.by_token("t1").notebook == str(new)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (schema.SCHEMA_VERSION,)
