"""Small thumbnails of image references, kept by content hash beside the published files.

Cards show them (a few KB each, inline in the saved notebook); the ledger keeps
only the hash, so no picture is ever stored there.
"""

from __future__ import annotations

from pathlib import Path

from ..paths import seedance_home

__all__ = ["THUMB_MAX_SIDE", "thumbnail", "thumbs_folder"]

#: The longer side of a card's reference thumbnail, in pixels.
THUMB_MAX_SIDE = 96


def thumbs_folder() -> Path:
    return seedance_home() / "media" / "thumbs"


def thumbnail(sha256: str | None) -> str | None:
    """The ``data:`` URI of the thumbnail of that content, if one was made here."""
    if not sha256 or not all(c in "0123456789abcdef" for c in sha256):
        return None
    try:
        return (thumbs_folder() / f"{sha256}.txt").read_text(encoding="ascii")
    except OSError:
        return None
