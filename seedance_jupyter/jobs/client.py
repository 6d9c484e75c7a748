"""The README's ``Client``: the API client, with calls that hand back :class:`Job` handles."""

from __future__ import annotations

from typing_extensions import Unpack

from ..api.client import APIClient
from ..api.transport import new_client_token
from ..catalog import GenerationRequest, RequestFields
from .handle import Job

__all__ = ["Client"]


class Client(APIClient):
    """``Client().submit(prompt, ...)`` -> a :class:`Job` you can ``wait()`` on or ``await``."""

    def submit(self, prompt: str, **fields: Unpack[RequestFields]) -> Job:
        """Validate, then create a job (credits are charged at once)."""
        return self.create(self.prepare(prompt, **fields))

    def create(self, request: GenerationRequest, *, client_token: str | None = None) -> Job:
        """POST a prepared request; never resent once it may have reached the server."""
        token = client_token or new_client_token()
        state = self.generations.create(request, client_token=token)
        return Job(self.generations, state, request=request, client_token=token)

    def get(self, request_id: str) -> Job:
        """A handle on a job by its request id."""
        return Job(self.generations, self.generations.get(request_id))

    def cancel(self, request_id: str) -> Job:
        """Cancel a queued or processing job."""
        return Job(self.generations, self.generations.cancel(request_id))
