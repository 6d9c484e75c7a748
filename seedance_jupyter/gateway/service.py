"""The gateway's service: every user's jobs on the team's key, one ledger, one budget rule.

Handlers stay thin: each call here takes the user the authenticator vouched for
and answers a contract body, or raises :class:`Refusal` with the contract's
error code. Each user has a :class:`~seedance_jupyter.jobs.service.JobService`
of their own over the shared backend and database (its ledger rows name them),
so the claim, the create-once rule, the budgets, leases and the poller are the
ones kernels use. The gateway downloads nothing: ``download`` is off.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from .. import messages
from ..errors import (
    AmbiguousSubmitError,
    BudgetExceededError,
    LedgerUnavailableError,
    Refusal,
    SeedanceError,
    ValidationError,
)
from ..jobs.backend import Backend
from ..jobs.budget import Budget, Limit
from ..jobs.ledger import JobRecord, Ledger
from ..jobs.reconciler import delivered_state
from ..jobs.service import JobService
from ..jobs.settings import JobSettings
from ..status import CANCELLABLE
from ..webhooks import verify_webhook_signature
from .body import request_fields

__all__ = ["GatewayConfig", "GatewayService"]

#: How long a retried create waits for the first one's answer before saying "pending".
_SAME_KEY_WAIT_S = 60.0
_ERROR_STATUS = {"invalid_request": 400, "unauthorized": 401, "insufficient_credits": 402,
                 "not_found": 404, "rate_limited": 429}


@dataclass(frozen=True)
class GatewayConfig:
    """What the service reads from the application's settings."""

    db_url: str
    budgets: Mapping[str, float | None]
    admin_users: frozenset[str]
    public_url: str
    webhook_secret: str
    fallback_poll_s: float


