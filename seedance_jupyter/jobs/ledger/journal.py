"""The journal: a plain file that keeps a paid job's request id when the database refuses it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .base import LedgerBase
from .database import LEDGER_ERRORS
from .writes import StatusWrites

__all__ = ["Journal"]


class Journal(StatusWrites, LedgerBase):
    """Append a refused write to the journal; merge it into the database when it allows."""

    @property
    def journal_path(self) -> Path:
        """Append-only file for request ids the database could not take (locked, full, down)."""
        return self._db.journal_path

    def journal_submitted(
        self, client_token: str, *, request_id: str, status: str, credits_charged: int | None
    ) -> None:
        """Keep a paid job's request id in a plain file when the database refuses it."""
        line = json.dumps({
            "client_token": client_token, "request_id": request_id, "status": status,
            "credits_charged": credits_charged,
        })
        self.journal_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def merge_journal(self) -> int:
        """Write journalled request ids into the database, then drop the journal."""
        try:
            lines = self.journal_path.read_text().splitlines()
        except FileNotFoundError:
            return 0
        merged = 0
        for line in lines:
            try:
                entry = json.loads(line)
                self.record_submitted(
                    entry["client_token"], request_id=entry["request_id"],
                    status=entry["status"], credits_charged=entry["credits_charged"],
                )
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line of a crash: nothing to recover from it
            except LEDGER_ERRORS:
                return merged  # still locked or full: the journal stays for next time
            merged += 1
        self.journal_path.unlink()
        return merged
