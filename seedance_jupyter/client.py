"""HTTP client of the Seedance Open API: retry rules, error mapping, no IPython.

The create POST costs money and the API has no idempotency key, so it is only
retried when nothing can have reached the server (a connect failure) or when the
server said so (429). Everything else after sending raises
:class:`AmbiguousSubmitError` with the client token that was put into the
request's metadata, so the job can be reconciled instead of paid twice.
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import random
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn
from urllib.parse import quote

import requests
from urllib3.exceptions import ConnectTimeoutError

from . import messages
from .catalog import Catalog, GenerationRequest, ModelInfo, is_loopback_url
from .errors import (
    AmbiguousSubmitError,
    InvalidRequestError,
    MalformedResponseError,
    SeedanceError,
    UnauthorizedError,
    error_for_status,
)
from .jobs import Job, JobState

__all__ = ["CLIENT_TOKEN_KEY", "DEFAULT_BASE_URL", "Client", "new_client_token"]

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


class Client:
    """A client of one Seedance service (the real one, or an emulator on loopback)."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        session: requests.Session | None = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("SEEDANCE_API_KEY")
        self._auth = _BearerAuth(key) if key else None
        self.base_url = (
            base_url or os.environ.get("SEEDANCE_BASE_URL") or DEFAULT_BASE_URL
        ).rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._session = session or requests.Session()
        self._catalog: Catalog | None = None
        self._catalog_lock = threading.Lock()

    def __repr__(self) -> str:
        key = "set" if self._auth else "not set"
        return f"Client(base_url={self.base_url!r}, api_key=<{key}>)"

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

    # -- catalogue -------------------------------------------------------------
    def models(self) -> list[ModelInfo]:
        """The live catalogue of ``GET /models`` (cached per client)."""
        payload = self._request("GET", "/models", idempotent=True, auth=False)
        data = payload.get("data")
        if not isinstance(data, list) or not data:
            raise MalformedResponseError(
                messages.MALFORMED_RESPONSE.format(detail="models: data is not a list")
            )
        models = [ModelInfo.from_api(entry) for entry in data]
        with self._catalog_lock:
            self._catalog = Catalog(models, live=True)
        return models

    def catalog(self) -> Catalog:
        """The live catalogue, or the documented one when ``/models`` cannot be read."""
        with self._catalog_lock:
            cached = self._catalog
        if cached is not None:
            return cached
        try:
            self.models()
        except SeedanceError as exc:
            _log.warning("using the documented model catalogue: %s", exc)
            with self._catalog_lock:
                self._catalog = self._catalog or Catalog.documented()
        with self._catalog_lock:
            assert self._catalog is not None
            return self._catalog

    def estimate_cost(self, model: str, duration: int, resolution: str) -> float:
        """USD for one job, from the catalogue's ``usdPerSecond``."""
        return self.catalog().estimate_cost(model, duration, resolution)

    # -- jobs --------------------------------------------------------------------
    def prepare(
        self,
        prompt: str,
        model: str = "seedance-2.0",
        media_urls: Iterable[str] = (),
        aspect_ratio: str | None = None,
        duration: int | None = None,
        resolution: str | None = None,
        webhook_url: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> GenerationRequest:
        """Build and validate a request; raises :class:`ValidationError` before any POST."""
        urls: Any = media_urls
        if not isinstance(media_urls, (str, bytes)) and isinstance(media_urls, Iterable):
            urls = tuple(media_urls)
        request = GenerationRequest(
            prompt=prompt, model=model, media_urls=urls, aspect_ratio=aspect_ratio,
            duration=duration, resolution=resolution, webhook_url=webhook_url,
            metadata=metadata,
        )
        return self.catalog().validate(request, allow_loopback_http=self.is_loopback)

    def submit(
        self,
        prompt: str,
        model: str = "seedance-2.0",
        media_urls: Iterable[str] = (),
        aspect_ratio: str | None = None,
        duration: int | None = None,
        resolution: str | None = None,
        webhook_url: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Job:
        """Validate, then create a job (credits are charged at once)."""
        request = self.prepare(
            prompt, model, media_urls, aspect_ratio, duration, resolution, webhook_url, metadata
        )
        return self.create(request)

    def create(self, request: GenerationRequest, *, client_token: str | None = None) -> Job:
        """POST a prepared request, tagged with ``client_token`` in its metadata."""
        token = client_token or new_client_token()
        tagged = request.with_metadata({CLIENT_TOKEN_KEY: token})
        payload = self._create(tagged.to_body(), token)
        state = JobState.from_api(payload)
        return Job(self, state, request=request, client_token=token)

    def fetch_state(self, request_id: str, *, retry: bool = True) -> JobState:
        """The job's current state; ``retry=False`` leaves backoff to the caller (the poller)."""
        payload = self._request(
            "GET", f"/video/generations/{_quoted(request_id)}", idempotent=retry
        )
        return JobState.from_api(payload)

    def get(self, request_id: str) -> Job:
        """A job by its request id."""
        return Job(self, self.fetch_state(request_id))

    def cancel_state(self, request_id: str) -> JobState:
        """Cancel and return the state the service reports.

        A retried cancel whose first attempt did land is refused (the job is no
        longer queued or processing); then the real state is fetched and returned
        if it is ``cancelled``.
        """
        path = f"/video/generations/{_quoted(request_id)}/cancel"
        try:
            return JobState.from_api(self._request("POST", path))
        except InvalidRequestError:
            state = self.fetch_state(request_id)
            if state.status == "cancelled":
                return state
            raise

    def cancel(self, request_id: str) -> Job:
        """Cancel a queued or processing job."""
        return Job(self, self.cancel_state(request_id))

    # -- HTTP ----------------------------------------------------------------------
    def _create(self, body: dict[str, Any], token: str) -> dict[str, Any]:
        for attempt in range(self.max_retries + 1):
            try:
                response = self._send("POST", "/video/generations", body, auth=True)
            except requests.RequestException as exc:
                if _nothing_sent(exc) and attempt < self.max_retries:
                    self._sleep_backoff(attempt, None)
                    continue
                if _nothing_sent(exc):
                    raise _network_error(self.base_url, exc) from None
                raise AmbiguousSubmitError(
                    messages.AMBIGUOUS_SUBMIT.format(detail=_describe(exc), token=token),
                    client_token=token,
                ) from None
            if response.status_code == 429 and attempt < self.max_retries:
                self._sleep_backoff(attempt, _retry_after(response))
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

    def _request(
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
                    self._sleep_backoff(attempt, None)
                    continue
                raise last from None
            if response.status_code in RETRYABLE_STATUS:
                try:
                    _decode(response)
                except SeedanceError as exc:
                    last = exc
                if idempotent and attempt < self.max_retries:
                    self._sleep_backoff(attempt, _retry_after(response))
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

    def _sleep_backoff(self, attempt: int, retry_after: float | None) -> None:
        if retry_after is not None:
            delay = min(retry_after, MAX_RETRY_AFTER)
        else:
            delay = random.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))
        time.sleep(delay)


def _quoted(request_id: str) -> str:
    return quote(request_id, safe="")


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
    """``Retry-After`` in seconds (a number or an HTTP date), capped at 120 s."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, min(seconds, MAX_RETRY_AFTER))


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

