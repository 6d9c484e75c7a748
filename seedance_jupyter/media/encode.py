"""Lossless PNG for pictures held in memory: NumPy arrays (no Pillow needed) and PIL images."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

__all__ = ["array_png", "array_shape_ok", "is_array", "is_pil_image", "pil_png"]

_COLOUR_TYPE = {3: 2, 4: 6}  # channels -> PNG colour type (RGB, RGBA)


def is_array(value: object) -> bool:
    """A NumPy-like array (duck-typed, so NumPy is imported only by whoever made it)."""
    return hasattr(value, "__array_interface__") and hasattr(value, "shape")


def is_pil_image(value: object) -> bool:
    return type(value).__module__.startswith("PIL.") and hasattr(value, "save")


def array_shape_ok(value: Any) -> bool:
    shape = tuple(value.shape)
    return (
        str(value.dtype) == "uint8" and len(shape) == 3 and shape[2] in _COLOUR_TYPE
        and shape[0] > 0 and shape[1] > 0
    )


def array_png(value: Any) -> bytes:
    """An HxWx3/HxWx4 uint8 array as an 8-bit RGB/RGBA PNG, every pixel kept."""
    height, width, channels = (int(n) for n in value.shape)
    raw = value.tobytes(order="C")
    stride = width * channels
    # Filter type 0 (none) before each row, as the PNG format asks.
    rows = b"".join(b"\x00" + raw[y * stride : (y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOUR_TYPE[channels], 0, 0, 0)
    return b"".join([
        b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", header),
        _chunk(b"IDAT", zlib.compress(rows, 6)), _chunk(b"IEND", b""),
    ])


def pil_png(image: Any) -> bytes:
    """A PIL image as PNG; modes PNG cannot hold (CMYK, YCbCr...) go to RGB(A) first."""
    if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
