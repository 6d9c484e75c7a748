"""What the service answers about a job, parsed and type-checked: ``JobState`` and ``JobError``.

The request side (``GenerationRequest``, ``ModelInfo``) lives in :mod:`..catalog`,
beside the rules that validate and price it, so the magic and the form can check
input with no HTTP at all.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import messages
from ..errors import MalformedResponseError
from ..status import API_STATUSES, SERVICE_TERMINAL

__all__ = ["JobError", "JobState"]


@dataclass(frozen=True)
class JobError:
    """The API's ``error`` object of a failed job."""

    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class JobState:
    """One answer of the status endpoint (or a create, cancel or webhook body)."""

    request_id: str
    status: str
    output_url: str | None = None
    error: JobError | None = None
    credits_charged: int | None = None
    model: str | None = None
    prompt: str | None = None
    duration: int | None = None
    aspect_ratio: str | None = None
    resolution: str | None = None
    metadata: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)
    received_at: float = field(default_factory=time.time, compare=False)
    #: What could not be read of an off-contract answer that was still taken.
    unread: str | None = field(default=None, compare=False)

    @property
    def is_terminal(self) -> bool:
        return self.status in SERVICE_TERMINAL

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> JobState:
        """Parse an answer strictly; off-contract raises :class:`MalformedResponseError`."""
        try:
            request_id = _want(payload.get("requestId"), str, "requestId")
            status = _want(payload.get("status"), str, "status")
            if status not in API_STATUSES:
                raise ValueError(f"unknown status {status[:40]!r}")
            output = payload.get("output")
            output_url = None
            if output is not None:
                output_url = _want(_want(output, dict, "output").get("url"), str, "output.url")
            error = payload.get("error")
            job_error = None
            if error is not None:
                error = _want(error, dict, "error")
                job_error = JobError(
                    code=str(error.get("code") or "unknown"),
                    message=str(error.get("message") or ""),
                )
            return cls(
                request_id=request_id,
                status=status,
                output_url=output_url,
                error=job_error,
                credits_charged=_optional(payload.get("creditsCharged"), int, "creditsCharged"),
                model=_optional(payload.get("model"), str, "model"),
                prompt=_optional(payload.get("prompt"), str, "prompt"),
                duration=_optional(payload.get("duration"), int, "duration"),
                aspect_ratio=_optional(payload.get("aspectRatio"), str, "aspectRatio"),
                resolution=_optional(payload.get("resolution"), str, "resolution"),
                metadata=_optional(payload.get("metadata"), dict, "metadata"),
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise MalformedResponseError(
                messages.MALFORMED_RESPONSE.format(detail=str(exc)[:200])
            ) from None

    @classmethod
    def from_create(cls, payload: Mapping[str, Any]) -> tuple[JobState | None, str | None]:
        """Read a 2xx create answer as far as it goes: a 2xx is a charge, never a refusal.

        Returns the state and what could not be read; the state is None when no
        request id can be found (the submission is then uncertain, not rejected).
        """
        try:
            return cls.from_api(payload), None
        except MalformedResponseError as exc:
            problem = exc.message
        request_id = _find_request_id(payload)
        if request_id is None:
            return None, problem
        status = payload.get("status")
        credits = payload.get("creditsCharged")
        return cls(
            request_id=request_id,
            status=status if status in API_STATUSES else "queued",
            credits_charged=credits if type(credits) is int else None,
            unread=problem,
        ), problem

    def merged(self, new: JobState) -> JobState:
        """``new``, keeping what it leaves out (cancel answers carry only id and status)."""
        return JobState(
            request_id=new.request_id,
            status=new.status,
            output_url=new.output_url if new.output_url is not None else self.output_url,
            error=new.error if new.error is not None else self.error,
            credits_charged=(
                new.credits_charged if new.credits_charged is not None else self.credits_charged
            ),
            model=new.model or self.model,
            prompt=new.prompt if new.prompt is not None else self.prompt,
            duration=new.duration if new.duration is not None else self.duration,
            aspect_ratio=new.aspect_ratio or self.aspect_ratio,
            resolution=new.resolution or self.resolution,
            metadata=new.metadata if new.metadata is not None else self.metadata,
            received_at=new.received_at,
        )


def _find_request_id(payload: Mapping[str, Any]) -> str | None:
    """``requestId`` at the top, or one level down (an answer wrapped in ``data``)."""
    candidates = [payload, *(v for v in payload.values() if isinstance(v, Mapping))]
    for candidate in candidates:
        value = candidate.get("requestId")
        if isinstance(value, str) and value.strip():
            return value
    return None


def _want(value: Any, kind: type, name: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"{name} should be {kind.__name__}, got {type(value).__name__}")
    return value


def _optional(value: Any, kind: type, name: str) -> Any:
    return None if value is None else _want(value, kind, name)
