"""Every error the package raises, so callers can catch one base class.

Each carries the HTTP status, the API's error code and message, and the request
id where there is one; none ever holds the API key.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AmbiguousSubmitError",
    "BudgetExceededError",
    "DownloadError",
    "InsufficientCreditsError",
    "InvalidRequestError",
    "LedgerUnavailableError",
    "MalformedResponseError",
    "NotFoundError",
    "OutputExpiredError",
    "RateLimitedError",
    "Refusal",
    "SeedanceError",
    "ServerError",
    "UnauthorizedError",
    "ValidationError",
    "WaitTimeoutError",
    "error_for_status",
]


class SeedanceError(Exception):
    """Base of every error raised by seedance_jupyter."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id

    def __str__(self) -> str:
        parts = [self.message]
        if self.code:
            parts.append(f"[{self.code}]")
        if self.status is not None:
            parts.append(f"(HTTP {self.status})")
        if self.request_id:
            parts.append(f"request {self.request_id}")
        return " ".join(parts)

    def _render_traceback_(self) -> list[str]:
        """IPython shows this one line instead of a traceback: these are expected errors.

        It is the message a person reads; the code, HTTP status and request id
        stay on the exception (and in ``str()``) for logs and programs.
        """
        return [f"{type(self).__name__}: {self.message}"]


class LedgerUnavailableError(SeedanceError):
    """The ledger cannot be written (a read-only folder) or its database server cannot be
    reached: nothing may be paid for, since a paid job could not be recorded."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="ledger_unavailable")


class ValidationError(SeedanceError, ValueError):
    """Bad input, caught before anything was sent or paid for."""

    def __init__(self, field: str, value: Any, allowed: str, message: str) -> None:
        super().__init__(message, code="validation_error")
        self.field = field
        self.value = value
        self.allowed = allowed

    def __str__(self) -> str:
        return self.message


class InvalidRequestError(SeedanceError):
    """HTTP 400 ``invalid_request``: the body did not match the schema."""


class UnauthorizedError(SeedanceError):
    """HTTP 401 ``unauthorized``: the key is missing, revoked or invalid."""


class InsufficientCreditsError(SeedanceError):
    """HTTP 402 ``insufficient_credits``: the account cannot pay for the job."""


class NotFoundError(SeedanceError):
    """HTTP 404 ``not_found``: no such job under this key."""


class RateLimitedError(SeedanceError):
    """HTTP 429 ``rate_limited``; ``retry_after`` is the wait the server asked for."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(SeedanceError):
    """HTTP 500 or another 5xx: the service failed."""


class MalformedResponseError(SeedanceError):
    """The answer was not the documented JSON (an HTML error page, missing fields...)."""


class AmbiguousSubmitError(SeedanceError):
    """A create POST may or may not have reached the service (and been charged).

    It is never resubmitted automatically; ``client_token`` was put into the
    request's metadata so the job can be reconciled by webhook or later lookup.
    """

    def __init__(self, message: str, *, client_token: str, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.client_token = client_token


class WaitTimeoutError(SeedanceError, TimeoutError):
    """``Job.wait`` ran out of time before the job reached a terminal status."""


class DownloadError(SeedanceError):
    """The video could not be downloaded; no partial file was presented as the video."""


class OutputExpiredError(DownloadError):
    """Storage refused the output URL (403/404/410): fetch the job again for a fresh one."""


class BudgetExceededError(SeedanceError):
    """The submission would pass the configured budget; nothing was sent."""


_BY_STATUS: dict[int, type[SeedanceError]] = {
    400: InvalidRequestError,
    401: UnauthorizedError,
    402: InsufficientCreditsError,
    404: NotFoundError,
    429: RateLimitedError,
}


def error_for_status(
    status: int,
    code: str | None,
    message: str,
    *,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> SeedanceError:
    """Map an HTTP error answer to the matching exception class."""
    if status == 429:
        return RateLimitedError(
            message, retry_after=retry_after, status=status, code=code, request_id=request_id
        )
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else SeedanceError
    return cls(message, status=status, code=code, request_id=request_id)


class Refusal(Exception):
    """A request a server of ours (the Jupyter server extension, the gateway) will not
    carry out: answered in the contract's error envelope with this status and code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def to_json(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}
