"""The gateway's HTTP face: the contract's four endpoints, the webhook, thin over the service.

Each handler authenticates (Bearer token -> user), runs the blocking service
call in a worker thread and writes its body, or the contract's error envelope.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from tornado import web

from .. import messages
from ..errors import Refusal
from .auth import Authenticator
from .service import GatewayService

__all__ = [
    "CancelHandler",
    "CreateHandler",
    "GatewayHandler",
    "ModelsHandler",
    "NotFoundHandler",
    "StatusHandler",
    "WebhookHandler",
]

SIGNATURE_HEADER = "x-seedance-signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
_MAX_KEY = 200


class GatewayHandler(web.RequestHandler):
    """Errors in the contract's envelope; blocking calls off the event loop."""

    def initialize(self, service: GatewayService, authenticator: Authenticator) -> None:
        self.service = service
        self.authenticator = authenticator

    def refuse(self, refusal: Refusal) -> None:
        self.set_status(refusal.status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"success": False,
                                "error": {"code": refusal.code, "message": refusal.message}}))

    async def answer(self, call: Callable[..., dict[str, Any]], *args: Any) -> None:
        """Run ``call(*args)`` in a worker thread; finish with its JSON or its refusal."""
        try:
            result = await asyncio.get_running_loop().run_in_executor(None, call, *args)
        except Refusal as refusal:
            self.refuse(refusal)
            return
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(result))

    async def user(self) -> str | None:
        """The caller's name, or None after answering 401 (the token is never echoed)."""
        header = self.request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        name = None
        if scheme.lower() == "bearer" and token.strip():
            name = await asyncio.get_running_loop().run_in_executor(
                None, self.authenticator.user_for_token, token.strip())
        if name is None:
            self.refuse(Refusal(401, "unauthorized", messages.GATEWAY_UNAUTHORIZED))
        return name

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        code = "internal_error" if status_code >= 500 else "invalid_request"
        self.refuse(Refusal(status_code, code, self._reason))


class ModelsHandler(GatewayHandler):
    """The catalogue, like the service's own, needs no key (clients ask it without one)."""

    async def get(self) -> None:
        await self.answer(self.service.models)


class CreateHandler(GatewayHandler):
    async def post(self) -> None:
        user = await self.user()
        if user is None:
            return
        key = self.request.headers.get(IDEMPOTENCY_HEADER)
        if key is not None and not (0 < len(key) <= _MAX_KEY and key.isprintable()
                                    and " " not in key):
            self.refuse(Refusal(400, "invalid_request", messages.GATEWAY_BAD_IDEMPOTENCY_KEY))
            return
        try:
            body: object = json.loads(self.request.body or b"null")
        except ValueError:
            body = None
        await self.answer(self.service.create, user, body, key)


class StatusHandler(GatewayHandler):
    async def get(self, request_id: str) -> None:
        user = await self.user()
        if user is not None:
            await self.answer(self.service.status, user, request_id)


class CancelHandler(GatewayHandler):
    async def post(self, request_id: str) -> None:
        user = await self.user()
        if user is not None:
            await self.answer(self.service.cancel, user, request_id)


class WebhookHandler(GatewayHandler):
    """``POST {prefix}webhook/<token>``: no Bearer; the HMAC signature is the check."""

    async def post(self, client_token: str) -> None:
        def deliver() -> dict[str, Any]:
            self.service.deliver(client_token, self.request.body,
                                 self.request.headers.get(SIGNATURE_HEADER))
            return {"success": True}

        await self.answer(deliver)


class NotFoundHandler(GatewayHandler):
    def prepare(self) -> None:
        self.refuse(Refusal(404, "not_found",
                            messages.GATEWAY_ROUTE_NOT_FOUND.format(path=self.request.path)))