class GatewayService:
    """Creates, answers and cancels jobs for authenticated users; takes webhooks."""

    def __init__(self, config: GatewayConfig, backend: Backend) -> None:
        self.config = config
        self.backend = backend
        self._users: dict[str, JobService] = {}
        self._lock = threading.Lock()
        self.ledger = Ledger(config.db_url or None, user="seedance-gateway")

    # -- per user --------------------------------------------------------------------
    def jobs_of(self, user: str) -> JobService:
        """This user's job service (made on first use)."""
        with self._lock:
            service = self._users.get(user)
            if service is None:
                settings = self._settings()
                service = JobService(
                    settings, backend=self.backend, origin="seedance-gateway",
                    ledger=Ledger(self.config.db_url or None, user=user),
                    budget=Budget(settings, self._limits()),
                )
                self._users[user] = service
            return service

    def _settings(self) -> JobSettings:
        budgets = self.config.budgets
        # With webhooks, the poller is only the fallback for a delivery that never came.
        first = self.config.fallback_poll_s if self.config.public_url else 1.0
        return JobSettings(
            download=False, db_url=self.config.db_url, first_poll_delay=first,
            daily_budget_usd=budgets.get("user_daily"),
            team_daily_budget_usd=budgets.get("team_daily"),
            team_monthly_budget_usd=budgets.get("team_monthly"),
        )

    def _limits(self) -> list[Limit]:
        budgets = self.config.budgets

        def limit(name: str) -> Callable[[], float | None]:
            return lambda: budgets.get(name)

        return [
            (limit("user_daily"), messages.GATEWAY_BUDGET_USER_DAILY, "user_today"),
            (limit("user_monthly"), messages.GATEWAY_BUDGET_USER_MONTHLY, "user_month"),
            (limit("team_daily"), messages.GATEWAY_BUDGET_TEAM_DAILY, "team_today"),
            (limit("team_monthly"), messages.GATEWAY_BUDGET_TEAM_MONTHLY, "team_month"),
        ]

    def resume(self) -> int:
        """After a restart: every user's unfinished jobs are tracked again (webhooks or polls)."""
        users = {r.user_name for r in self.ledger.unfinished(self.backend.key) if r.user_name}
        return sum(len(self.jobs_of(user).resume()) for user in sorted(users))

    # -- the contract ----------------------------------------------------------------
    def models(self) -> dict[str, Any]:
        """The service's models answer, as it gave it."""
        return self.backend.client.transport.request("GET", "/models")

    def create(self, user: str, body: object, idempotency_key: str | None) -> dict[str, Any]:
        """A new job paid once; the same ``idempotency_key`` answers the same job."""
        service = self.jobs_of(user)
        fields = request_fields(body)
        if self.config.public_url:
            fields["webhook_url"] = self.config.public_url + "webhook/{token}"
        token = _token(user, idempotency_key) if idempotency_key else None
        if token is not None and service.ledger.by_token(token) is not None:
            return self._created(self._settled(service, token))
        try:
            prompt = fields.pop("prompt")
            request = service.prepare(prompt, **fields)
            submission = service.submit(request, force_new=True, download=False, token=token)
        except BudgetExceededError as exc:
            raise Refusal(402, "insufficient_credits", exc.message) from None
        except AmbiguousSubmitError as exc:
            raise Refusal(500, "internal_error",
                          messages.GATEWAY_UNCERTAIN.format(detail=exc.message)) from None
        except IntegrityError:  # the same key raced in: its claim is the job
            assert token is not None
            return self._created(self._settled(service, token))
        except SeedanceError as exc:
            raise _refusal(exc) from None
        job = submission.job
        return {"success": True, "requestId": job.request_id, "status": job.status,
                "creditsCharged": job.credits_charged}

    def _settled(self, service: JobService, token: str) -> JobRecord:
        """The row of an earlier create with this key, once its POST was answered."""
        deadline = time.monotonic() + _SAME_KEY_WAIT_S
        record = service.ledger.by_token(token)
        while record is not None and record.status == "pending" and time.monotonic() < deadline:
            time.sleep(0.05)
            record = service.ledger.by_token(token)
        assert record is not None
        return record

    @staticmethod
    def _created(record: JobRecord) -> dict[str, Any]:
        if record.status == "rejected":
            code = record.error_code or "internal_error"
            raise Refusal(_ERROR_STATUS.get(code, 502), code, record.error_message or "")
        if record.request_id is None:
            raise Refusal(500, "internal_error", messages.GATEWAY_UNCERTAIN.format(
                detail=record.error_message or record.status))
        return {"success": True, "requestId": record.request_id, "status": "queued",
                "creditsCharged": record.credits_charged}

    def status(self, user: str, request_id: str) -> dict[str, Any]:
        """The job's state from the ledger (kept current by webhooks, else the poller)."""
        return status_body(self._own(user, request_id))

    def cancel(self, user: str, request_id: str) -> dict[str, Any]:
        """Cancel upstream a job the user may see (admins: any)."""
        record = self._own(user, request_id)
        if record.status not in CANCELLABLE:
            raise Refusal(400, "invalid_request", messages.GATEWAY_ALREADY_FINAL.format(
                request_id=request_id, status=record.status))
        job = self.jobs_of(record.user_name or user).get_job(request_id)
        try:
            job.cancel()
        except SeedanceError as exc:
            raise _refusal(exc) from None
        return {"success": True, "requestId": request_id, "status": "cancelled"}

    def _own(self, user: str, request_id: str) -> JobRecord:
        record = self.ledger.get(request_id, backend=self.backend.key)
        if record is None or (record.user_name != user and user not in self.config.admin_users):
            raise Refusal(404, "not_found", messages.GATEWAY_NOT_FOUND.format(
                request_id=request_id))
        return record

    # -- webhooks --------------------------------------------------------------------
    def deliver(self, client_token: str, body: bytes, signature: str | None) -> None:
        """A signed delivery for the job of ``client_token``; anything else changes nothing."""
        secret = self.config.webhook_secret
        if not secret:
            raise Refusal(401, "unauthorized", messages.GATEWAY_WEBHOOK_UNSIGNED)
        if not verify_webhook_signature(body, signature, secret):
            raise Refusal(401, "unauthorized", messages.SERVER_WEBHOOK_BAD_SIGNATURE)
        record = self.ledger.by_token(client_token)
        if record is None or record.backend != self.backend.key or not record.user_name:
            raise Refusal(404, "not_found", messages.SERVER_WEBHOOK_UNKNOWN_JOB)
        state = delivered_state(body)
        if record.request_id is not None and record.request_id != state.request_id:
            raise Refusal(409, "conflict", messages.SERVER_WEBHOOK_OTHER_JOB.format(
                sent=state.request_id, ours=record.request_id))
        self.jobs_of(record.user_name).apply_webhook(body, signature, secret,
                                                     client_token=client_token)

    # -- the admin page ----------------------------------------------------------------
    def records(self, user: str | None, *, limit: int = 50) -> list[JobRecord]:
        """The newest jobs of ``user`` (None: everyone's)."""
        return self.ledger.jobs(limit=limit, backend=self.backend.key, user=user)

    def close(self) -> None:
        """Stop every user's poller; the shared backend last."""
        with self._lock:
            services = list(self._users.values())
        for service in services:
            service.poller.stop()
            service.submitter.close()
            if service.leases is not None:
                service.leases.close()
            service.ledger.close()
        self.ledger.close()
        self.backend.close()


def status_body(record: JobRecord) -> dict[str, Any]:
    """The contract's status answer for a ledger row, exactly its documented fields."""
    status = "queued" if record.status in ("pending", "uncertain") else record.status
    error = None
    if status == "failed":
        error = {"code": record.error_code or "generation_failed",
                 "message": record.error_message or ""}
    return {
        "success": True, "requestId": record.request_id, "status": status,
        "model": record.model, "prompt": record.prompt, "duration": record.duration,
        "aspectRatio": record.aspect_ratio,
        "output": {"type": "video", "url": record.output_url}
        if status == "succeeded" and record.output_url else None,
        "error": error,
    }


def _token(user: str, key: str) -> str:
    """The client token of ``user``'s create with ``key``: another user's same key is
    another job, and nobody can name a token of someone else's."""
    digest = hashlib.sha256(f"{user}\0{key}".encode()).hexdigest()
    return "sjg_" + digest[:24]


def _refusal(exc: SeedanceError) -> Refusal:
    """The contract's answer for an error: bad input is 400 before anything was sent; the
    service's own refusals pass through; anything else is the gateway's 5xx."""
    if isinstance(exc, ValidationError):
        return Refusal(400, "invalid_request", exc.message)
    if exc.code in _ERROR_STATUS:
        return Refusal(_ERROR_STATUS[exc.code], exc.code, exc.message)
    return Refusal(503 if isinstance(exc, LedgerUnavailableError) else 502,
                   "internal_error", exc.message)

