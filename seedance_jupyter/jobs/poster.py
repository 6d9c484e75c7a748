"""A poster frame for a downloaded video: its first frame as a small inline JPEG.

A saved card shows it where the video file is not (GitHub, nbviewer, an exported
page, a notebook moved without its folder). PyAV comes with the ``emulator``
extra only; without it there is no poster, and nothing else changes.
"""

from __future__ import annotations

import base64
import logging
from fractions import Fraction
from pathlib import Path

__all__ = ["POSTER_MAX_SIDE", "poster_data_uri"]

#: The longer side of the poster in pixels: a few KB of JPEG.
POSTER_MAX_SIDE = 240
_log = logging.getLogger("seedance_jupyter")


def poster_data_uri(video: str | Path, max_side: int = POSTER_MAX_SIDE) -> str | None:
    """``data:image/jpeg;base64,...`` of the video's first frame, or None without PyAV."""
    try:
        import av
    except ImportError:
        return None
    try:
        with av.open(str(video)) as container:
            frame = next(container.decode(video=0))
        scale = max_side / max(frame.width, frame.height)
        width, height = _even(frame.width * scale), _even(frame.height * scale)
        small = frame.reformat(width=width, height=height, format="yuvj420p")
        encoder = av.CodecContext.create("mjpeg", "w")
        encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuvj420p"
        encoder.time_base = Fraction(1, 25)
        jpeg = b"".join(bytes(packet) for packet in [*encoder.encode(small), *encoder.encode(None)])
    except (OSError, StopIteration, ValueError, av.FFmpegError) as exc:
        _log.warning("no poster frame for %s: %s", video, exc)
        return None
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)
