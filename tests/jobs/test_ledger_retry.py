"""A paid request id the ledger refused, in a real process that closes its service."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from seedance_jupyter.jobs.ledger import Ledger

from ..scripted import Answer, ScriptedServer, Seen, accepted


def test_closing_stops_ledger_retries_at_once_and_leaves_the_paid_id_in_the_journal(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.sqlite3"
    Ledger(path).close()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def create(seen: Seen) -> Answer:
        holder.execute("BEGIN IMMEDIATE")  # another process holds the ledger from now on
        return accepted("req_paid")

    server = ScriptedServer(create=create)
    try:
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.journal_worker", server.url, str(path)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=Path(__file__).parents[2],
        )
        # Retries alone would keep it alive about two minutes; a prompt close exits now.
        out, err = worker.communicate(timeout=30)
    finally:
        holder.close()
        server.close()
    assert worker.returncode == 0, err
    assert "req_paid" in out and out.rstrip().endswith("closed")
    assert "req_paid" in (tmp_path / "ledger.sqlite3.journal").read_text()
    assert server.posts == 1
    with Ledger(path) as reopened:  # the next process merges what the journal kept
        record = reopened.get("req_paid")
        assert record is not None and record.status == "queued"
