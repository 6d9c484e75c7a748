"""The generations resource: create, get and cancel, each answering a :class:`JobState`."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from .. import messages
from ..catalog import GenerationRequest
from ..errors import AmbiguousSubmitError, InvalidRequestError, MalformedResponseError
from .transport import CLIENT_TOKEN_KEY, Transport, new_client_token
from .types import JobState

__all__ = ["Generations"]

_PATH = "/video/generations"


class Generations:
    """``/video/generations``: the paid create, status and cancel."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def create(
        self,
        request: GenerationRequest,
        *,
        client_token: str | None = None,
        on_wait: Callable[[float], None] | None = None,
    ) -> JobState:
        """POST ``request`` tagged with ``client_token`` in its metadata (credits are charged)."""
        token = client_token or new_client_token()
        body = request.with_metadata({CLIENT_TOKEN_KEY: token}).to_body()
        answer = self._transport.create(_PATH, body, token, on_wait=on_wait)
        state, problem = JobState.from_create(answer)
        if state is None:
            raise AmbiguousSubmitError(
                messages.AMBIGUOUS_SUBMIT.format(detail=problem, token=token),
                client_token=token,
            )
        return state

    def get(self, request_id: str, *, retry: bool = True) -> JobState:
        """The job's state; ``retry=False`` leaves backoff to the caller (the poller)."""
        state = JobState.from_api(
            self._transport.request("GET", f"{_PATH}/{_quoted(request_id)}", idempotent=retry)
        )
        if state.request_id != request_id:
            raise MalformedResponseError(messages.MALFORMED_RESPONSE.format(
                detail=f"the answer is about job {state.request_id[:60]!r}"))
        return state

    def cancel(self, request_id: str) -> JobState:
        """Cancel and return the state the service reports.

        A retried cancel whose first attempt did land is refused (the job is no
        longer queued or processing); then the real state is fetched and returned
        if it is ``cancelled``.
        """
        try:
            return JobState.from_api(
                self._transport.request("POST", f"{_PATH}/{_quoted(request_id)}/cancel")
            )
        except InvalidRequestError:
            state = self.get(request_id)
            if state.status == "cancelled":
                return state
            raise


def _quoted(request_id: str) -> str:
    return quote(request_id, safe="")
