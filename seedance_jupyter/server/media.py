"""``GET/HEAD <base_url>seedance/media/<token>/<sha256>.<ext>``: published media, no login.

The shelf's handler (:mod:`seedance_jupyter.media.serve`), marked for Jupyter
server's authorization as open: the token is the check.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated

from ..media.serve import ShelfFileHandler

__all__ = ["MediaHandler"]


class MediaHandler(ShelfFileHandler):
    """The server's media route: open to the service, which cannot log in."""

    @allow_unauthenticated
    async def get(  # type: ignore[override]
        self, token: str, name: str, include_body: bool = True
    ) -> None:
        await super().get(token, name, include_body=include_body)

    @allow_unauthenticated
    def head(self, token: str, name: str) -> Any:  # type: ignore[override]
        return self.get(token, name, include_body=False)
