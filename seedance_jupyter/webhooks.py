"""Webhook signature checks: HMAC-SHA256 hex of the raw body, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["sign_webhook_body", "verify_webhook_signature"]


def sign_webhook_body(body: bytes, secret: str) -> str:
    """The ``x-seedance-signature`` value the service sends for ``body``."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_webhook_signature(body: bytes, signature: str | None, secret: str) -> bool:
    """True only when ``signature`` is the hex HMAC-SHA256 of the exact raw ``body``.

    A missing, empty or non-hex signature is simply wrong: never an exception,
    so a handler can answer 401 without a try block.
    """
    if not signature or not secret or not isinstance(body, (bytes, bytearray)):
        return False
    candidate = signature.strip().lower()
    if len(candidate) != 64 or any(c not in "0123456789abcdef" for c in candidate):
        return False
    return hmac.compare_digest(sign_webhook_body(bytes(body), secret), candidate)
