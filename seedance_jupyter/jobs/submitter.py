"""Submitting a paid job exactly once: claim, POST, record (write-ahead).

One ledger transaction decides (reuse an identical job? within budget? claim a
new row); only then is the create POST sent, and it is never resent. Its answer
is written to the ledger, or, if the database refuses, to the journal beside it
and retried in the background, so a paid job is never lost.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from .. import messages
from ..api.transport import new_client_token
from ..api.types import JobState
from ..catalog import GenerationRequest
from ..errors import AmbiguousSubmitError, SeedanceError
from ..paths import announced_server
from ..retry import Backoff
from .backend import Backend
from .budget import Budget, local_midnight, month_start
from .leases import holder_gone
from .ledger import LEDGER_ERRORS, JobRecord, Ledger, Spent

__all__ = ["WEBHOOK_TOKEN_FIELD", "Sent", "Submitter"]

#: In a ``--webhook`` URL, replaced by the submission's client token.
WEBHOOK_TOKEN_FIELD = "{token}"  # noqa: S105 - a placeholder, not a secret

_log = logging.getLogger("seedance_jupyter")
_LEDGER_RETRIES = 8
#: How long a re-run waits for an identical create POST in flight elsewhere.
_IN_FLIGHT_WAIT_S = 60.0
_LEDGER_BACKOFF = Backoff(base=1.0, cap=30.0)
#: How long one background retry waits for a locked ledger: short, so closing stops it fast.
_RETRY_BUSY_S = 0.5


@dataclass(frozen=True)
class Sent:
    """A create POST the service answered: the job's state, and what to tell about it."""

    token: str
    state: JobState
    notice: str | None


