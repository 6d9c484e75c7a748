"""What every part of the ledger shares: its database, clock and user, and row helpers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import text

from ...status import LOCAL_STATUSES
from .database import Database
from .records import COLUMNS, JobRecord
from .schema import MOVES_FORWARD, TERMINAL_SQL

__all__ = ["LedgerBase", "newest_with_request_id", "service_status"]

_NO_SUCH_ROW = "no ledger row has client token {token!r}"
_NOT_A_SERVICE_STATUS = "{status!r} is a status only the ledger itself sets"
#: ``finished_at`` as a move to ``:status`` leaves it: set once, by the first final status.
FINISHED_AT = (
    f"finished_at = CASE WHEN CAST(:status AS TEXT) IN {TERMINAL_SQL} "
    "THEN COALESCE(finished_at, :now) ELSE finished_at END"
)


class LedgerBase:
    """The database, clock and user each role of the ledger works with."""

    _db: Database
    _clock: Callable[[], float]
    #: Who this process works for; its new rows name them.
    user: str

    def by_token(self, client_token: str) -> JobRecord | None:
        return self._select_one("client_token = :token", {"token": client_token})

    def _select_one(self, where: str, params: Mapping[str, Any]) -> JobRecord | None:
        records = self._select(where, params)
        return records[0] if records else None

    def _select(self, where_and_order: str, params: Mapping[str, Any]) -> list[JobRecord]:
        with self._db.connect() as conn:
            rows = conn.execute(
                text(f"SELECT {COLUMNS} FROM jobs WHERE {where_and_order}"), dict(params)  # noqa: S608
            ).mappings().all()
        return [JobRecord.from_row(row) for row in rows]

    def _advance(
        self, where: str, params: Mapping[str, Any], status: str, assignments: str
    ) -> JobRecord | None:
        """Move the row matched by ``where`` to ``status`` unless that would go backwards.

        Returns the row as it stands afterwards (unchanged if the move was stale),
        or None when ``where`` matches no row.
        """
        values = {**params, "status": status, "now": self._clock()}
        with self._db.write() as conn:
            conn.execute(text(
                f"UPDATE jobs SET status = :status, updated_at = :now, {FINISHED_AT}, "  # noqa: S608
                f"{assignments} WHERE {where} AND {MOVES_FORWARD}"), values)
            row = conn.execute(
                text(f"SELECT {COLUMNS} FROM jobs WHERE {where}"), values  # noqa: S608
            ).mappings().first()
        return JobRecord.from_row(row) if row is not None else None

    def _require(self, client_token: str, record: JobRecord | None) -> JobRecord:
        if record is None:
            record = self.by_token(client_token)
        if record is None:
            raise KeyError(_NO_SUCH_ROW.format(token=client_token))
        return record


def service_status(status: str) -> str:
    """Refuse a local status in a service answer: "rejected" would hide a paid job."""
    if status in LOCAL_STATUSES:
        raise ValueError(_NOT_A_SERVICE_STATUS.format(status=status))
    return status


def newest_with_request_id(backend: str | None) -> str:
    """SQL matching the newest row with ``:request_id`` (and ``:backend`` when given)."""
    scope = " AND backend = :backend" if backend is not None else ""
    return (
        "rowid = (SELECT rowid FROM jobs WHERE request_id = :request_id"  # noqa: S608
        f"{scope} ORDER BY created_at DESC, rowid DESC LIMIT 1)"
    )
