"""``JobSummary``: one frozen view of a job, shared by the card, the tables, REST and TypeScript.

Built from a ledger row (what every process can see) and, when one is at hand,
a live job's newer state; ``to_json()`` is the wire shape, camelCase like the
API, mirrored by ``src/types.ts``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..api.types import JobError, JobState
from ..catalog import is_loopback_url
from ..media.thumbs import thumbnail
from ..messages import (
    CARD_CANCELLED_CHARGED,
    CARD_CANCELLED_FREE,
    CARD_CANCELLED_UNKNOWN,
    CARD_CHARGE_DIFFERED,
    CARD_CREDITS,
    CARD_ESTIMATE,
    CARD_NOT_CHARGED,
)
from ..status import FINAL, label
from .backend import EMBEDDED_KEY
from .ledger import JobRecord

__all__ = ["CHARGE_TOLERANCE", "JobSummary"]

#: A charge further than this fraction from its estimate is pointed out on every card
#: and in the panel (:attr:`JobSummary.charge_label`).
CHARGE_TOLERANCE = 0.10


@dataclass(frozen=True)
class JobSummary:
    """Everything a person is shown about one job, in one place."""

    request_id: str | None
    client_token: str
    status: str
    model: str
    prompt: str
    duration: int | None
    aspect_ratio: str | None
    resolution: str | None
    media_urls: tuple[str, ...]
    estimated_usd: float
    credits_charged: int | None
    backend: str
    is_emulator: bool
    notebook: str | None
    created_at: float
    submitted_at: float | None
    finished_at: float | None
    local_path: str | None
    output_url: str | None
    error: JobError | None
    notice: str | None = None
    poster_data_uri: str | None = None
    #: False when the server finds no notebook at ``notebook`` any more; None: not looked.
    notebook_exists: bool | None = None
    #: Per reference: ``name``, ``kind``, ``sha256``, ``where`` (from the ledger) and
    #: ``thumbnail``, a small ``data:`` JPEG of an image made on this machine, or None.
    media_refs: tuple[dict[str, Any], ...] = ()
    #: The rate a charge in credits converts to USD at (None: not known here).
    credits_per_usd: float | None = None
    #: Why the succeeded job's video is not saved yet (expired URL, not a video, ...);
    #: None once it is saved, or while nothing failed.
    save_error: str | None = None
    #: Who submitted it (on a team's shared ledger, the panel shows whose job it is).
    user: str | None = None

    @property
    def status_label(self) -> str:
        return label(self.status)

    @property
    def charge_parts(self) -> list[str]:
        """What the job cost, as the service reported it: one wording for every card,
        the panel and ``%seedance jobs``.

        The estimate stays until the job is over; a final job with a known charge
        shows only that charge, and a cancelled one whether it was refunded (the
        service reports no refund, so what it charged stays charged).
        """
        credits = self.credits_charged
        if self.status == "rejected":
            return [CARD_NOT_CHARGED]
        parts = [CARD_ESTIMATE.format(usd=self.estimated_usd)] if self.estimated_usd else []
        if self.status in FINAL and credits is not None:
            parts = []
        if self.status == "cancelled":
            if credits is None:
                return [*parts, CARD_CANCELLED_UNKNOWN]
            return [CARD_CANCELLED_CHARGED.format(credits=credits) if credits
                    else CARD_CANCELLED_FREE]
        if credits is not None:
            parts.append(CARD_CREDITS.format(credits=credits))
        charged = self.charged_usd
        if self.charge_differs and charged is not None:
            parts.append(CARD_CHARGE_DIFFERED.format(
                usd=charged, estimate=self.estimated_usd,
                percent=abs(charged / self.estimated_usd - 1) * 100,
                direction="more" if charged > self.estimated_usd else "less",
            ))
        return parts

    @property
    def charge_label(self) -> str:
        """:attr:`charge_parts` on one line."""
        return " · ".join(self.charge_parts)

    @property
    def charged_usd(self) -> float | None:
        """What the service charged, in USD at ``credits_per_usd``; None until it said."""
        if self.credits_charged is None or not self.credits_per_usd:
            return None
        return self.credits_charged / self.credits_per_usd

    @property
    def charge_differs(self) -> bool:
        """The charge is more than :data:`CHARGE_TOLERANCE` off the estimate (a cancel's
        refund is not a difference: the card says that separately)."""
        charged = self.charged_usd
        if charged is None or self.status == "cancelled" or self.estimated_usd <= 0:
            return False
        return abs(charged - self.estimated_usd) > CHARGE_TOLERANCE * self.estimated_usd

    @property
    def run_seconds(self) -> float | None:
        """How long the job ran, submission to finish, once both are known."""
        if self.submitted_at is None or self.finished_at is None:
            return None
        return max(0.0, self.finished_at - self.submitted_at)

    @classmethod
    def from_record(
        cls, record: JobRecord, *, is_emulator: bool | None = None,
        credits_per_usd: float | None = None,
    ) -> JobSummary:
        """The summary of a ledger row; ``is_emulator`` defaults to what the backend key says."""
        error = None
        if record.error_code is not None or (
            record.status in ("failed", "rejected", "submission_uncertain")
            and record.error_message
        ):
            error = JobError(record.error_code or record.status, record.error_message or "")
        return cls(
            request_id=record.request_id,
            client_token=record.client_token,
            status=record.status,
            model=record.model,
            prompt=record.prompt,
            duration=record.duration,
            aspect_ratio=record.aspect_ratio,
            resolution=record.resolution,
            media_urls=record.media_urls,
            estimated_usd=record.estimated_usd,
            credits_charged=record.credits_charged,
            backend=record.backend,
            is_emulator=(
                record.backend == EMBEDDED_KEY or is_loopback_url(record.backend)
                if is_emulator is None else is_emulator
            ),
            notebook=record.notebook,
            created_at=record.created_at,
            submitted_at=record.submitted_at,
            finished_at=record.finished_at,
            local_path=record.local_path,
            output_url=record.output_url,
            error=error,
            media_refs=tuple(
                {**ref, "thumbnail": thumbnail(ref.get("sha256"))} for ref in record.media_refs
            ),
            credits_per_usd=credits_per_usd,
            save_error=None if record.local_path else record.save_error,
            user=record.user_name,
        )

    def with_state(self, state: JobState) -> JobSummary:
        """This summary updated by a newer answer of the service (a live job's state)."""
        return replace(
            self,
            request_id=state.request_id,
            status=state.status,
            output_url=state.output_url or self.output_url,
            error=state.error or self.error,
            credits_charged=(
                state.credits_charged if state.credits_charged is not None
                else self.credits_charged
            ),
            finished_at=(
                self.finished_at or state.received_at if state.is_terminal else self.finished_at
            ),
        )

    def to_json(self) -> dict[str, Any]:
        """The wire shape (REST, the MIME bundle, the events stream)."""
        return {
            "requestId": self.request_id,
            "clientToken": self.client_token,
            "status": self.status,
            "statusLabel": self.status_label,
            "model": self.model,
            "prompt": self.prompt,
            "duration": self.duration,
            "aspectRatio": self.aspect_ratio,
            "resolution": self.resolution,
            "mediaUrls": list(self.media_urls),
            "estimatedUsd": self.estimated_usd,
            "creditsCharged": self.credits_charged,
            "chargeLabel": self.charge_label,
            "chargedUsd": self.charged_usd,
            "backend": self.backend,
            "isEmulator": self.is_emulator,
            "notebook": self.notebook,
            "notebookExists": self.notebook_exists,
            "createdAt": self.created_at,
            "submittedAt": self.submitted_at,
            "finishedAt": self.finished_at,
            "localPath": self.local_path,
            "outputUrl": self.output_url,
            "posterDataUri": self.poster_data_uri,
            "mediaRefs": [dict(ref) for ref in self.media_refs],
            "error": self.error.to_json() if self.error else None,
            "notice": self.notice,
            "saveError": self.save_error,
            "user": self.user,
        }
