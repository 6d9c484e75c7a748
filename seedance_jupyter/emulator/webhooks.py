"""Webhook deliveries: signed JSON POSTs, retried with the package's backoff on their own threads.

Each delivery runs on a daemon thread so a slow or dead receiver never holds up
the API. It is tried up to five times until the receiver answers 2xx, waiting
:class:`~seedance_jupyter.retry.Backoff` delays in between (without jitter, so a
test knows the first retry comes 0.5 s later), and every attempt is recorded.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..retry import Backoff
from ..webhooks import sign_webhook_body

__all__ = ["ATTEMPTS", "BACKOFF", "DIRECT_OPENER", "SIGNATURE_HEADER", "WebhookAttempt",
           "WebhookSender"]

ATTEMPTS = 5
BACKOFF = Backoff(base=0.5, cap=4.0)
SIGNATURE_HEADER = "x-seedance-signature"
_TIMEOUT = 5.0
#: Straight to the receiver, never through an HTTP(S)_PROXY from the environment.
DIRECT_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class WebhookAttempt:
    """One delivery attempt: what was sent where, and how the receiver answered."""

    request_id: str
    url: str
    body: bytes
    signature: str | None
    attempt: int
    status: int | None
    error: str | None
    time: float

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class WebhookSender:
    """Starts deliveries; ``record`` gets every attempt, ``stop`` ends pending retries."""

    def __init__(self, record: Callable[[WebhookAttempt], None], stop: threading.Event) -> None:
        self._record = record
        self._stop = stop

    def send(self, request_id: str, url: str, payload: dict[str, Any], secret: str | None) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode()
        signature = sign_webhook_body(body, secret) if secret else None
        threading.Thread(
            target=self._deliver, args=(request_id, url, body, signature),
            name=f"seedance-emu-webhook-{request_id}", daemon=True,
        ).start()

    def _deliver(self, request_id: str, url: str, body: bytes, signature: str | None) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            delay = 0.0 if attempt == 1 else BACKOFF.delay(attempt - 2, jitter=False)
            if self._stop.wait(delay):
                return
            status, error = _post(url, body, signature)
            outcome = WebhookAttempt(
                request_id, url, body, signature, attempt, status, error, time.time()
            )
            self._record(outcome)
            if outcome.ok:
                return


def _post(url: str, body: bytes, signature: str | None) -> tuple[int | None, str | None]:
    headers = {"Content-Type": "application/json", "User-Agent": "seedance-emulator"}
    if signature:
        headers[SIGNATURE_HEADER] = signature
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - http(s) only, checked at create
    try:
        with DIRECT_OPENER.open(request, timeout=_TIMEOUT) as response:
            return int(response.status), None
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code, None
    except (OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"
