"""What the ledger hands out: rows as frozen records, claims, spend rows, runtime windows."""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...catalog import GenerationRequest
from ...status import API_STATUSES, FINAL

if TYPE_CHECKING:
    from ...api.types import JobState

__all__ = [
    "COLUMNS", "MIN_RUNTIME_SAMPLES", "Claim", "JobRecord", "RuntimeWindow", "SpendRow",
    "state_of",
]

#: Fewer alike successes than this teach no runtime window.
MIN_RUNTIME_SAMPLES = 5


@dataclass(frozen=True)
class JobRecord:
    """One ledger row: a job from before its POST to its download."""

    client_token: str
    request_id: str | None
    backend: str
    status: str
    model: str
    prompt: str
    duration: int | None
    aspect_ratio: str | None
    resolution: str | None
    media_urls: tuple[str, ...]
    webhook_url: str | None
    metadata: dict[str, Any] | None = field(hash=False)
    fingerprint: str
    estimated_usd: float
    credits_charged: int | None
    output_url: str | None
    local_path: str | None
    error_code: str | None
    error_message: str | None
    notebook: str | None
    created_at: float
    submitted_at: float | None
    updated_at: float
    finished_at: float | None
    last_running_at: float | None = None
    lease_owner: str | None = None
    lease_until: float | None = None
    #: Which process claimed the pending row (host/pid/nonce), to settle it if it died.
    claimed_by: str | None = None
    #: Why the last try to save the video failed (None once saved, or never tried).
    save_error: str | None = None
    #: The cell asked for no download (--no-download): no process saves the video.
    no_download: bool = False
    #: Who submitted it: ``JUPYTERHUB_USER`` where set, else the operating-system user.
    user_name: str | None = None
    #: Each reference medium's name, kind, content hash and where it was published.
    media_refs: tuple[dict[str, Any], ...] = field(default=(), hash=False)

    @property
    def is_terminal(self) -> bool:
        return self.status in FINAL

    @property
    def request(self) -> GenerationRequest:
        """The create request this row recorded."""
        return GenerationRequest(
            prompt=self.prompt, model=self.model, media_urls=self.media_urls,
            aspect_ratio=self.aspect_ratio, duration=self.duration,
            resolution=self.resolution, webhook_url=self.webhook_url, metadata=self.metadata,
            media_refs=self.media_refs,
        )

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> JobRecord:
        """The record of a row selected with :data:`COLUMNS`."""
        values = dict(row)
        values["media_urls"] = tuple(json.loads(values["media_urls"]))
        values["media_refs"] = tuple(json.loads(values["media_refs"]))
        values["no_download"] = bool(values["no_download"])
        if values["metadata"] is not None:
            values["metadata"] = json.loads(values["metadata"])
        return cls(**values)


#: The columns a record is read from, in SQL (the table may hold more, such as rowid).
COLUMNS = ", ".join(f.name for f in dataclasses.fields(JobRecord))


def state_of(record: JobRecord) -> JobState:
    """The service state a ledger row records (a local status reads as ``queued``)."""
    # Imported here: the api package pulls in the HTTP client, which %load_ext never needs.
    from ...api.types import JobError, JobState

    assert record.request_id is not None
    error = None
    if record.error_code is not None:
        error = JobError(record.error_code, record.error_message or "")
    return JobState(
        request_id=record.request_id,
        status=record.status if record.status in API_STATUSES else "queued",
        output_url=record.output_url, error=error, credits_charged=record.credits_charged,
        model=record.model, prompt=record.prompt, duration=record.duration,
        aspect_ratio=record.aspect_ratio, resolution=record.resolution,
    )


@dataclass(frozen=True)
class Claim:
    """What :meth:`Ledger.claim` found or wrote: an identical job to reuse, or a new row."""

    record: JobRecord
    reused: bool


@dataclass(frozen=True)
class SpendRow:
    """Spend of one local day, backend, model (and user, when asked per user).

    ``jobs``/``credits``/``usd`` count jobs the service accepted (they have a
    request id), ``usd`` at what each was charged when the service said (converted
    at the rate the caller gave) and at its estimate until then; ``uncertain_*``
    count jobs whose POST may have been charged without an answer (pending or
    submission_uncertain), so possible charges stay visible. Rejected jobs cost
    nothing and appear nowhere.
    """

    day: str
    backend: str
    model: str
    jobs: int
    credits: int
    usd: float
    uncertain_jobs: int
    uncertain_usd: float
    user_name: str | None = None


@dataclass(frozen=True)
class RuntimeWindow:
    """Where alike jobs finish, in seconds from submission: from ``low`` (p5) to
    ``high`` (p95), learnt from ``samples`` finished jobs."""

    low: float
    high: float
    samples: int

    @classmethod
    def of(cls, brackets: Sequence[tuple[float, float]]) -> RuntimeWindow | None:
        """The window of finish brackets ``(last seen running, first seen done)``.

        Each job's finish is taken at the point of its bracket nearest the median
        of all the brackets' midpoints (the least spread the answers allow), give
        or take half a bracket: the window runs from the 5th to the 95th
        percentile of those points (linear interpolation between order
        statistics), widened by the median half-width. So wide brackets (jobs
        polled sparsely, before anything was learnt) do not stretch the window of
        jobs that all take the same time. None with too few brackets.
        """
        if len(brackets) < MIN_RUNTIME_SAMPLES:
            return None
        centre = statistics.median((low + high) / 2 for low, high in brackets)
        finishes = sorted(min(max(centre, low), high) for low, high in brackets)
        half = statistics.median((high - low) / 2 for low, high in brackets)
        return cls(_quantile(finishes, 0.05) - half, _quantile(finishes, 0.95) + half,
                   len(brackets))


def _quantile(ordered: Sequence[float], q: float) -> float:
    position = q * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)
