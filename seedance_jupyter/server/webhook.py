"""The webhook receiver: ``POST /seedance/webhook/{clientToken}``, the one endpoint without auth.

The service calls it from outside, so it cannot carry a Jupyter token; instead
every delivery must be signed (``x-seedance-signature``, HMAC-SHA256 of the raw
body with ``SeedanceServerApp.webhook_secret``) and name a client token the
ledger knows. Anything else is refused (401 or 404) with nothing changed.
"""

from __future__ import annotations

from jupyter_server.auth.decorator import allow_unauthenticated

from .handlers import SeedanceHandler

__all__ = ["SIGNATURE_HEADER", "WebhookHandler"]

SIGNATURE_HEADER = "x-seedance-signature"


class WebhookHandler(SeedanceHandler):
    """Store a signed delivery's job state in the ledger row of its client token."""

    def check_xsrf_cookie(self) -> None:
        """No cookie can be involved: the HMAC signature is the check."""

    @allow_unauthenticated
    async def post(self, client_token: str) -> None:
        await self.answer(
            self.jobs.deliver, client_token, self.request.body,
            self.request.headers.get(SIGNATURE_HEADER),
        )
