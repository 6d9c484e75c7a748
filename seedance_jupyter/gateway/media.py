"""Its users' reference media, published by the gateway for the service to fetch.

A kernel with ``SEEDANCE_GATEWAY_URL`` publishes local media here (the media
layer's ``GatewayStore``): ``PUT {prefix}media/<sha>.<ext>`` with the content, or
``POST`` with none for content already held; both with the hub token, both
answering ``{"success": true, "url": "{public_url}media/<token>/<sha>.<ext>"}``.
The service reads that URL with no login (:class:`~..media.serve.ShelfFileHandler`),
only while its grant lasts. Content is checked as the kernel checks it (kind from
the bytes, size limits), and its name must be its hash: nothing else is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import messages
from ..errors import Refusal, ValidationError
from ..media.refs import Limits, Media, from_bytes
from ..media.shelf import Shelf
from ..media.stores import GATEWAY_MEDIA_ROUTE
from .handlers import GatewayHandler

__all__ = ["GatewayMedia", "MediaUploadHandler"]


@dataclass
class GatewayMedia:
    """The gateway's shelf, the URL lifetime and the limits it publishes under."""

    shelf: Shelf
    public_url: str
    ttl: float
    limits: Limits

    def publish(self, name: str, data: bytes | None) -> dict[str, Any]:
        """A new URL for ``name``: from ``data``, or (None) from content already held."""
        if not self.public_url:
            raise Refusal(404, "not_found", messages.GATEWAY_MEDIA_OFF)
        if data is None:
            blob = self.shelf.root / "blobs" / name
            if "/" in name or not blob.is_file():
                raise Refusal(404, "not_found", messages.GATEWAY_MEDIA_UNKNOWN.format(name=name))
            data = blob.read_bytes()
        media = self._checked(name, data)
        return {"success": True,
                "url": self.public_url + GATEWAY_MEDIA_ROUTE + self.shelf.put(media, self.ttl)}

    def _checked(self, name: str, data: bytes) -> Media:
        try:
            media = from_bytes(name, data, self.limits)
        except ValidationError as exc:
            raise Refusal(400, "invalid_request", exc.message) from None
        if media.key != name:
            raise Refusal(400, "invalid_request", messages.GATEWAY_MEDIA_NAME.format(
                expected=media.key, name=name))
        return media


class MediaUploadHandler(GatewayHandler):
    """``PUT``/``POST {prefix}media/<sha>.<ext>``, for the gateway's users only."""

    def initialize(self, media: GatewayMedia, **kwargs: Any) -> None:  # type: ignore[override]
        super().initialize(**kwargs)
        self.media = media

    async def put(self, name: str) -> None:
        await self._publish(name, self.request.body)

    async def post(self, name: str) -> None:
        await self._publish(name, None)

    async def _publish(self, name: str, data: bytes | None) -> None:
        if await self.user() is not None:
            await self.answer(self.media.publish, name, data)


