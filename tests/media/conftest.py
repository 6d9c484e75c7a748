"""Small real media for the media tests: PNGs from NumPy, a WAV, an MP4 header."""

from __future__ import annotations

import io
import wave

import numpy as np

from seedance_jupyter.media.encode import array_png
from seedance_jupyter.media.refs import Limits

LIMITS = Limits(image_mb=30, video_mb=200, audio_mb=50)


def pixels(seed: int, channels: int = 3, size: tuple[int, int] = (12, 20)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*size, channels), dtype=np.uint8)


def png(seed: int) -> bytes:
    return array_png(pixels(seed))


def wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 800)
    return buffer.getvalue()
