"""Read an mp4's duration and frame size from its header, with the standard library only.

A demo helper for the notebooks in this folder: enough of ISO BMFF (``moov`` ->
``mvhd`` for the duration, ``trak`` -> ``tkhd`` for the picture size) to check a
downloaded video without PyAV or ffprobe.
"""

from __future__ import annotations

import struct
from pathlib import Path

__all__ = ["mp4_info"]

_CONTAINERS = {b"moov", b"trak"}


def _boxes(data: bytes, start: int, end: int):
    """(type, payload start, payload end) of each box between ``start`` and ``end``."""
    offset = start
    while offset + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, offset + 8)
            header = 16
        elif size == 0:
            size = end - offset
        if size < header:
            return
        yield kind, offset + header, min(offset + size, end)
        offset += size


def mp4_info(path: str | Path) -> dict[str, float | int]:
    """``{"duration_s": ..., "width": ..., "height": ...}`` of the mp4 at ``path``."""
    data = Path(path).read_bytes()
    info: dict[str, float | int] = {}

    def walk(start: int, end: int) -> None:
        for kind, body, stop in _boxes(data, start, end):
            if kind in _CONTAINERS:
                walk(body, stop)
            elif kind == b"mvhd":
                version = data[body]
                if version == 1:
                    timescale, duration = struct.unpack_from(">IQ", data, body + 20)
                else:
                    timescale, duration = struct.unpack_from(">II", data, body + 12)
                info["duration_s"] = round(duration / timescale, 2)
            elif kind == b"tkhd":
                width, height = struct.unpack_from(">II", data, stop - 8)
                if width and height and "width" not in info:
                    info["width"], info["height"] = width >> 16, height >> 16

    walk(0, len(data))
    return info
