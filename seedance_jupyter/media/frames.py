"""The last frame of a video as a lossless PNG, to continue a shot where a take ended."""

from __future__ import annotations

from pathlib import Path

from .. import messages
from .encode import array_png
from .refs import refuse

__all__ = ["last_frame_png"]


def last_frame_png(video: Path, name: str) -> bytes:
    """PNG of the last decodable frame of ``video``; refused (naming ``name``) otherwise."""
    try:
        import av
    except ImportError:
        raise refuse(name, messages.ALLOWED_MEDIA_NO_AV) from None
    last = None
    try:
        with av.open(str(video)) as container:
            for frame in container.decode(video=0):
                last = frame
            picture = None if last is None else last.to_ndarray(format="rgb24")
    except (OSError, ValueError, av.FFmpegError) as exc:
        raise refuse(name, messages.ALLOWED_MEDIA_CONTENT + f" ({exc})") from None
    if picture is None:
        raise refuse(name, messages.ALLOWED_MEDIA_CONTENT)
    return array_png(picture)
