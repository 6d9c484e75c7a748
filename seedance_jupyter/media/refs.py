"""What a user holds (a path, an image, an array, bytes, an earlier take) as checked :class:`Media`.

Every refusal is one line naming the reference as the user gave it and what is
allowed, raised before anything is uploaded or paid for.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import messages
from ..catalog import MAX_MEDIA_URLS, MediaKind, invalid_field
from ..errors import ValidationError
from .encode import array_png, array_shape_ok, is_array, is_pil_image, pil_png
from .kinds import Sniffed, sniff

__all__ = [
    "LAST_FRAME_PREFIX",
    "JobMedia",
    "Limits",
    "Media",
    "Named",
    "from_bytes",
    "load",
    "load_all",
    "refuse",
]

@dataclass(frozen=True)
class Named:
    """Bytes with the name the user knows them by (a file picked in a form)."""

    name: str
    data: bytes = field(repr=False)


#: ``--media last-frame:REQUEST_ID``: the last frame of an earlier job's video.
LAST_FRAME_PREFIX = "last-frame:"
_URL_SCHEMES = ("https://", "http://")


@dataclass(frozen=True)
class Media:
    """Checked content to publish: its kind from its bytes, and its SHA-256."""

    name: str
    kind: MediaKind
    extension: str
    content_type: str
    sha256: str
    data: bytes = field(repr=False, compare=False)

    @property
    def key(self) -> str:
        """The object's name wherever it is published: the content hash and extension."""
        return self.sha256 + self.extension


@dataclass(frozen=True)
class JobMedia:
    """An earlier job as a reference: its video, or the last frame of it (a picture)."""

    request_id: str
    last_frame: bool = False

    @property
    def name(self) -> str:
        return f"{LAST_FRAME_PREFIX}{self.request_id}" if self.last_frame else self.request_id


@dataclass(frozen=True)
class Limits:
    """Largest reference of each kind, in MB (the service publishes none of its own)."""

    image_mb: float
    video_mb: float
    audio_mb: float

    def of(self, kind: MediaKind) -> float:
        return {"image": self.image_mb, "video": self.video_mb, "audio": self.audio_mb}[kind]


def refuse(name: str, allowed: str) -> ValidationError:
    """The one refusal of a reference: ``media: 'NAME' is not allowed; ALLOWED.``"""
    return invalid_field("media", name, allowed)


def from_bytes(name: str, data: bytes, limits: Limits) -> Media:
    """Media from raw content: refused when empty, of an unknown kind or too large."""
    if not data:
        raise refuse(name, messages.ALLOWED_MEDIA_EMPTY)
    sniffed = _checked(name, data[:64], len(data), limits)
    return Media(name, sniffed.kind, sniffed.extension, sniffed.content_type,
                 hashlib.sha256(data).hexdigest(), data)


def _checked(name: str, head: bytes, size: int, limits: Limits) -> Sniffed:
    """The kind of content starting with ``head``, refused if unknown or over its limit."""
    sniffed = sniff(head)
    if sniffed is None:
        raise refuse(name, messages.ALLOWED_MEDIA_CONTENT)
    limit = limits.of(sniffed.kind)
    if size > limit * 1e6:
        raise refuse(name, messages.ALLOWED_MEDIA_TOO_BIG.format(
            size_mb=size / 1e6, kind=sniffed.kind, limit_mb=limit))
    return sniffed


def load(value: object, *, folder: Path, limits: Limits) -> Media | str | JobMedia:
    """One reference: a URL stays a string, an earlier job stays a :class:`JobMedia`."""
    if isinstance(value, JobMedia):
        return value
    if isinstance(value, Named):
        return from_bytes(value.name, value.data, limits)
    if isinstance(value, str) and value.startswith(LAST_FRAME_PREFIX):
        request_id = value[len(LAST_FRAME_PREFIX):].strip()
        if not request_id:
            raise refuse(value, messages.ALLOWED_MEDIA_INPUT)
        return JobMedia(request_id, last_frame=True)
    if isinstance(value, str) and (value.lower().startswith(_URL_SCHEMES) or "://" in value):
        return value  # a URL (one of another scheme is refused by the catalogue's check)
    if isinstance(value, (str, os.PathLike)):
        return _from_path(os.fspath(value), folder, limits)
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        return from_bytes(f"bytes ({len(data)})", data, limits)
    if is_pil_image(value):
        image: Any = value
        return from_bytes(f"PIL image {image.width}x{image.height}", pil_png(image), limits)
    if is_array(value):
        array: Any = value
        name = f"array {'x'.join(str(n) for n in array.shape)} {array.dtype}"
        if not array_shape_ok(array):
            raise refuse(name, messages.ALLOWED_MEDIA_ARRAY)
        return from_bytes(name, array_png(array), limits)
    raise refuse(type(value).__name__, messages.ALLOWED_MEDIA_INPUT)


def load_all(
    values: Iterable[object], *, folder: Path, limits: Limits
) -> list[Media | str | JobMedia]:
    """Every reference, at most five; the first bad one is refused."""
    items: Sequence[object] = (
        (values,) if isinstance(values, (str, bytes, os.PathLike)) else tuple(values)
    )
    if len(items) > MAX_MEDIA_URLS:
        allowed = messages.ALLOWED_MEDIA_REFERENCES.format(maximum=MAX_MEDIA_URLS)
        raise ValidationError("media", len(items), allowed, messages.TOO_MANY_REFERENCES.format(
            count=len(items), allowed=allowed))
    return [load(value, folder=folder, limits=limits) for value in items]


def _from_path(text: str, folder: Path, limits: Limits) -> Media:
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = folder / path
    try:
        size = path.stat().st_size
        if size > max(limits.image_mb, limits.video_mb, limits.audio_mb) * 1e6:
            with path.open("rb") as handle:  # refused without reading it all
                _checked(text, handle.read(64), size, limits)
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise refuse(text, messages.ALLOWED_MEDIA_MISSING.format(folder=folder)) from None
    except OSError as exc:
        raise refuse(text, messages.ALLOWED_MEDIA_MISSING.format(folder=folder)
                     + f" ({exc.strerror})") from None
    return from_bytes(text, data, limits)
