"""Status writes: what the service answered, guarded in SQL so a job only moves forward."""

from __future__ import annotations

from sqlalchemy import text

from .base import FINISHED_AT, LedgerBase, newest_with_request_id, service_status
from .records import COLUMNS, JobRecord
from .schema import ID_FREE, MOVES_FORWARD, TERMINAL_SQL

__all__ = ["StatusWrites"]


class StatusWrites(LedgerBase):
    """Each answer about a job, written so a late or replayed one never moves it back."""

    def record_submitted(
        self, client_token: str, *, request_id: str, status: str, credits_charged: int | None
    ) -> JobRecord:
        """The service accepted the job (and charged it)."""
        return self._require(client_token, self._advance(
            "client_token = :token AND (request_id IS NULL OR request_id = :request_id)",
            {"token": client_token, "request_id": request_id, "credits": credits_charged},
            service_status(status),
            "request_id = :request_id, credits_charged = COALESCE(:credits, credits_charged), "
            "submitted_at = COALESCE(submitted_at, :now)",
        ))

    def record_uncertain(self, client_token: str, *, detail: str) -> JobRecord:
        """The POST may have reached the service and been charged; its answer was lost."""
        return self._require(client_token, self._advance(
            "client_token = :token", {"token": client_token, "detail": detail},
            "submission_uncertain",
            "error_message = :detail, submitted_at = COALESCE(submitted_at, :now)",
        ))

    def record_abandoned(self, client_token: str, *, claimed_by: str, detail: str) -> JobRecord:
        """A pending row whose claiming process died mid-create: its POST may have been
        charged, so it becomes uncertain (never resent). Only while ``claimed_by`` holds it."""
        return self._require(client_token, self._advance(
            "client_token = :token AND claimed_by = :owner",
            {"token": client_token, "owner": claimed_by, "detail": detail},
            "submission_uncertain",
            "error_message = :detail, submitted_at = COALESCE(submitted_at, :now)",
        ))

    def record_rejected(self, client_token: str, *, code: str | None, message: str) -> JobRecord:
        """The service definitely refused the POST (400/401/402...): nothing was charged."""
        return self._require(client_token, self._advance(
            "client_token = :token AND request_id IS NULL",
            {"token": client_token, "code": code, "message": message},
            "rejected",
            "error_code = :code, error_message = :message",
        ))

    def reconcile(self, client_token: str, *, request_id: str, status: str) -> JobRecord | None:
        """A job whose POST answer was lost learns its request id (webhook or lookup).

        None, and nothing written, when the row has another id or another row has this one.
        """
        return self._advance(
            "client_token = :token AND (request_id IS NULL OR request_id = :request_id) "
            f"AND {ID_FREE}",
            {"token": client_token, "request_id": request_id},
            service_status(status),
            "request_id = :request_id, error_message = NULL, "
            "submitted_at = COALESCE(submitted_at, created_at)",
        )

    def record_status(
        self,
        request_id: str,
        *,
        status: str,
        output_url: str | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
        credits_charged: int | None = None,
        last_running_at: float | None = None,
        backend: str | None = None,
    ) -> JobRecord | None:
        """Store a status answer; stale answers leave the row as it was. None if unknown."""
        return self._advance(
            newest_with_request_id(backend),
            {
                "request_id": request_id, "backend": backend, "output_url": output_url,
                "code": error_code, "message": error_message, "credits": credits_charged,
                "running": last_running_at,
            },
            service_status(status),
            "output_url = COALESCE(:output_url, output_url), "
            "error_code = COALESCE(:code, error_code), "
            "error_message = COALESCE(:message, error_message), "
            "credits_charged = COALESCE(:credits, credits_charged), "
            "last_running_at = COALESCE(:running, last_running_at)",
        )

    def record_download(
        self, request_id: str, local_path: str, *, backend: str | None = None,
        releasing: str | None = None,
    ) -> None:
        """Remember where the video was saved, and give up ``releasing``'s lease.

        One write, so no reader ever sees a saved video whose job is still leased.
        """
        with self._db.write() as conn:
            conn.execute(text(
                "UPDATE jobs SET local_path = :path, updated_at = :now, save_error = NULL, "  # noqa: S608
                "lease_until = CASE WHEN lease_owner = :owner THEN NULL ELSE lease_until END, "
                "lease_owner = CASE WHEN lease_owner = :owner THEN NULL ELSE lease_owner END "
                f"WHERE {newest_with_request_id(backend)}"),
                {"path": local_path, "now": self._clock(), "request_id": request_id,
                 "backend": backend, "owner": releasing},
            )

    def record_save_failed(
        self, request_id: str, detail: str, *, backend: str | None = None,
        releasing: str | None = None,
    ) -> None:
        """Remember why the video could not be saved (the job stays to be saved), and
        give up ``releasing``'s lease so another process may try."""
        with self._db.write() as conn:
            conn.execute(text(
                "UPDATE jobs SET save_error = :detail, updated_at = :now, "  # noqa: S608
                "lease_until = CASE WHEN lease_owner = :owner THEN NULL ELSE lease_until END, "
                "lease_owner = CASE WHEN lease_owner = :owner THEN NULL ELSE lease_owner END "
                f"WHERE {newest_with_request_id(backend)} AND local_path IS NULL"),
                {"detail": detail, "now": self._clock(), "request_id": request_id,
                 "backend": backend, "owner": releasing},
            )

    def record_no_download(self, request_id: str, *, backend: str | None = None) -> None:
        """The cell asked for no download (``--no-download``): no process saves this video."""
        with self._db.write() as conn:
            conn.execute(text(
                f"UPDATE jobs SET no_download = 1 WHERE {newest_with_request_id(backend)}"),  # noqa: S608
                {"request_id": request_id, "backend": backend},
            )

    def record_delivery(
        self,
        client_token: str,
        *,
        request_id: str,
        status: str,
        output_url: str | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> JobRecord | None:
        """Store a webhook's final answer on the row of ``client_token``.

        An uncertain submission learns its request id here, unless another row has
        it (a genuine webhook of another job replayed to this one's URL). A row that
        is already final is left exactly as it is (a replayed delivery changes
        nothing), and so is a row with another request id. None if no row has the token.
        """
        values = {
            "token": client_token, "request_id": request_id, "status": service_status(status),
            "output_url": output_url, "code": error_code, "message": error_message,
            "now": self._clock(),
        }
        with self._db.write() as conn:
            conn.execute(text(
                f"UPDATE jobs SET status = :status, updated_at = :now, {FINISHED_AT}, "  # noqa: S608
                "request_id = :request_id, "
                "submitted_at = COALESCE(submitted_at, created_at), "
                "output_url = COALESCE(:output_url, output_url), "
                "error_code = COALESCE(:code, error_code), "
                "error_message = CASE WHEN CAST(:message AS TEXT) IS NOT NULL THEN "
                "CAST(:message AS TEXT) WHEN status = 'submission_uncertain' THEN NULL "
                "ELSE error_message END "
                "WHERE client_token = :token AND "
                "(request_id IS NULL OR request_id = :request_id) AND "
                f"{ID_FREE} AND status NOT IN {TERMINAL_SQL} AND {MOVES_FORWARD}"),
                values,
            )
            row = conn.execute(text(
                f"SELECT {COLUMNS} FROM jobs WHERE client_token = :token"), values  # noqa: S608
            ).mappings().first()
        return JobRecord.from_row(row) if row is not None else None
