"""``GET/HEAD <base_url>seedance/media/<token>/<sha256>.<ext>``: published media, no login.

The service fetches reference media from outside, so it cannot log in; the
unguessable token is the check. A token reads only the one file it was granted
for, only until its grant expires (``media_url_ttl``), with its exact content
type and Range support (tornado's static file handling).
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated
from tornado import web

from ..media.shelf import Grant, Shelf

__all__ = ["MediaHandler"]


class MediaHandler(web.StaticFileHandler):
    """One published file per token; anything else is a bare 404."""

    def initialize(self, shelf: Shelf) -> None:  # type: ignore[override]
        self.shelf = shelf
        self.grant: Grant | None = None
        super().initialize(path=str(shelf.root / "blobs"))

    @allow_unauthenticated
    async def get(  # type: ignore[override]
        self, token: str, name: str, include_body: bool = True
    ) -> None:
        self.grant = self.shelf.lookup(token, name)
        if self.grant is None:
            raise web.HTTPError(404)
        await super().get(name, include_body=include_body)

    @allow_unauthenticated
    def head(self, token: str, name: str) -> Any:  # type: ignore[override]
        return self.get(token, name, include_body=False)

    def get_content_type(self) -> str:
        assert self.grant is not None
        return self.grant.content_type

    def set_extra_headers(self, path: str) -> None:
        """Never cached beyond the grant, never sniffed as another type."""
        self.set_header("Cache-Control", "private, no-store")
        self.set_header("X-Content-Type-Options", "nosniff")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.finish(f"{status_code}\n")
