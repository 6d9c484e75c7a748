"""The claim: one transaction decides whether a submission may POST (and pay)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, text

from ...catalog import GenerationRequest
from .base import LedgerBase
from .records import COLUMNS, Claim, JobRecord
from .renames import follow_renames
from .schema import COST_SQL, NOT_REUSABLE_SQL

__all__ = ["Claims", "Spent"]

_SPENT_SINCE = (
    f"SELECT COALESCE(SUM({COST_SQL}), 0.0) FROM jobs WHERE backend = :backend "  # noqa: S608
    "AND created_at >= :since AND status != 'rejected'"
)


@dataclass(frozen=True)
class Spent:
    """What the claim's budget checks see (estimated USD, pending rows included):
    this user's today, the whole team's today and this month, and this user's month
    (0 unless a month was asked for)."""

    user_today: float
    team_today: float
    team_month: float
    user_month: float = 0.0


class Claims(LedgerBase):
    """Writes a pending row before a create POST, or finds the identical job to reuse."""

    def claim(
        self,
        *,
        client_token: str,
        backend: str,
        request: GenerationRequest,
        fingerprint: str,
        estimated_usd: float,
        notebook: str | None = None,
        reuse: bool = True,
        reuse_from: str | None = None,
        check_budget: Callable[[Spent], None] | None = None,
        day_start: float | None = None,
        month_start: float | None = None,
        credits_per_usd: float | None = None,
        claimed_by: str | None = None,
    ) -> Claim:
        """Reuse this user's identical job, or check the budgets and write a pending row.

        One transaction, serialized per backend (SQLite's write lock, PostgreSQL's
        advisory lock), so of N identical submissions racing from any number of
        kernels, threads and hosts exactly one claims a row (and may POST), and
        racing submissions never overrun a budget: the estimate is reserved by the
        pending row itself, which names the process that claimed it (``claimed_by``,
        host/pid/nonce). ``check_budget(spent)`` raises to refuse; it sees every
        non-rejected row since ``day_start`` (and ``month_start``), each at what it was
        charged (at ``credits_per_usd``) or, until the service said, its estimate.
        ``notebook`` and ``reuse_from`` follow this user's renames (see
        :meth:`~.renames.Renames.move_notebook`).
        """
        with self._db.write() as conn:
            self._db.serialize(conn, f"claim:{backend}")
            # A kernel started for a notebook renamed since records (and re-uses) under
            # its new name: a re-run after the rename re-uses instead of paying again.
            notebook = follow_renames(conn, notebook, self.user)
            reuse_from = follow_renames(conn, reuse_from, self.user)
            if reuse:
                found = self._reusable(conn, backend, fingerprint, reuse_from)
                if found is not None:
                    return Claim(found, reused=True)
            if check_budget is not None and day_start is not None:
                check_budget(self._spent(conn, backend, day_start, month_start,
                                         credits_per_usd))
            self._insert_pending(
                conn, client_token=client_token, backend=backend, request=request,
                fingerprint=fingerprint, estimated_usd=estimated_usd, notebook=notebook,
                claimed_by=claimed_by,
            )
            row = conn.execute(text(f"SELECT {COLUMNS} FROM jobs WHERE "  # noqa: S608
                                    "client_token = :token"), {"token": client_token}
                               ).mappings().one()
        return Claim(JobRecord.from_row(row), reused=False)

    def _reusable(
        self, conn: Connection, backend: str, fingerprint: str, origin: str | None
    ) -> JobRecord | None:
        """This user's newest identical job in flight or succeeded (from ``origin`` if given)."""
        scope = "" if origin is None else "AND notebook = :origin "
        row = conn.execute(text(
            f"SELECT {COLUMNS} FROM jobs WHERE backend = :backend AND "  # noqa: S608
            f"fingerprint = :fingerprint AND status NOT IN {NOT_REUSABLE_SQL} "
            f"AND user_name = :user {scope}ORDER BY created_at DESC, rowid DESC LIMIT 1"),
            {"backend": backend, "fingerprint": fingerprint, "origin": origin,
             "user": self.user},
        ).mappings().first()
        return JobRecord.from_row(row) if row is not None else None

    def spent(
        self, backend: str, *, day_start: float, month_start: float | None = None,
        credits_per_usd: float | None = None,
    ) -> Spent:
        """What the budgets see now (a preview; the claim counts again in its transaction)."""
        with self._db.connect() as conn:
            return self._spent(conn, backend, day_start, month_start, credits_per_usd)

    def _spent(
        self, conn: Connection, backend: str, day_start: float, month_start: float | None,
        rate: float | None,
    ) -> Spent:
        def total(since: float, user: str | None) -> float:
            sql = _SPENT_SINCE + ("" if user is None else " AND user_name = :user")
            value = conn.execute(text(sql), {"backend": backend, "since": since,
                                             "user": user, "rate": rate}).scalar_one()
            return float(value)

        if month_start is None:
            return Spent(total(day_start, self.user), total(day_start, None), 0.0)
        return Spent(total(day_start, self.user), total(day_start, None),
                     total(month_start, None), total(month_start, self.user))

    def _insert_pending(
        self,
        conn: Connection,
        *,
        client_token: str,
        backend: str,
        request: GenerationRequest,
        fingerprint: str,
        estimated_usd: float,
        notebook: str | None,
        claimed_by: str | None,
    ) -> None:
        now = self._clock()
        metadata = dict(request.metadata) if request.metadata is not None else None
        row = {
            "client_token": client_token, "backend": backend, "status": "pending",
            "model": request.model, "prompt": request.prompt, "duration": request.duration,
            "aspect_ratio": request.aspect_ratio, "resolution": request.resolution,
            "media_urls": json.dumps(list(request.media_urls)),
            "media_refs": json.dumps([dict(ref) for ref in request.media_refs]),
            "webhook_url": request.webhook_url,
            "metadata": json.dumps(metadata) if metadata is not None else None,
            "fingerprint": fingerprint, "estimated_usd": float(estimated_usd),
            "notebook": notebook, "created_at": now, "updated_at": now,
            "user_name": self.user, "claimed_by": claimed_by,
        }
        columns = ", ".join(row)
        placeholders = ", ".join(f":{name}" for name in row)
        conn.execute(text(f"INSERT INTO jobs ({columns}) VALUES ({placeholders})"), row)  # noqa: S608
