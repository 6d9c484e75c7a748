"""The record of every paid job, written before the create POST is sent.

The ledger is what lets a re-run, a retry or a kernel restart find a job that
was already paid for instead of paying again. One API over two databases: a
SQLite file in ``SEEDANCE_HOME`` (one person, the default) or PostgreSQL (a
team, ``db_url``), with one schema and one list of migrations. Every write is
one short transaction, and status changes are guarded in SQL so a late answer
can never move a job back. Its roles live in their own modules: the database
and schema, the claim, status writes, leases, reads, the journal, and renamed
notebooks (whose jobs follow them).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path

from ...errors import LedgerUnavailableError
from .claims import Claims, Spent
from .database import DB_URL_ENV, LEDGER_ERRORS, Database, current_user, resolve_url
from .journal import Journal
from .leasing import Leasing
from .queries import Queries
from .records import MIN_RUNTIME_SAMPLES, Claim, JobRecord, RuntimeWindow, SpendRow, state_of
from .renames import Renames

__all__ = [
    "DB_URL_ENV",
    "LEDGER_ERRORS",
    "MIN_RUNTIME_SAMPLES",
    "Claim",
    "JobRecord",
    "Ledger",
    "RuntimeWindow",
    "SpendRow",
    "Spent",
    "current_user",
    "resolve_url",
    "state_of",
]


class Ledger(Claims, Journal, Leasing, Queries, Renames):
    """The job ledger at a path or database URL; safe to share between threads,
    processes and (on PostgreSQL) hosts.

    ``target``: a SQLite path, a ``sqlite:///`` or ``postgresql://`` URL, or None for
    ``$SEEDANCE_DB_URL``, else ``ledger.sqlite3`` in ``$SEEDANCE_HOME``. A PostgreSQL
    ledger that cannot be reached now opens anyway: every use raises
    :class:`~seedance_jupyter.errors.LedgerUnavailableError` (nothing is sent) until
    the database is back, and :attr:`unavailable` says so in one line.
    """

    def __init__(
        self,
        target: str | os.PathLike[str] | None = None,
        *,
        clock: Callable[[], float] = time.time,
        user: str | None = None,
    ) -> None:
        self.user = user or current_user()
        self._db = Database(target, user=self.user, clock=clock)
        self._clock = clock
        self._db.on_ready = self.merge_journal
        self._db.open()
        with contextlib.suppress(LedgerUnavailableError):
            self._db.prepare()

    @property
    def unavailable(self) -> str | None:
        """Why the database server cannot be used now, in one line (None: it can)."""
        return self._db.unavailable
    @property
    def database(self) -> Database:
        """The database under this ledger (for tools that move whole tables)."""
        return self._db

    @property
    def url(self) -> str:
        """The database's URL (with its password: pass it on, never show it)."""
        return self._db.url

    @property
    def name(self) -> str:
        """The database as a person may read it: a file's path, or a URL without password."""
        return self._db.name

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None for a database server."""
        return self._db.path

    @property
    def moved_aside(self) -> Path | None:
        """Where an unreadable SQLite file was moved before a fresh one was started."""
        return self._db.moved_aside

    @property
    def warning(self) -> str | None:
        """One line to show once: a SQLite file on a network or FUSE file system."""
        return self._db.warning

    @property
    def is_sqlite(self) -> bool:
        return self._db.is_sqlite

    @staticmethod
    def default_path() -> Path:
        """``ledger.sqlite3`` in ``$SEEDANCE_HOME``, else in Jupyter's data directory."""
        from ...paths import seedance_home

        return seedance_home() / "ledger.sqlite3"

    def busy_timeout(self, seconds: float) -> contextlib.AbstractContextManager[None]:
        """Within the block, this thread's writes wait at most ``seconds`` for another's lock."""
        return self._db.busy_timeout(seconds)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()
