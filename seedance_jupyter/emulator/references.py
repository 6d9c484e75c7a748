"""At create the emulator reads every ``mediaUrl``, as a real service must before it can render.

A reference it cannot fetch (refused, unreachable, too slow, too large) or whose
bytes are not the kind its URL's extension claims fails the job with the
emulator's own error code ``media_unreadable`` (the contract names no code for
this; a failed job's ``error`` is ``{code, message}`` as documented), and the
message names the reference. It never renders a video from media it could not read.

The kinds are recognised by the emulator's own signatures, not the client's
(it is meant to check the client).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.error import HTTPError

from .contract import media_kind
from .webhooks import DIRECT_OPENER

__all__ = ["FETCH_TIMEOUT", "MAX_REFERENCE_BYTES", "MEDIA_UNREADABLE", "Fetched", "fetch_all"]

#: The emulator's code for a job whose reference media could not be read.
MEDIA_UNREADABLE = "media_unreadable"
#: Seconds to connect and between bytes, per reference.
FETCH_TIMEOUT = 10.0
#: The largest reference the emulator reads, in bytes.
MAX_REFERENCE_BYTES = 64 << 20


@dataclass(frozen=True)
class Fetched:
    """The first picture to animate (image, else video), or the error failing the job."""

    picture: bytes | None = None
    error: dict[str, str] | None = None


def fetch_all(urls: list[str]) -> Fetched:
    """Read every reference in order; the first that fails is the job's error."""
    picture: bytes | None = None
    picture_kind = None
    for index, url in enumerate(urls):
        claimed = media_kind(url)
        try:
            data = _fetch(url)
        except (OSError, ValueError) as exc:
            return _failed(index, url, f"could not be fetched ({_reason(exc)})")
        actual = _kind_of(data)
        if actual != claimed:
            found = f"{actual}" if actual else "no image, video or audio"
            return _failed(index, url, f"is named as {claimed} but its bytes are {found}")
        if claimed == "image" and picture_kind != "image":
            picture, picture_kind = data, "image"
        elif claimed == "video" and picture is None:
            picture, picture_kind = data, "video"
    return Fetched(picture=picture)


def _fetch(url: str) -> bytes:
    with DIRECT_OPENER.open(url, timeout=FETCH_TIMEOUT) as response:
        data: bytes = response.read(MAX_REFERENCE_BYTES + 1)
    if len(data) > MAX_REFERENCE_BYTES:
        raise ValueError(f"larger than {MAX_REFERENCE_BYTES >> 20} MB")
    return data


def _reason(exc: Exception) -> str:
    if isinstance(exc, HTTPError):
        return f"HTTP {exc.code}"
    return f"{type(exc).__name__}: {exc}"


def _failed(index: int, url: str, why: str) -> Fetched:
    message = f"mediaUrls[{index}] {url} {why}."
    return Fetched(error={"code": MEDIA_UNREADABLE, "message": message})


def _kind_of(data: bytes) -> str | None:
    """The emulator's own look at a file's first bytes."""
    head = data[:16]
    riff = head[8:12] if head.startswith(b"RIFF") else b""
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")) or riff == b"WEBP":
        return "image"
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free"):
        return "video"
    if head.startswith(b"ID3") or riff == b"WAVE" or (
            len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio"
    return None
