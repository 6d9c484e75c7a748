"""A thin client of one Seedance service: a transport plus its two resources."""

from __future__ import annotations

from typing_extensions import Unpack

from ..catalog import GenerationRequest, RequestFields
from .generations import Generations
from .models import Models
from .transport import Transport, TransportOptions

__all__ = ["APIClient"]


class APIClient:
    """``.generations`` and ``.models`` of the service at ``base_url`` (env by default)."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        **options: Unpack[TransportOptions],
    ) -> None:
        self.transport = Transport(api_key, base_url, **options)
        self.generations = Generations(self.transport)
        self.models = Models(self.transport)

    def __repr__(self) -> str:
        key = "set" if self.transport.has_api_key else "not set"
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key=<{key}>)"

    @property
    def base_url(self) -> str:
        return self.transport.base_url

    @property
    def is_loopback(self) -> bool:
        return self.transport.is_loopback

    @property
    def has_api_key(self) -> bool:
        return self.transport.has_api_key

    def set_api_key(self, api_key: str) -> None:
        self.transport.set_api_key(api_key)

    def estimate_cost(
        self, model: str, duration: int, resolution: str, *, with_media: bool = False
    ) -> float:
        """USD for one job, from the catalogue's ``usdPerSecond`` (and the media surcharge)."""
        return self.models.catalog().estimate_cost(
            model, duration, resolution, with_media=with_media
        )

    def prepare(self, prompt: str, **fields: Unpack[RequestFields]) -> GenerationRequest:
        """Build and validate a request; raises :class:`ValidationError` before any POST."""
        request = GenerationRequest.of(prompt, **fields)
        return self.models.catalog().validate(request, allow_loopback_http=self.is_loopback)

    def close(self) -> None:
        self.transport.close()
