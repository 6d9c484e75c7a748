"""Leases in the ledger: which process polls a job, until when (one poller per job)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text

from .base import LedgerBase, newest_with_request_id
from .records import JobRecord
from .schema import UNFINISHED, UNSAVED

__all__ = ["Leasing"]


class Leasing(LedgerBase):
    """Take, renew and give up a job's lease; find the jobs nobody polls."""

    def try_lease(
        self, request_id: str, owner: str, seconds: float, *, backend: str | None = None,
        replacing: str | None = None,
    ) -> bool:
        """Take or renew the right to poll this job for ``seconds``; False if another holds it.

        ``replacing``: a holder known to be gone, whose lease is taken before it runs
        out. One guarded UPDATE (SQLite: under the write lock; PostgreSQL: the row
        lock re-checks the guard), so of several processes racing for a free,
        expired or abandoned lease exactly one wins.
        """
        with self._db.write() as conn:
            now = self._clock()
            cursor = conn.execute(text(
                "UPDATE jobs SET lease_owner = :owner, lease_until = :until "  # noqa: S608
                f"WHERE {newest_with_request_id(backend)} AND (lease_owner IS NULL "
                "OR lease_owner = :owner OR lease_owner = :replacing "
                "OR lease_until IS NULL OR lease_until < :now)"),
                {"owner": owner, "until": now + seconds, "now": now, "replacing": replacing,
                 "request_id": request_id, "backend": backend},
            )
            return cursor.rowcount == 1

    def renew(
        self, request_id: str, owner: str, seconds: float, *, backend: str | None = None
    ) -> bool:
        """Extend a lease ``owner`` still holds; False if it was lost meanwhile."""
        with self._db.write() as conn:
            cursor = conn.execute(text(
                "UPDATE jobs SET lease_until = :until "  # noqa: S608
                f"WHERE {newest_with_request_id(backend)} AND lease_owner = :owner"),
                {"owner": owner, "until": self._clock() + seconds,
                 "request_id": request_id, "backend": backend},
            )
            return cursor.rowcount == 1

    def release(
        self, request_id: str | None, owner: str, *, backend: str | None = None
    ) -> None:
        """Give up ``owner``'s lease on one job, or on every job when ``request_id`` is None."""
        where = "lease_owner = :owner"
        if request_id is not None:
            where += f" AND {newest_with_request_id(backend)}"
        with self._db.write() as conn:
            conn.execute(
                text(f"UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE {where}"),  # noqa: S608
                {"owner": owner, "request_id": request_id, "backend": backend},
            )

    def unleased_unfinished(
        self, backend: str, *, gone: Callable[[str], bool] | None = None,
        user: str | None = None,
    ) -> list[JobRecord]:
        """Jobs of ``backend`` (and ``user``) the service accepted, not final or succeeded
        with their video still to save, that no live process polls or downloads:
        unleased, their lease run out, or (``gone(owner)``) held by a process that is gone.

        Two queries, one per partial index (unfinished, unsaved), so each stays flat.
        """
        scope = "" if user is None else " AND user_name = :user"
        records = sorted(
            (r for wanted in (UNFINISHED, UNSAVED) for r in self._select(
                f"{wanted} AND request_id IS NOT NULL AND backend = :backend{scope}",
                {"backend": backend, "user": user},
            )),
            key=lambda r: r.created_at,
        )
        now = self._clock()
        return [
            r for r in records
            if r.lease_owner is None or r.lease_until is None or r.lease_until < now
            or (gone is not None and gone(r.lease_owner))
        ]
