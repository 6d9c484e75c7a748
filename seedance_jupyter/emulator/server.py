"""The emulated service's front door: every request passes here, in one order.

Faults first (latency, an injected or random status, a drop), then the route's
key check and the per-key rate limit, then the handler; every request is
recorded (never its key) before it is answered. A bug in a handler still
answers, as a real service's 500 would.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from .endpoints import Call
from .faults import ROUTES as FAULT_ROUTES
from .faults import Decision
from .httpd import Request
from .replies import Reply, error_reply
from .routes import Route, match
from .service import Service

__all__ = ["FrontDoor", "RecordedRequest"]


@dataclass(frozen=True)
class RecordedRequest:
    """One request the emulator received (never its Authorization header).

    ``status`` is what was answered, or None when the connection was dropped.
    """

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int | None
    time: float
    api_key_ok: bool


class FrontDoor:
    """The :mod:`.httpd` responder of one emulator; keeps the record of requests."""

    def __init__(self, service: Service) -> None:
        self._service = service
        self._lock = threading.Lock()
        self._recorded: list[RecordedRequest] = []
        #: When the last request arrived (start-up until the first): how long it is idle.
        self.last_request_at = time.time()

    def recorded(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._recorded)

    def clear(self) -> None:
        with self._lock:
            self._recorded.clear()

    def __call__(self, request: Request) -> Reply | None:
        now = self.last_request_at = time.time()
        key = _bearer(request.headers.get("Authorization"))
        call = Call(
            method=request.method, path=request.path, query=request.query,
            headers=request.headers, body=_parse_json(request.body), key=key,
            account=self._service.store.account(key), now=now,
        )
        found = match(request.method, request.path)
        route_name = found[0].name if found else None
        decision = self._service.plan.decide(route_name if route_name in FAULT_ROUTES else None)
        if decision.latency > 0:
            time.sleep(decision.latency)
        if request.body is None:
            reply = error_reply(400, "The request body is over 1 MiB or its length is unreadable.")
        elif decision.status is not None:
            reply = _injected(decision)
        elif found is None:
            reply = error_reply(404, f"Nothing at {request.method} {request.path}.")
        else:
            reply = self._answer(call, *found)
        with self._lock:
            self._recorded.append(RecordedRequest(
                call.method, call.path, call.query, call.body,
                None if decision.drop else reply.status, now, call.account is not None,
            ))
        return None if decision.drop else reply

    def _answer(self, call: Call, route: Route, argument: str) -> Reply:
        """The key check and rate limit the route asks for, then its handler."""
        try:
            if route.auth != "none" and call.account is not None:
                limited = self._rate_limited(call)
                if limited is not None:
                    return limited
            elif route.auth == "required":
                return error_reply(401, "Invalid API key")
            return route.handler(self._service, call, argument)
        except Exception as exc:  # a bug here must still answer, as a real 500 would
            return error_reply(500, f"The emulator failed: {type(exc).__name__}: {exc}")

    def _rate_limited(self, call: Call) -> Reply | None:
        assert call.account is not None
        per_minute = self._service.settings.rate_limit_per_minute
        wait = self._service.store.admit(call.account, call.now, per_minute)
        if wait is None:
            return None
        return error_reply(
            429, f"Rate limit of {per_minute} requests per minute reached.",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )


def _injected(decision: Decision) -> Reply:
    headers = {}
    if decision.retry_after is not None:
        headers["Retry-After"] = f"{decision.retry_after:g}"
    status = decision.status or 500
    return error_reply(status, f"Injected fault: HTTP {status}.", headers=headers)


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _parse_json(raw: bytes | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
