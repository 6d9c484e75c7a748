"""The handlers: the four API endpoints, output downloads and sample images.

Each takes the shared :class:`~.service.Service`, the :class:`Call` (a request
already past faults, the key check and the rate limit) and the id captured from
the path, and returns a :class:`~.replies.Reply`. They never touch HTTP.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from email.message import Message
from typing import Any

from ..status import CANCELLABLE
from . import outputs, pricing
from .bodies import cancel_body, create_body, generation_failed
from .references import fetch_all
from .replies import Reply, error_reply, json_reply
from .service import Service
from .state import Account, EmulatedJob, key_hash, write_private
from .validation import InvalidRequest, check_create

__all__ = ["Call", "cancel", "create", "models", "output", "sample", "status"]


@dataclass(frozen=True)
class Call:
    """A request ready for a handler: JSON body parsed (None if absent or not JSON)."""

    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: Any
    key: str | None
    account: Account | None
    now: float


def models(service: Service, call: Call, argument: str) -> Reply:
    return json_reply(200, pricing.models_body())


def create(service: Service, call: Call, argument: str) -> Reply:
    """Validate against the contract, charge at once, queue the render."""
    assert call.account is not None and call.key is not None  # the route requires a key
    try:
        request = check_create(call.body)
    except InvalidRequest as exc:
        return error_reply(400, str(exc))
    digest = key_hash(call.key)
    model = request.model
    fetched = fetch_all(list(request.media_urls))
    job = EmulatedJob(
        request_id=f"req_{secrets.token_hex(12)}",
        key_hash=digest,
        model=model.id,
        prompt=request.prompt,
        duration=request.duration,
        aspect_ratio=request.aspect_ratio,
        resolution=request.resolution,
        media_urls=list(request.media_urls),
        webhook_url=request.webhook_url,
        metadata=request.metadata,
        credits=pricing.credits_for(
            model, request.duration, request.resolution, with_media=bool(request.media_urls)
        ),
        created_at=call.now,
        queued_seconds=service.runtimes.queue_seconds(service.store.in_flight(digest, call.now)),
        processing_seconds=service.runtimes.processing_seconds(
            model.id, request.duration, request.resolution
        ),
        error=fetched.error or (
            generation_failed("The emulator failed this job on purpose (fail_rate).")
            if service.plan.job_fails() else None
        ),
    )
    if not service.store.charge_and_add(call.account, job):
        return error_reply(
            402, f"This job costs {job.credits} credits; the balance is {call.account.credits}."
        )
    if job.error is None:
        if fetched.picture is not None:
            write_private(service.reference_path(job.request_id), fetched.picture)
        service.render_queue.put(job.request_id)
    return json_reply(200, create_body(job))


def status(service: Service, call: Call, argument: str) -> Reply:
    job = _own_job(service, call, argument)
    if job is None:
        return _no_job(argument)
    return json_reply(200, service.status_answer(job, call.now))


def cancel(service: Service, call: Call, argument: str) -> Reply:
    job = _own_job(service, call, argument)
    if job is None:
        return _no_job(argument)
    before = service.store.cancel(job.request_id, call.now)
    if before not in CANCELLABLE:
        return error_reply(
            400, f"Only queued or processing jobs can be cancelled; this one is {before}."
        )
    return json_reply(200, cancel_body(job.request_id))


def output(service: Service, call: Call, argument: str) -> Reply:
    """The mp4 behind a signed URL, whole or a byte range, as object storage serves it."""
    if not outputs.verify(
        service.store.signing_key, argument, call.query.get("expires"), call.query.get("sig"),
        call.now,
    ):
        return error_reply(403, "This output URL has expired or its signature is wrong; "
                           "get the job again for a fresh URL.")
    job = service.store.get(argument)
    path = service.output_path(argument)
    if job is None or job.status(call.now) != "succeeded" or not path.is_file():
        return error_reply(404, f"No output for {argument}.")
    size = path.stat().st_size
    headers = {"Accept-Ranges": "bytes"}
    try:
        span = outputs.parse_range(call.headers.get("Range"), size)
    except outputs.RangeNotSatisfiable:
        return error_reply(416, f"Range not satisfiable for {size} bytes.",
                           headers={"Content-Range": f"bytes */{size}", **headers})
    if span is None:
        return Reply(200, content_type="video/mp4", headers=headers, file=path, length=size)
    start, end = span
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return Reply(206, content_type="video/mp4", headers=headers, file=path, start=start,
                 length=end - start + 1)


def sample(service: Service, call: Call, argument: str) -> Reply:
    """A sample reference image; PyAV and NumPy load only now."""
    from .samples import SAMPLE_NAMES, sample_png

    if argument not in SAMPLE_NAMES:
        return error_reply(404, f"No sample {argument!r}; there are {', '.join(SAMPLE_NAMES)}.")
    return Reply(200, sample_png(argument), content_type="image/png")


def _own_job(service: Service, call: Call, request_id: str) -> EmulatedJob | None:
    """The job, if it exists under the caller's key (another key's job is "not found")."""
    job = service.store.get(request_id)
    if job is None or call.key is None or job.key_hash != key_hash(call.key):
        return None
    return job


def _no_job(request_id: str) -> Reply:
    return error_reply(404, f"No job {request_id} under this API key.")
