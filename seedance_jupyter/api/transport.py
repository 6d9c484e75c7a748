"""HTTP to the Seedance Open API: sending, decoding, error mapping and the create-once rule.

The create POST costs money and the API has no idempotency key, so it is only
retried when nothing can have reached the server (a connect failure) or when the
server said so (429). Everything else after sending raises
:class:`AmbiguousSubmitError` with the client token of the request, so the job
can be reconciled instead of paid twice. This module knows nothing of jobs.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from typing import Any, NoReturn

import requests
from urllib3.exceptions import ConnectTimeoutError

from .. import messages
from ..catalog import is_loopback_url
from ..errors import (
    AmbiguousSubmitError,
    MalformedResponseError,
    SeedanceError,
    UnauthorizedError,
    error_for_status,
)
from ..retry import Backoff, parse_retry_after

__all__ = ["CLIENT_TOKEN_KEY", "DEFAULT_BASE_URL", "Transport", "new_client_token"]

DEFAULT_BASE_URL = "https://www.seedance2.ink"
API_PREFIX = "/api/open/v1"
#: The metadata key that carries the client token of a create request.
CLIENT_TOKEN_KEY = "seedance_jupyter_token"  # noqa: S105 - a metadata key, not a secret
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 120.0
MAX_BODY_BYTES = 2 * 1024 * 1024
_log = logging.getLogger("seedance_jupyter")


def new_client_token() -> str:
    """A random token that identifies one create request across lost answers."""
    return "sjt_" + secrets.token_hex(12)


class _BearerAuth(requests.auth.AuthBase):
    """Adds the key at send time, so it lives in no header dict or repr of ours."""

    def __init__(self, key: str) -> None:
        self._key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = "Bearer " + self._key
        return request

    def __repr__(self) -> str:
        return "<bearer auth: key hidden>"


class Transport:
    """One service's address, key and session; every request of the API goes through it."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_retries: int = 5,
        backoff: Backoff | None = None,
        session: requests.Session | None = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("SEEDANCE_API_KEY")
        self._auth = _BearerAuth(key) if key else None
        self.base_url = (
            base_url or os.environ.get("SEEDANCE_BASE_URL") or DEFAULT_BASE_URL
        ).rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff or Backoff()
        self._session = session or requests.Session()

    @property
    def has_api_key(self) -> bool:
        return self._auth is not None

    def set_api_key(self, api_key: str) -> None:
        """Use ``api_key`` from now on; kept in this process's memory only."""
        self._auth = _BearerAuth(api_key) if api_key else None

    @property
    def is_loopback(self) -> bool:
        """True when talking to a service on this machine (an emulator)."""
        return is_loopback_url(self.base_url)

    def close(self) -> None:
        self._session.close()

    def create(self, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        """POST a paid create: never resent once it may have reached the server."""
        for attempt in range(self.max_retries + 1):
            try:
                response = self._send("POST", path, body, auth=True)
            except requests.RequestException as exc:
                if _nothing_sent(exc) and attempt < self.max_retries:
                    time.sleep(self.backoff.delay(attempt))
                    continue
                if _nothing_sent(exc):
                    raise _network_error(self.base_url, exc) from None
                raise AmbiguousSubmitError(
                    messages.AMBIGUOUS_SUBMIT.format(detail=_describe(exc), token=token),
                    client_token=token,
                ) from None
            if response.status_code == 429 and attempt < self.max_retries:
                time.sleep(self.backoff.delay(attempt, _retry_after(response)))
                continue
            if response.status_code >= 500:
                raise AmbiguousSubmitError(
                    messages.AMBIGUOUS_SUBMIT.format(
                        detail=f"HTTP {response.status_code}", token=token
                    ),
                    client_token=token,
                    status=response.status_code,
                )
            try:
                return _decode(response)
            except MalformedResponseError as exc:
                if 200 <= response.status_code < 300:
                    raise AmbiguousSubmitError(
                        messages.AMBIGUOUS_SUBMIT.format(detail=exc.message, token=token),
                        client_token=token,
                        status=response.status_code,
                    ) from None
                raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    def request(
        self, method: str, path: str, *, idempotent: bool = True, auth: bool = True
    ) -> dict[str, Any]:
        """GET or cancel, retried (when ``idempotent``) on connection errors and 408/429/5xx."""
        last: SeedanceError | None = None
        for attempt in range(self.max_retries + 1):
            try:
                response = self._send(method, path, None, auth=auth)
            except requests.RequestException as exc:
                last = _network_error(self.base_url, exc)
                if idempotent and attempt < self.max_retries:
                    time.sleep(self.backoff.delay(attempt))
                    continue
                raise last from None
            if response.status_code in RETRYABLE_STATUS:
                try:
                    _decode(response)
                except SeedanceError as exc:
                    last = exc
                if idempotent and attempt < self.max_retries:
                    time.sleep(self.backoff.delay(attempt, _retry_after(response)))
                    continue
                assert last is not None
                raise last
            return _decode(response)
        assert last is not None
        raise last

    def _send(
        self, method: str, path: str, body: dict[str, Any] | None, *, auth: bool
    ) -> requests.Response:
        if auth and self._auth is None:
            raise UnauthorizedError(messages.NO_API_KEY, code="unauthorized")
        url = self.base_url + API_PREFIX + path
        started = time.monotonic()
        response = self._session.request(
            method, url, json=body, timeout=self.timeout, stream=True,
            auth=self._auth if auth else None,
            headers={"Accept": "application/json"},
        )
        _log.debug(
            "%s %s -> %s in %.3fs", method, path, response.status_code,
            time.monotonic() - started,
        )
        return response


def _nothing_sent(exc: requests.RequestException) -> bool:
    """True when the failure happened while connecting, before the body left."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, ConnectTimeoutError):
            return True
        stack.extend([item.__cause__, item.__context__, getattr(item, "reason", None)])
        stack.extend(arg for arg in item.args if isinstance(arg, BaseException))
    return False


def _describe(exc: BaseException) -> str:
    return type(exc).__name__


def _network_error(base_url: str, exc: requests.RequestException) -> SeedanceError:
    return SeedanceError(
        messages.NETWORK_FAILED.format(base_url=base_url, detail=_describe(exc)),
        code="network_error",
    )


def _retry_after(response: requests.Response) -> float | None:
    """``Retry-After`` in seconds, capped at what one wait may take."""
    seconds = parse_retry_after(response.headers.get("Retry-After"))
    return None if seconds is None else min(seconds, MAX_RETRY_AFTER)


def _read_body(response: requests.Response) -> bytes:
    """The body, refused beyond a size no documented answer comes near."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise MalformedResponseError(
                    messages.MALFORMED_RESPONSE.format(detail="body larger than 2 MiB"),
                    status=response.status_code,
                )
            chunks.append(chunk)
    except requests.RequestException as exc:
        raise MalformedResponseError(
            messages.MALFORMED_RESPONSE.format(detail=f"body cut off: {_describe(exc)}"),
            status=response.status_code,
        ) from None
    finally:
        response.close()
    return b"".join(chunks)


def _decode(response: requests.Response) -> dict[str, Any]:
    """The JSON object of an answer, or the mapped error it carries."""
    status = response.status_code
    body = _read_body(response)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict):
        kind = response.headers.get("Content-Type", "no content type").split(";")[0]
        detail = f"HTTP {status}, {kind}, not a JSON object"
        if status >= 400:
            _raise_http(response, None, detail)
        raise MalformedResponseError(
            messages.MALFORMED_RESPONSE.format(detail=detail), status=status
        )
    if status >= 400 or payload.get("success") is False:
        _raise_http(response, payload, None)
    return payload


def _raise_http(
    response: requests.Response, payload: dict[str, Any] | None, detail: str | None
) -> NoReturn:
    status = response.status_code if response.status_code >= 400 else 500
    code: str | None = None
    message = detail or f"HTTP {status}"
    error = payload.get("error") if payload else None
    if isinstance(error, dict):
        code = error.get("code") if isinstance(error.get("code"), str) else None
        if isinstance(error.get("message"), str):
            message = error["message"][:500]
    request_id = payload.get("requestId") if payload else None
    raise error_for_status(
        status, code, message,
        request_id=request_id if isinstance(request_id, str) else None,
        retry_after=_retry_after(response) if status == 429 else None,
    )