class Submitter:
    """Claims, posts and records the new jobs of one backend and ledger."""

    def __init__(self, ledger: Ledger, backend: Backend, budget: Budget, owner: str) -> None:
        """``owner``: this process's name (host/pid/nonce) on the pending rows it claims."""
        self.ledger = ledger
        self.backend = backend
        self.budget = budget
        self.owner = owner
        # Its own pool: a ledger retry never waits behind downloads or cancels.
        self._retries = concurrent.futures.ThreadPoolExecutor(1, "seedance-ledger")
        self._closing = threading.Event()

    def send(
        self,
        request: GenerationRequest,
        usd: float,
        *,
        reuse: bool,
        notebook: str,
        reuse_from: str | None,
        announce: Callable[[str], None] | None,
    ) -> JobRecord | Sent:
        """The identical job's settled row to re-attach to, or a new job POSTed once.

        ``reuse_from``: re-attach only to a job recorded from that notebook (None: any).
        """
        self.backend.ready()
        token = new_client_token()
        with self.budget.lock:
            claim = self.ledger.claim(
                client_token=token, backend=self.backend.key, request=request,
                fingerprint=request.fingerprint(), estimated_usd=usd, notebook=notebook,
                reuse=reuse, reuse_from=reuse_from, check_budget=self._budget_checks(usd),
                day_start=local_midnight(),
                month_start=month_start() if self.budget.needs_month else None,
                credits_per_usd=self.budget.credits_per_usd(), claimed_by=self.owner,
            )
            if not claim.reused:
                self.budget.spent_usd += usd
        if claim.reused:
            return self._settled(claim.record, announce)
        if announce is not None:
            announce(messages.SUBMITTING.format(
                model=request.model, duration=request.duration, resolution=request.resolution,
                ratio=request.aspect_ratio, usd=usd, backend=self.backend.label,
            ))
        try:
            state = self.backend.client.generations.create(
                _with_webhook(request, token), client_token=token,
                on_wait=None if announce is None else (
                    lambda seconds: announce(messages.WAITING_FOR_SLOT.format(seconds=seconds))
                ),
            )
        except AmbiguousSubmitError as exc:
            self.ledger.record_uncertain(token, detail=exc.message)
            raise
        except SeedanceError as exc:
            with self.budget.lock:
                self.budget.spent_usd -= usd
            self.ledger.record_rejected(token, code=exc.code, message=exc.message)
            raise
        self.budget.charged(usd, state.credits_charged)
        notices = [messages.CREATE_ANSWER_UNREAD.format(detail=state.unread)] if (
            state.unread) else []
        if not self._record_submitted(token, state):
            notices.append(messages.LEDGER_WRITE_FAILED.format(
                request_id=state.request_id, journal=self.ledger.journal_path))
        return Sent(token, state, " ".join(notices) or None)

    def close(self) -> None:
        """Stop the ledger retries within a fraction of a second; the journal beside the
        ledger still holds their request ids, and the next ledger to open merges them."""
        self._closing.set()
        self._retries.shutdown(wait=True, cancel_futures=True)

    def _record_submitted(self, token: str, state: JobState) -> bool:
        """Store a paid job's request id; if the database refuses, journal it and retry.

        False when the database did not take it now: the job is still tracked in
        memory, the journal beside the ledger holds the id for the next start, and
        a background retry writes it as soon as the database allows.
        """
        def write() -> None:
            self.ledger.record_submitted(
                token, request_id=state.request_id, status=state.status,
                credits_charged=state.credits_charged,
            )

        try:
            write()
        except IntegrityError:
            # Off-contract: another row already has this id. The job is paid all the
            # same: its row stays counted, as uncertain, and names the id it was given.
            self.ledger.record_uncertain(token, detail=messages.REQUEST_ID_TAKEN.format(
                request_id=state.request_id))
            return True
        except LEDGER_ERRORS as exc:
            _log.warning("ledger write failed for paid job %s: %s", state.request_id, exc)
        else:
            return True
        with contextlib.suppress(OSError):
            self.ledger.journal_submitted(
                token, request_id=state.request_id, status=state.status,
                credits_charged=state.credits_charged,
            )

        def retry() -> None:
            for attempt in range(_LEDGER_RETRIES):
                if self._closing.wait(_LEDGER_BACKOFF.delay(attempt, jitter=False)):
                    return
                try:
                    with self.ledger.busy_timeout(_RETRY_BUSY_S):
                        write()
                except LEDGER_ERRORS:
                    continue
                return

        self._retries.submit(retry)
        return False

    def _budget_checks(self, usd: float) -> Callable[[Spent], None]:
        """The budget checks a new claim runs inside its transaction (a reuse runs none)."""
        ledger_check = self.budget.ledger_check(usd)

        def check(spent: Spent) -> None:
            self.budget.check_session(usd)
            if ledger_check is not None:
                ledger_check(spent)

        return check

    def _settled(
        self, record: JobRecord, announce: Callable[[str], None] | None
    ) -> JobRecord:
        """An identical POST in flight (this or another process): wait for its outcome.

        If the process that claimed it is gone (a kernel killed mid-create), its
        POST may have been charged: the row is settled at once as uncertain, never
        resent. While it must wait, it says for what.
        """
        deadline = time.monotonic() + _IN_FLIGHT_WAIT_S
        told = False
        while record.status == "pending" and time.monotonic() < deadline:
            owner = record.claimed_by
            if owner is not None and holder_gone(owner):
                return self.ledger.record_abandoned(
                    record.client_token, claimed_by=owner,
                    detail=messages.CLAIMER_GONE.format(owner=_who(owner)),
                )
            if announce is not None and not told:
                announce(messages.WAITING_FOR_IDENTICAL.format(
                    owner=_who(owner), seconds=_IN_FLIGHT_WAIT_S))
                told = True
            time.sleep(0.05)
            record = self.ledger.by_token(record.client_token) or record
        return record


def _who(owner: str | None) -> str:
    """A pending row's claimer as a person reads it: ``process 123 on host``."""
    if owner is None:
        return messages.CLAIMER_UNNAMED
    host, _, rest = owner.partition("/")
    return messages.CLAIMER.format(pid=rest.partition("/")[0], host=host)


def _with_webhook(request: GenerationRequest, token: str) -> GenerationRequest:
    """The request as sent: a webhook URL of its own that names its client token.

    The contract does not promise that webhooks echo ``metadata``, so the URL is
    what ties a delivery to its submission (even one whose create answer was
    lost). ``{token}`` in a user's URL is filled in; with no URL, a Jupyter server
    extension that announced a public address in ``SEEDANCE_HOME/server.json``
    receives it. The ledger keeps the request as written, so re-runs still match.
    """
    if request.webhook_url is not None:
        if WEBHOOK_TOKEN_FIELD not in request.webhook_url:
            return request
        return dataclasses.replace(
            request, webhook_url=request.webhook_url.replace(WEBHOOK_TOKEN_FIELD, token)
        )
    announced = announced_server()
    if announced is None:
        return request
    return dataclasses.replace(request, webhook_url=f"{announced}seedance/webhook/{token}")
