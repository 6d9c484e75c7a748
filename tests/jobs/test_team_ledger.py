"""The ledger as a team shares it: users, team budgets, an old SQLite file, the copy
command, the network-file-system warning, and a PostgreSQL server that goes away."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from seedance_jupyter.catalog import GenerationRequest
from seedance_jupyter.errors import BudgetExceededError, LedgerUnavailableError, SeedanceError
from seedance_jupyter.jobs.backend import Backend
from seedance_jupyter.jobs.budget import Budget
from seedance_jupyter.jobs.client import Client
from seedance_jupyter.jobs.ledger import Ledger, Spent
from seedance_jupyter.jobs.ledger.mounts import unsafe_filesystem
from seedance_jupyter.jobs.ledger.schema import SCHEMA_VERSION
from seedance_jupyter.jobs.service import JobService
from seedance_jupyter.retry import Backoff

from ..helpers import Settings, eventually
from ..postgres import PostgresServer
from ..scripted import Answer, ScriptedServer, Seen, accepted

REQUEST = GenerationRequest(prompt="A river at dawn", duration=5, resolution="720p")

#: The schema (version 3) and a row exactly as the ledger before PostgreSQL wrote them.
_SCHEMA_V3 = """
CREATE TABLE jobs (
    client_token TEXT PRIMARY KEY, request_id TEXT, backend TEXT NOT NULL,
    status TEXT NOT NULL, model TEXT NOT NULL, prompt TEXT NOT NULL, duration INTEGER,
    aspect_ratio TEXT, resolution TEXT, media_urls TEXT NOT NULL DEFAULT '[]',
    webhook_url TEXT, metadata TEXT, fingerprint TEXT NOT NULL, estimated_usd REAL NOT NULL,
    credits_charged INTEGER, output_url TEXT, local_path TEXT, error_code TEXT,
    error_message TEXT, notebook TEXT, created_at REAL NOT NULL, submitted_at REAL,
    updated_at REAL NOT NULL, finished_at REAL
);
CREATE INDEX jobs_request_id ON jobs (request_id);
CREATE INDEX jobs_backend_fingerprint ON jobs (backend, fingerprint);
CREATE INDEX jobs_created_at ON jobs (created_at);
ALTER TABLE jobs ADD COLUMN last_running_at REAL;
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_until REAL;
CREATE INDEX jobs_updated_at ON jobs (updated_at);
INSERT INTO jobs (client_token, request_id, backend, status, model, prompt, duration,
    resolution, fingerprint, estimated_usd, credits_charged, notebook, created_at,
    submitted_at, updated_at, finished_at)
VALUES ('tok-old', 'req_old', 'live', 'succeeded', 'seedance-2.0', 'A river at dawn', 5,
    '720p', 'fp', 0.5, 40, '/nb.ipynb', 1700000000.0, 1700000001.0, 1700000060.0,
    1700000060.0);
