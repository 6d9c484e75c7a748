"""HTTP to the Seedance Open API: sending, decoding, error mapping and the create-once rule.

The create POST costs money and the API has no idempotency key, so it is only
retried when nothing can have reached the server (a connect failure) or when the
server said so (429); a target that promised idempotency (the team gateway, with
``idempotent_create``) gets the same ``Idempotency-Key`` again after a lost answer.
Everything else after sending raises
:class:`AmbiguousSubmitError` with the client token of the request, so the job
can be reconciled instead of paid twice. This module knows nothing of jobs.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from typing import Any, TypedDict

import requests
import urllib3.exceptions
from typing_extensions import Unpack
from urllib3.exceptions import ConnectTimeoutError

from .. import messages
from ..catalog import is_loopback_url
from ..errors import (
    AmbiguousSubmitError,
    MalformedResponseError,
    RateLimitedError,
    SeedanceError,
    UnauthorizedError,
    error_for_status,
)
from ..retry import Backoff, parse_retry_after

__all__ = [
    "CLIENT_TOKEN_KEY", "DEFAULT_BASE_URL", "IDEMPOTENCY_HEADER", "Transport", "TransportOptions",
    "new_client_token",
]

DEFAULT_BASE_URL = "https://www.seedance2.ink"
API_PREFIX = "/api/open/v1"
#: The metadata key that carries the client token of a create request.
CLIENT_TOKEN_KEY = "seedance_jupyter_token"  # noqa: S105 - a metadata key, not a secret
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 120.0
MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 3
#: Sent with a create to a target that promised idempotency (``idempotent_create``).
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: Answers after which an idempotent create is sent again: the gateway's proxy or
#: process failed between us and it, so its answer was lost.
_LOST_ANSWER = frozenset({502, 503, 504})
BODY_DEADLINE_S = 30.0
_log = logging.getLogger("seedance_jupyter")


def new_client_token() -> str:
    """A random token that identifies one create request across lost answers."""
    return "sjt_" + secrets.token_hex(12)


class _Hidden(str):
    """A header value whose repr hides it, so no traceback mode (``%xmode Verbose``
    prints locals) can show the key from a header dict."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<hidden>'"


class _BearerAuth(requests.auth.AuthBase):
    """Adds the key at send time, so it lives in no header dict or repr of ours."""

    def __init__(self, key: str) -> None:
        self._key = _Hidden(key)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = _Hidden("Bearer " + self._key)
        return request

    def __repr__(self) -> str:
        return "<bearer auth: key hidden>"


def _clean_key(key: str | None) -> tuple[str | None, str | None]:
    """The key without surrounding whitespace, or the reason it cannot be sent.

    A key read from a file keeps its newline; requests would then print the whole
    header, key included, in its error. The reason never contains the key.
    """
    if key is None:
        return None, None
    key = key.strip()
    if not key:
        return None, None
    if any(c.isspace() or not c.isprintable() for c in key):
        return None, messages.BAD_API_KEY
    return key, None


class TransportOptions(TypedDict, total=False):
    """How a transport sends: timeouts, retries, backoff, a session, the create wait."""

    timeout: tuple[float, float]
    max_retries: int
    backoff: Backoff | None
    session: requests.Session | None
    create_wait_s: float
    idempotent_create: bool


