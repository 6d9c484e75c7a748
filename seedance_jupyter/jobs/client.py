"""The README's ``Client``: the API client, with calls that hand back :class:`Job` handles."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

from typing_extensions import Unpack

from ..api.client import APIClient
from ..api.transport import new_client_token
from ..catalog import GenerationRequest, RequestFields
from .handle import Job
from .references import References, video_of
from .settings import JobSettings

__all__ = ["Client"]


class Client(APIClient):
    """``Client().submit(prompt, ...)`` -> a :class:`Job` you can ``wait()`` on or ``await``."""

    def submit(
        self, prompt: str, *, media: Iterable[object] = (), **fields: Unpack[RequestFields]
    ) -> Job:
        """Validate, publish ``media`` (as ``JobService.prepare`` takes it: URLs, paths
        relative to the working directory, PIL images, arrays, bytes, jobs), then create
        a job (credits are charged at once). Media is published per ``JobSettings``."""
        request = self.prepare(prompt, **fields)
        items = [*request.media_urls, *media]
        if items:
            urls, refs = self._references().resolve(items)
            request = self.models.catalog().validate(
                dataclasses.replace(request, media_urls=urls, media_refs=refs),
                allow_loopback_http=self.is_loopback,
            )
        return self.create(request)

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

    def _references(self) -> References:
        return References(
            JobSettings(), service_on_loopback=self.is_loopback, service_label=self.base_url,
            folder=Path.cwd,
            video=lambda request_id, scratch: video_of(self.get(request_id), Path.cwd(), scratch),
        )
