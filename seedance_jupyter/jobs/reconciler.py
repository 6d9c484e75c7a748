"""Jobs that arrive from outside a submit: webhook deliveries and jobs seen later.

Both must be tied to the submission that paid for them, by proof only (a
client token, or a single alike uncertain row), never by guessing.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from .. import messages
from ..api.transport import CLIENT_TOKEN_KEY
from ..api.types import JobState
from ..errors import Refusal, SeedanceError
from ..webhooks import verify_webhook_signature
from .backend import Backend
from .handle import Job
from .ledger import JobRecord, Ledger

__all__ = ["Reconciler", "delivered_state"]


class Reconciler:
    """Applies webhooks and matches late-seen jobs to the ledger of one backend."""

    def __init__(self, ledger: Ledger, backend: Backend, get_job: Callable[[str], Job]) -> None:
        """``get_job(request_id)``: the service's live job of that id."""
        self.ledger = ledger
        self.backend = backend
        self.get_job = get_job
        #: Set once a webhook of this backend was applied: jobs that asked for one
        #: are then polled only as a rare safety check.
        self.webhooks_arrive = False

    def reconcile(self, request_id: str, *, client_token: str | None = None) -> Job:
        """Match a job seen later (dashboard, webhook) to an uncertain submission.

        The proof, in order: the client token of the webhook URL that delivered
        it; the token in ``metadata``, if this server echoes it (the contract does
        not promise that); else the one uncertain submission whose prompt, model,
        duration and ratio the service reports. Several alike are never guessed.
        """
        state = self.backend.client.generations.get(request_id)
        echoed = (state.metadata or {}).get(CLIENT_TOKEN_KEY)
        token = client_token or (echoed if isinstance(echoed, str) else None)
        record = self.ledger.by_token(token) if token else self._only_alike(state)
        if record is None:
            raise SeedanceError(
                messages.NOT_OURS.format(request_id=request_id), request_id=request_id
            )
        if record.request_id is None:
            self.ledger.reconcile(record.client_token, request_id=request_id,
                                  status=state.status)
        job = self.get_job(request_id)
        job.update(state)
        return job

    def apply_webhook(
        self, body: bytes, signature: str | None, secret: str, *, client_token: str | None = None
    ) -> Job:
        """Take a webhook delivery: verified, idempotent (a replay changes nothing).

        ``client_token`` is the token of the webhook URL it came to (see
        :func:`~seedance_jupyter.jobs.submitter._with_webhook`): it ties a delivery
        to a submission whose create answer was lost.

        A finished job is left as it is: a replayed body carries an older signed
        output URL than the one polling may already have stored.
        """
        if not verify_webhook_signature(body, signature, secret):
            raise SeedanceError(messages.WEBHOOK_REJECTED, code="bad_signature")
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise SeedanceError(messages.WEBHOOK_REJECTED, code="bad_body")
        state = JobState.from_api(payload)
        if self.ledger.get(state.request_id) is None:
            return self.reconcile(state.request_id, client_token=client_token)
        job = self.get_job(state.request_id)
        if not job.done:
            job.update(state)
        self.webhooks_arrive = True
        return job

    def by_webhook(self, job: Job) -> bool:
        """Poller hook: True for a job whose webhook is trusted to report its end."""
        request = job.request
        return self.webhooks_arrive and request is not None and request.webhook_url is not None

    def _only_alike(self, state: JobState) -> JobRecord | None:
        """The single uncertain submission of this backend that ``state`` describes."""
        alike = [
            r for r in self.ledger.unfinished(self.backend.key, user=self.ledger.user)
            if r.request_id is None and r.prompt == state.prompt and r.model == state.model
            and state.duration in (None, r.duration)
            and state.aspect_ratio in (None, r.aspect_ratio)
        ]
        return alike[0] if len(alike) == 1 else None


def delivered_state(body: bytes) -> JobState:
    """A webhook delivery's job state; a body that is not one is a 400 ``invalid_request``."""
    try:
        payload = json.loads(body)
        if not isinstance(payload, dict):
            raise ValueError("not a JSON object")
        return JobState.from_api(payload)
    except (ValueError, SeedanceError) as exc:
        raise Refusal(400, "invalid_request",
                      messages.SERVER_WEBHOOK_BAD_BODY.format(detail=exc)) from exc
