"""The answer bodies, with exactly the fields the contract documents and no more.

A client must not come to rely on fields the real service may not send, so by
default the emulator is terse: no ``metadata``, no ``resolution`` in status
answers or webhooks. ``echo_metadata=True`` adds the stored metadata back, for
tests that want a kinder server.
"""

from __future__ import annotations

from typing import Any

from .state import EmulatedJob

__all__ = [
    "CANCEL_FIELDS", "CREATE_FIELDS", "STATUS_FIELDS", "WEBHOOK_FIELDS",
    "cancel_body", "create_body", "generation_failed", "status_body", "webhook_body",
]

CREATE_FIELDS = ("success", "requestId", "status", "creditsCharged")
STATUS_FIELDS = (
    "success", "requestId", "status", "model", "prompt", "duration", "aspectRatio", "output",
    "error",
)
CANCEL_FIELDS = ("success", "requestId", "status")
WEBHOOK_FIELDS = ("success", "requestId", "status", "output", "error")


def create_body(job: EmulatedJob) -> dict[str, Any]:
    return {
        "success": True, "requestId": job.request_id, "status": "queued",
        "creditsCharged": job.credits,
    }


def status_body(
    job: EmulatedJob, status: str, output_url: str | None, *, echo_metadata: bool
) -> dict[str, Any]:
    """The status answer; ``output_url`` only matters once the job has succeeded."""
    body: dict[str, Any] = {
        "success": True, "requestId": job.request_id, "status": status,
        "model": job.model, "prompt": job.prompt, "duration": job.duration,
        "aspectRatio": job.aspect_ratio,
        "output": {"type": "video", "url": output_url} if status == "succeeded" else None,
        "error": job.error if status == "failed" else None,
    }
    if echo_metadata:
        body["metadata"] = job.metadata
    return body


def webhook_body(status_answer: dict[str, Any]) -> dict[str, Any]:
    """The webhook body: the status answer cut to the fields the contract lists for it."""
    kept = (*WEBHOOK_FIELDS, "metadata")
    return {name: value for name, value in status_answer.items() if name in kept}


def cancel_body(request_id: str) -> dict[str, Any]:
    return {"success": True, "requestId": request_id, "status": "cancelled"}


def generation_failed(message: str) -> dict[str, str]:
    """The ``error`` of a job that ended ``failed``."""
    return {"code": "generation_failed", "message": message}
