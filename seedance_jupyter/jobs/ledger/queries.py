"""Reads: a job, the unfinished ones, pages, changes, spend and runtime windows.

Every WHERE clause is built from the filters actually given (no ``:x IS NULL OR``),
so each query matches an index on both databases and stays flat with history.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from .base import LedgerBase, newest_with_request_id
from .records import JobRecord, RuntimeWindow, SpendRow
from .schema import COST_SQL, NOT_REUSABLE_SQL, UNFINISHED, UNSAVED

__all__ = ["Queries"]

_RUNTIME_SAMPLE = 20


def _where(base: str, params: dict[str, Any], **filters: Any) -> str:
    """``base`` AND ``column = :column`` for each filter that is not None (into params)."""
    clauses = [base]
    for column, value in filters.items():
        if value is not None:
            clauses.append(f"{column} = :{column}")
            params[column] = value
    return " AND ".join(clauses)


class Queries(LedgerBase):
    """What kernels, the server's watcher, REST and the panel read."""

    def get(self, request_id: str, *, backend: str | None = None) -> JobRecord | None:
        """The newest row with this request id (ids are unique per backend only)."""
        return self._select_one(newest_with_request_id(backend),
                                {"request_id": request_id, "backend": backend})

    def find_reusable(self, backend: str, fingerprint: str) -> JobRecord | None:
        """The newest same-request job that is in flight or succeeded: re-runs reuse it."""
        return self._select_one(
            "backend = :backend AND fingerprint = :fingerprint AND "
            f"status NOT IN {NOT_REUSABLE_SQL} ORDER BY created_at DESC, rowid DESC LIMIT 1",
            {"backend": backend, "fingerprint": fingerprint},
        )

    def unfinished(
        self, backend: str | None = None, *, user: str | None = None
    ) -> list[JobRecord]:
        """Jobs not yet terminal, oldest first: what a poller resumes after a restart."""
        params: dict[str, Any] = {}
        where = _where(UNFINISHED, params, backend=backend, user_name=user)
        return self._select(f"{where} ORDER BY created_at, rowid", params)

    def unsaved(self, backend: str | None = None) -> list[JobRecord]:
        """Succeeded jobs whose video is still to be saved, oldest first: a cut or failed
        download is unfinished work until the file is there."""
        params: dict[str, Any] = {}
        where = _where(UNSAVED, params, backend=backend)
        return self._select(f"{where} ORDER BY created_at, rowid", params)

    def jobs(
        self, *, limit: int = 50, backend: str | None = None, user: str | None = None
    ) -> list[JobRecord]:
        """The newest ``limit`` jobs (all: -1; of ``user``, if given), newest first."""
        params: dict[str, Any] = {"limit": limit}
        where = _where("1 = 1", params, backend=backend, user_name=user)
        bound = " LIMIT :limit" if limit >= 0 else ""
        return self._select(f"{where} ORDER BY created_at DESC, rowid DESC{bound}", params)

    def page(
        self,
        *,
        limit: int,
        before: tuple[float, str] | None = None,
        statuses: frozenset[str] | None = None,
        notebook: str | None = None,
        user: str | None = None,
    ) -> list[JobRecord]:
        """Up to ``limit`` jobs older than the ``(created_at, client_token)`` cursor, newest first.

        ``statuses``, ``notebook`` (as recorded) and ``user`` narrow the list.
        """
        params: dict[str, Any] = {"limit": limit}
        where = [_where("1 = 1", params, notebook=notebook, user_name=user)]
        if before is not None:
            where.append("(created_at < :at OR (created_at = :at AND client_token < :token))")
            params.update(at=before[0], token=before[1])
        if statuses is not None:
            names = {f"s{i}": status for i, status in enumerate(sorted(statuses))}
            where.append(f"status IN ({', '.join(':' + n for n in names)})")
            params.update(names)
        return self._select(
            " AND ".join(where) + " ORDER BY created_at DESC, client_token DESC LIMIT :limit",
            params,
        )

    def changed_since(self, since: float, *, user: str | None = None) -> list[JobRecord]:
        """Rows (of ``user``, if given) written after ``since`` (their ``updated_at``),
        oldest change first."""
        params: dict[str, Any] = {"since": since}
        where = _where("updated_at > :since", params, user_name=user)
        return self._select(f"{where} ORDER BY updated_at, rowid", params)

    def spend(
        self, *, since: float | None = None, backend: str | None = None,
        user: str | None = None, per_user: bool = False,
        credits_per_usd: float | None = None,
    ) -> list[SpendRow]:
        """Spend per local day, backend and model (and user: ``per_user``), oldest day first.

        A job counts at what it was charged, converted at ``credits_per_usd``
        (at its estimate until the service said, or when no rate is given).
        """
        params: dict[str, Any] = {"since": since, "rate": credits_per_usd}
        where = _where("status != 'rejected'", params, backend=backend, user_name=user)
        if since is not None:
            where += " AND created_at >= :since"
        group = "day, backend, model" + (", user_name" if per_user else "")
        who = "user_name" if per_user else "CAST(NULL AS TEXT)"
        sql = f"""
            SELECT {self._db.day_sql('created_at')} AS day, backend, model,
                SUM(CASE WHEN request_id IS NOT NULL THEN 1 ELSE 0 END) AS jobs,
                COALESCE(SUM(CASE WHEN request_id IS NOT NULL
                             THEN credits_charged END), 0) AS credits,
                COALESCE(SUM(CASE WHEN request_id IS NOT NULL
                             THEN {COST_SQL} END), 0.0) AS usd,
                SUM(CASE WHEN request_id IS NULL THEN 1 ELSE 0 END) AS uncertain_jobs,
                COALESCE(SUM(CASE WHEN request_id IS NULL
                             THEN estimated_usd END), 0.0) AS uncertain_usd,
                {who} AS user_name
            FROM jobs WHERE {where} GROUP BY {group} ORDER BY {group}
        """  # noqa: S608
        with self._db.connect() as conn:
            rows = conn.execute(text(sql), params).mappings().all()
        return [SpendRow(**{**row, "jobs": int(row["jobs"]), "credits": int(row["credits"]),
                            "uncertain_jobs": int(row["uncertain_jobs"])}) for row in rows]

    def spent_usd_since(
        self, since: float, *, backend: str | None = None, user: str | None = None,
        credits_per_usd: float | None = None,
    ) -> float:
        """USD of jobs submitted, or possibly submitted, since ``since``: what each was
        charged (at ``credits_per_usd``), its estimate until the service said.

        Pending rows count: another kernel's POST may be in flight right now.
        """
        params: dict[str, Any] = {"since": since, "rate": credits_per_usd}
        where = _where("status != 'rejected' AND created_at >= :since", params,
                       backend=backend, user_name=user)
        with self._db.connect() as conn:
            total = conn.execute(
                text(f"SELECT COALESCE(SUM({COST_SQL}), 0.0) FROM jobs WHERE {where}"),  # noqa: S608
                params,
            ).scalar_one()
        return float(total)

    def runtime_window(
        self,
        *,
        backend: str,
        model: str,
        resolution: str | None,
        duration: int | None,
        media: bool,
    ) -> RuntimeWindow | None:
        """Where the last alike successes finished, in seconds from submission.

        Alike: same backend, model, resolution, duration, and with or without
        reference media. Each success brackets its real finish between the last
        answer that still said running and the first that said done; see
        :meth:`RuntimeWindow.of`. None with fewer than ``MIN_RUNTIME_SAMPLES`` successes.
        """
        params: dict[str, Any] = {"limit": _RUNTIME_SAMPLE}
        where = _where("status = 'succeeded'", params, backend=backend, model=model,
                       resolution=resolution, duration=duration)
        for column, value in (("resolution", resolution), ("duration", duration)):
            if value is None:
                where += f" AND {column} IS NULL"
        where += " AND media_urls != '[]'" if media else " AND media_urls = '[]'"
        with self._db.connect() as conn:
            rows = conn.execute(text(
                "SELECT COALESCE(last_running_at, finished_at) - submitted_at, "  # noqa: S608
                f"finished_at - submitted_at FROM jobs WHERE {where} "
                "AND submitted_at IS NOT NULL AND finished_at IS NOT NULL "
                "ORDER BY finished_at DESC LIMIT :limit"), params,
            ).all()
        return RuntimeWindow.of([(float(low), float(high)) for low, high in rows])