PRAGMA user_version = 3;
"""


def claim(ledger: Ledger, token: str, **kw: object) -> object:
    kw.setdefault("fingerprint", "fp")
    return ledger.claim(client_token=token, backend="live", request=REQUEST,  # type: ignore[arg-type]
                        estimated_usd=0.5, **kw)


def test_a_ledger_file_written_before_postgresql_keeps_working(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(_SCHEMA_V3)
    with Ledger(path, user="ana") as ledger:
        old = ledger.get("req_old")
        assert old is not None and (old.status, old.credits_charged) == ("succeeded", 40)
        assert old.user_name == "ana", "an old personal ledger's rows are its owner's"
        again = ledger.claim(client_token="tok-new", backend="live", request=REQUEST,
                             fingerprint="fp", estimated_usd=0.5, reuse_from="/nb.ipynb")
        assert again.reused and again.record.request_id == "req_old"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_reuse_never_crosses_to_a_colleagues_job(ledger_url: str) -> None:
    with Ledger(ledger_url, user="ana") as ana, Ledger(ledger_url, user="ben") as ben:
        mine = ana.claim(client_token="a1", backend="live", request=REQUEST,
                         fingerprint="fp", estimated_usd=0.5)
        theirs = ben.claim(client_token="b1", backend="live", request=REQUEST,
                           fingerprint="fp", estimated_usd=0.5)
        again = ana.claim(client_token="a2", backend="live", request=REQUEST,
                          fingerprint="fp", estimated_usd=0.5)
    assert not theirs.reused and theirs.record.user_name == "ben"
    assert again.reused and again.record.client_token == mine.record.client_token


def test_spend_and_jobs_filter_by_user(ledger_url: str) -> None:
    with Ledger(ledger_url, user="ana") as ana, Ledger(ledger_url, user="ben") as ben:
        ana.claim(client_token="a1", backend="live", request=REQUEST, fingerprint="a",
                  estimated_usd=0.5)
        ben.claim(client_token="b1", backend="live", request=REQUEST, fingerprint="b",
                  estimated_usd=2.0)
        ana.record_submitted("a1", request_id="r_a", status="queued", credits_charged=10)
        ben.record_submitted("b1", request_id="r_b", status="queued", credits_charged=40)
        assert [r.client_token for r in ana.jobs(user="ana")] == ["a1"]
        assert [r.client_token for r in ana.page(limit=10, user="ben")] == ["b1"]
        assert [r.usd for r in ana.spend(user="ben")] == [2.0]
        per_user = {r.user_name: r.credits for r in ana.spend(per_user=True)}
        assert per_user == {"ana": 10, "ben": 40}
        spent = ana.spent("live", day_start=0.0, month_start=0.0)
        assert spent == Spent(user_today=0.5, team_today=2.5, team_month=2.5)


def test_a_team_budget_refusal_names_it_and_what_is_left(ledger_url: str) -> None:
    settings = Settings(team_daily_budget_usd=3.0, daily_budget_usd=10.0)
    check = Budget(settings).ledger_check(1.0)  # type: ignore[arg-type]
    assert check is not None
    with Ledger(ledger_url, user="ana") as ana, Ledger(ledger_url, user="ben") as ben:
        ben.claim(client_token="b1", backend="live", request=REQUEST, fingerprint="b",
                  estimated_usd=2.5)
        refusal = r"Team daily budget.*\$0\.50 of the team's \$3\.00"
        with pytest.raises(BudgetExceededError, match=refusal):
            ana.claim(client_token="a1", backend="live", request=REQUEST, fingerprint="a",
                      estimated_usd=1.0, check_budget=check, day_start=0.0)
        assert ana.by_token("a1") is None, "a refused claim writes nothing"


def test_a_team_monthly_budget_counts_the_whole_month() -> None:
    check = Budget(Settings(team_monthly_budget_usd=5.0)).ledger_check(1.0)  # type: ignore[arg-type]
    assert check is not None
    check(Spent(user_today=0.0, team_today=0.0, team_month=3.5))
    refusal = r"Team monthly budget.*\$0\.50 of the team.s \$5\.00"
    with pytest.raises(BudgetExceededError, match=refusal):
        check(Spent(user_today=0.0, team_today=0.0, team_month=4.5))


def test_a_users_daily_budget_counts_only_their_own_spend() -> None:
    check = Budget(Settings(daily_budget_usd=1.0)).ledger_check(1.0)  # type: ignore[arg-type]
    assert check is not None
    check(Spent(user_today=0.0, team_today=50.0, team_month=50.0))
    with pytest.raises(BudgetExceededError, match=r"Daily budget.*\$0\.50 of your \$1\.00"):
        check(Spent(user_today=0.5, team_today=0.5, team_month=0.5))


def test_the_copy_command_moves_a_history_once(tmp_path: Path, postgres_url: str) -> None:
    source = tmp_path / "mine.sqlite3"
    with Ledger(source, user="ana") as mine:
        claim(mine, "t1", fingerprint="one")
        mine.record_submitted("t1", request_id="r1", status="queued", credits_charged=40)
        claim(mine, "t2", fingerprint="two")  # a POST whose answer never came: keep it
        mine.journal_submitted("t2", request_id="r2", status="queued", credits_charged=40)
    command = [sys.executable, "-m", "seedance_jupyter.jobs.ledger.copy", "copy",
               "--from", f"sqlite:///{source}", "--to", postgres_url]
    first = subprocess.run(command, capture_output=True, text=True, check=True)
    second = subprocess.run(command, capture_output=True, text=True, check=True)
    assert "Copied 2 job(s)" in first.stdout
    assert "Copied 0 job(s)" in second.stdout
    with Ledger(postgres_url) as team:
        rows = {r.client_token: r for r in team.jobs(limit=-1)}
    assert {t: (r.request_id, r.user_name) for t, r in rows.items()} == {
        "t1": ("r1", "ana"), "t2": ("r2", "ana")}


def test_the_copy_command_moves_a_row_forward_never_back(
    tmp_path: Path, postgres_url: str
) -> None:
    source = tmp_path / "mine.sqlite3"
    with Ledger(source) as mine, Ledger(postgres_url) as team:
        claim(mine, "t1")
        subprocess.run([sys.executable, "-m", "seedance_jupyter.jobs.ledger.copy", "copy",
                        "--from", str(source), "--to", postgres_url], check=True,
                       capture_output=True)
        mine.record_submitted("t1", request_id="r1", status="queued", credits_charged=4)
        team.record_submitted("t1", request_id="r1", status="succeeded", credits_charged=4)
        subprocess.run([sys.executable, "-m", "seedance_jupyter.jobs.ledger.copy", "copy",
                        "--from", str(source), "--to", postgres_url], check=True,
                       capture_output=True)
        record = team.by_token("t1")
    assert record is not None and record.status == "succeeded"


def test_the_copy_command_never_shows_a_password(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "seedance_jupyter.jobs.ledger.copy", "copy", "--from",
         str(tmp_path / "mine.sqlite3"), "--to",
         "postgresql://ana:hunter2@127.0.0.1:1/team"], capture_output=True, text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "unreachable" in done.stderr and "127.0.0.1:1/team" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout


def _mounts(tmp_path: Path, fstype: str) -> Path:
    table = tmp_path / "mounts"
    table.write_text(
        "overlay / overlay rw,relatime 0 0\n"
        f"server:/home {tmp_path / 'net home'} {fstype} rw,relatime 0 0\n".replace(
            "net home", "net\\040home")
    )
    return table


@pytest.mark.parametrize("fstype", ["nfs4", "cifs", "fuse.sshfs"])
def test_a_network_or_fuse_file_system_is_detected(tmp_path: Path, fstype: str) -> None:
    table = _mounts(tmp_path, fstype)
    assert unsafe_filesystem(tmp_path / "net home" / "ledger.sqlite3", table) == fstype
    assert unsafe_filesystem(tmp_path / "elsewhere" / "ledger.sqlite3", table) is None


def test_a_sqlite_ledger_on_nfs_says_so_in_one_line_and_keeps_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seedance_jupyter.jobs.ledger import mounts

    monkeypatch.setattr(mounts, "MOUNTS", _mounts(tmp_path, "nfs4"))
    with Ledger(tmp_path / "net home" / "ledger.sqlite3") as ledger:
        assert ledger.warning is not None and "\n" not in ledger.warning
        assert "nfs4" in ledger.warning and "SEEDANCE_DB_URL" in ledger.warning
        claim(ledger, "t1")
        assert ledger.by_token("t1") is not None
    with Ledger(tmp_path / "local" / "ledger.sqlite3") as local:
        assert local.warning is None


def test_an_unreachable_postgresql_opens_refusing_every_claim(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    postgres_server.stop()
    try:
        ledger = Ledger(postgres_url)
        assert ledger.unavailable is not None and "unreachable" in ledger.unavailable
        with pytest.raises(LedgerUnavailableError, match="unreachable"):
            claim(ledger, "t1")
    finally:
        postgres_server.start()
    assert ledger.by_token("t1") is None, "back by itself, and nothing was claimed"
    claim(ledger, "t2")
    assert ledger.unavailable is None
    ledger.close()


def test_a_paid_request_id_survives_the_database_going_away_mid_submission(
    tmp_path: Path, postgres_server: PostgresServer, postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SEEDANCE_HOME", str(tmp_path / "home"))

    def stop_then_answer(seen: Seen) -> Answer:
        postgres_server.stop()
        return accepted("req_paid")

    server = ScriptedServer(create=stop_then_answer)
    client = Client(api_key="sd2_test", base_url=server.url, backoff=Backoff(base=0.01),
                    max_retries=2)
    service = JobService(Settings(), backend=Backend(client, server.url, "scripted", False),
                         ledger=Ledger(postgres_url))
    try:
        submission = service.submit(service.prepare("a kite"))
        journal = service.ledger.journal_path.read_text()
    finally:
        postgres_server.start()
    try:
        assert submission.job.request_id == "req_paid"
        assert submission.notice is not None and "req_paid" in submission.notice
        assert "req_paid" in journal and "127.0.0.1" not in str(service.ledger.journal_path)
        assert server.posts == 1, "a POST that reached the service is never resent"
        assert eventually(lambda: service.ledger.get("req_paid") is not None, timeout=30)
    finally:
        service.close()
        server.close()


@pytest.mark.parametrize("url", ["mysql://ana:hunter2@db/team", "not a url://"])
def test_a_db_url_of_another_kind_is_refused_naming_what_is_allowed(url: str) -> None:
    with pytest.raises(SeedanceError, match=r"sqlite:///PATH .* postgresql://") as refused:
        Ledger(url)
    assert "hunter2" not in refused.value.message


def test_postgresql_without_its_driver_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # importing it now fails
    with pytest.raises(SeedanceError, match=r"seedance-jupyter\[postgres\]") as refused:
        Ledger("postgresql://ana:hunter2@127.0.0.1:1/team")
    assert "hunter2" not in refused.value.message