class Transport:
    """One service's address, key and session; every request of the API goes through it."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        **options: Unpack[TransportOptions],
    ) -> None:
        self._auth: _BearerAuth | None = None
        self._key_problem: str | None = None
        self.set_api_key(api_key if api_key is not None else os.environ.get("SEEDANCE_API_KEY"))
        self.base_url = (
            base_url or os.environ.get("SEEDANCE_BASE_URL") or DEFAULT_BASE_URL
        ).rstrip("/")
        self.timeout = options.get("timeout", (5.0, 30.0))
        self.max_retries = options.get("max_retries", 5)
        self.backoff = options.get("backoff") or Backoff()
        #: Most seconds a create waits in all for a slot on 429 before it gives up.
        self.create_wait_s = options.get("create_wait_s", 30.0)
        #: The target promises that a create repeated with the same ``Idempotency-Key``
        #: answers the same job (the team gateway): only then is a create whose answer
        #: was lost sent again, with the same key.
        self.idempotent_create = options.get("idempotent_create", False)
        self._session = options.get("session") or requests.Session()
        # A redirect loop must not multiply requests: a few hops, then an error.
        self._session.max_redirects = MAX_REDIRECTS

    @property
    def has_api_key(self) -> bool:
        return self._auth is not None

    def set_api_key(self, api_key: str | None) -> None:
        """Use ``api_key`` from now on; kept in this process's memory only."""
        key, self._key_problem = _clean_key(api_key)
        self._auth = _BearerAuth(key) if key else None

    @property
    def is_loopback(self) -> bool:
        """True when talking to a service on this machine (an emulator)."""
        return is_loopback_url(self.base_url)

    def close(self) -> None:
        self._session.close()

    def create(
        self,
        path: str,
        body: dict[str, Any],
        token: str,
        *,
        on_wait: Callable[[float], None] | None = None,
    ) -> dict[str, Any]:
        """POST a paid create: never resent once it may have reached the server.

        A 429 (nothing was created) is retried while the total wait for a slot
        stays within :attr:`create_wait_s`; ``on_wait(seconds)`` says each pause.
        """
        waited = 0.0
        headers = {IDEMPOTENCY_HEADER: token} if self.idempotent_create else None
        for attempt in range(self.max_retries + 1):
            try:
                response = self._send("POST", path, body, auth=True, headers=headers)
            except KeyboardInterrupt:
                raise _interrupted(token) from None
            except requests.RequestException as exc:
                resend = _nothing_sent(exc) or self.idempotent_create
                if resend and attempt < self.max_retries:
                    time.sleep(self.backoff.delay(attempt))
                    continue
                if _nothing_sent(exc):
                    raise _network_error(self.base_url, exc) from None
                raise AmbiguousSubmitError(
                    messages.AMBIGUOUS_SUBMIT.format(detail=_describe(exc), token=token),
                    client_token=token,
                ) from None
            if (self.idempotent_create and response.status_code in _LOST_ANSWER
                    and attempt < self.max_retries):
                response.close()
                time.sleep(self.backoff.delay(attempt))
                continue
            if response.status_code == 429:
                delay = self.backoff.delay(attempt, _retry_after(response))
                response.close()
                if waited + delay > self.create_wait_s or attempt == self.max_retries:
                    raise RateLimitedError(
                        messages.CREATE_BUSY.format(waited=waited, retry=delay),
                        code="rate_limited", status=429, retry_after=delay,
                    )
                if on_wait is not None:
                    on_wait(delay)
                time.sleep(delay)
                waited += delay
                continue
            try:
                return _create_answer(response, token)
            except KeyboardInterrupt:
                raise _interrupted(token) from None
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
        self, method: str, path: str, body: dict[str, Any] | None, *, auth: bool,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        if auth and self._key_problem is not None:
            raise UnauthorizedError(self._key_problem, code="unauthorized")
        if auth and self._auth is None:
            raise UnauthorizedError(messages.NO_API_KEY, code="unauthorized")
        url = self.base_url + API_PREFIX + path
        started = time.monotonic()
        response = self._session.request(
            method, url, json=body, timeout=self.timeout, stream=True,
            auth=self._auth if auth else None,
            headers={"Accept": "application/json", **(headers or {})},
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


def _interrupted(token: str) -> AmbiguousSubmitError:
    """Ctrl-C while a create was on the wire: the job may exist and be charged."""
    return AmbiguousSubmitError(
        messages.AMBIGUOUS_SUBMIT.format(detail=messages.INTERRUPTED_IN_FLIGHT, token=token),
        client_token=token,
    )


def _create_answer(response: requests.Response, token: str) -> dict[str, Any]:
    """A create answer: any 2xx object is a charge; only an error envelope is a refusal.

    A 2xx body is returned even when off-contract (the caller reads what it can);
    a 4xx that does not say what went wrong in the contract's envelope, and every
    5xx, may have created the job, so they are uncertain, never "rejected".
    """
    status = response.status_code

    def uncertain(detail: str) -> AmbiguousSubmitError:
        return AmbiguousSubmitError(
            messages.AMBIGUOUS_SUBMIT.format(detail=detail, token=token),
            client_token=token, status=status,
        )

    if status >= 500:
        response.close()
        raise uncertain(f"HTTP {status}")
    try:
        payload = json.loads(_read_body(response))
    except (ValueError, UnicodeDecodeError):
        payload = None
    except MalformedResponseError as exc:
        raise uncertain(exc.message) from None
    if 200 <= status < 300:
        if not isinstance(payload, dict):
            raise uncertain(f"HTTP {status}, not a JSON object")
        return payload
    if not (isinstance(payload, dict) and isinstance(payload.get("error"), dict)):
        raise uncertain(f"HTTP {status} without the error envelope")
    raise _http_error(response, payload, None)


def _read_body(response: requests.Response) -> bytes:
    """The body, refused beyond a size no documented answer comes near, or a total time.

    requests' read timeout is per socket read, so a body that trickles a byte at a
    time would never time out; each read here returns what has arrived, and the
    whole body has :data:`BODY_DEADLINE_S` seconds.
    """
    deadline = time.monotonic() + BODY_DEADLINE_S
    read1 = getattr(response.raw, "read1", None)
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            if time.monotonic() > deadline:
                raise _malformed(response, f"body not complete after {BODY_DEADLINE_S:g} s")
            if read1 is not None:
                chunk = read1(64 * 1024, decode_content=True)
            else:
                chunk = response.raw.read(1024, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise _malformed(response, "body larger than 2 MiB")
            chunks.append(chunk)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise _malformed(response, f"body cut off: {_describe(exc)}") from None
    finally:
        response.close()
    return b"".join(chunks)


def _malformed(response: requests.Response, detail: str) -> MalformedResponseError:
    return MalformedResponseError(
        messages.MALFORMED_RESPONSE.format(detail=detail), status=response.status_code
    )


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
            raise _http_error(response, None, detail)
        raise MalformedResponseError(
            messages.MALFORMED_RESPONSE.format(detail=detail), status=status
        )
    if status >= 400 or payload.get("success") is False:
        raise _http_error(response, payload, None)
    return payload


def _http_error(
    response: requests.Response, payload: dict[str, Any] | None, detail: str | None
) -> SeedanceError:
    status = response.status_code if response.status_code >= 400 else 500
    code: str | None = None
    message = detail or f"HTTP {status}"
    error = payload.get("error") if payload else None
    if isinstance(error, dict):
        code = error.get("code") if isinstance(error.get("code"), str) else None
        if isinstance(error.get("message"), str):
            message = error["message"][:500]
    request_id = payload.get("requestId") if payload else None
    return error_for_status(
        status, code, message,
        request_id=request_id if isinstance(request_id, str) else None,
        retry_after=_retry_after(response) if status == 429 else None,
    )

