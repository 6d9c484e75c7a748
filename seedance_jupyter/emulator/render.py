"""Real H.264 mp4 files for the emulator's jobs, drawn with NumPy and encoded with PyAV.

Every frame depends on the prompt (colours and motion are seeded by its hash, and
its first 40 characters are written on it) and carries a big "EMULATOR" mark, so
nobody mistakes an emulated result for a generated one. Image-to-video jobs
animate their first reference image with a slow pan and zoom.

Speed: each frame is a few vectorised NumPy operations (about 6 ms at 720p),
then libx264 ``veryfast``. A 5 s 720p 16:9 text-to-video clip (120 frames)
renders in about 2.7 s on the idle 2-core development machine (PyAV 18);
measure it with ``python -m seedance_jupyter.emulator.render``.
"""

from __future__ import annotations

import hashlib
import io
import math
import sys
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
import numpy.typing as npt

from .font import GLYPH_HEIGHT, text_mask

__all__ = ["RenderCancelled", "frame_size", "render_video"]

Image = npt.NDArray[np.uint8]

# Muxer and encoder options go separately: PyAV 18 hands ``av.open(options=...)`` to the
# streams too late for libx264 to see ``preset`` (the file came out at ``medium``).
_MUXER_OPTIONS = {"movflags": "+faststart"}
_ENCODER_OPTIONS = {"preset": "veryfast"}
_SHORT_SIDE = {"480p": 480, "720p": 720, "1080p": 1080}
_ASPECTS = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1)}
_PROMPT_CHARS = 40
_COVER = 1.25  # how much larger than the frame the pan-and-zoom source image is


class RenderCancelled(Exception):
    """Raised by :func:`render_video` when its ``cancelled`` callback says so."""


def frame_size(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    """``(width, height)``: the short side is the resolution's number, both sides even."""
    short = _SHORT_SIDE[resolution]
    across, down = _ASPECTS[aspect_ratio]
    long = _even(short * max(across, down) / min(across, down))
    return (long, short) if across >= down else (short, long)


def render_video(
    path: str | Path,
    *,
    prompt: str,
    duration: int,
    width: int,
    height: int,
    fps: int = 24,
    reference: bytes | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> None:
    """Write a ``duration`` s H.264/yuv420p mp4 of ``width`` x ``height`` to ``path``.

    ``reference`` is the first reference image (or video) as bytes to animate;
    one that cannot be decoded raises ValueError (never a video without it).
    ``cancelled`` is polled once per frame; when it returns true the render stops
    with :class:`RenderCancelled` and the file at ``path`` is incomplete.
    """
    scene = _Scene(prompt, (width, height), duration * fps, fps, reference)
    time_base = Fraction(1, fps)
    with av.open(str(path), mode="w", format="mp4", container_options=_MUXER_OPTIONS) as container:
        stream = container.add_stream("libx264", rate=fps, options=_ENCODER_OPTIONS)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        for index in range(duration * fps):
            if cancelled is not None and cancelled():
                raise RenderCancelled(str(path))
            frame = av.VideoFrame.from_ndarray(scene.frame(index), format="rgb24")
            frame.pts = index
            frame.time_base = time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


class _Scene:
    """Everything about a clip that does not change from frame to frame."""

    def __init__(
        self, prompt: str, size: tuple[int, int], frames: int, fps: int,
        reference: bytes | None,
    ) -> None:
        digest = hashlib.sha256(prompt.encode()).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
        width, height = size
        self.width, self.height, self.frames, self.fps = width, height, frames, fps
        self.x = np.arange(width, dtype=np.float32)
        self.y = np.arange(height, dtype=np.float32)
        self.freq = rng.uniform(1.0, 3.5, (2, 3)) * 2 * np.pi / np.array([[width], [height]])
        self.speed = rng.uniform(0.6, 2.2, (2, 3)) * rng.choice([-1.0, 1.0], (2, 3))
        self.phase = rng.uniform(0, 2 * np.pi, (2, 3))
        self.base = rng.uniform(70, 170, 3)
        self.amp = rng.uniform(25, 60, 3)
        self.ink = np.array(rng.integers(0, 256, 3), dtype=np.uint8)
        self.ink[int(rng.integers(0, 3))] = 255
        self.orbit = rng.uniform(0.5, 1.5, 2), rng.uniform(0, 2 * np.pi, 2)
        self.plane = np.empty((height, width), dtype=np.float32)
        self.pan = self._reference_source(reference)
        self.overlays = self._overlays(prompt)

    def _reference_source(self, reference: bytes | None) -> _PanZoom | None:
        if reference is None:
            return None
        image = _decode_image(reference)
        if image is None:
            raise ValueError("the reference image could not be decoded")
        return _PanZoom(image, self.width, self.height)

    def _overlays(self, prompt: str) -> list[_Text]:
        size = width, height = self.width, self.height
        mark = "EMULATOR"
        # The mark spans at most 80 % of the width and a sixth of the height.
        mark_scale = max(1, min(int(0.8 * width / _width(mark)), height // (6 * GLYPH_HEIGHT)))
        text_scale = max(1, min(int(0.9 * width / _width("M" * _PROMPT_CHARS)), height // 40))
        caption = " ".join(prompt.split())[:_PROMPT_CHARS]
        return [
            _Text(mark, mark_scale, size, y=(height - GLYPH_HEIGHT * mark_scale) // 2,
                  style="mark"),
            _Text(caption, text_scale, size, y=height - 12 * text_scale, style="band"),
        ]

    def frame(self, index: int) -> Image:
        """The RGB picture of frame ``index``."""
        seconds = index / self.fps
        if self.pan is not None:
            image = self.pan.frame(index / max(1, self.frames - 1))
        else:
            image = self._background(seconds)
            self._draw_blob(image, seconds)
        for overlay in self.overlays:
            overlay.draw(image)
        scale = max(1, min(self.width, self.height) // 180)
        counter = f"{seconds:5.2f} S  FRAME {index + 1}/{self.frames}"
        _Text(counter, scale, (self.width, self.height), y=3 * scale, x=3 * scale,
              style="band").draw(image)
        return image

    def _background(self, seconds: float) -> Image:
        image = np.empty((self.height, self.width, 3), dtype=np.uint8)
        for channel in range(3):
            across = self.amp[channel] * np.sin(
                self.x * self.freq[0, channel] + seconds * self.speed[0, channel]
                + self.phase[0, channel]
            )
            down = self.base[channel] + self.amp[channel] * np.sin(
                self.y * self.freq[1, channel] + seconds * self.speed[1, channel]
                + self.phase[1, channel]
            )
            np.add.outer(down, across, out=self.plane)
            np.clip(self.plane, 0, 255, out=self.plane)
            image[..., channel] = self.plane
        return image

    def _draw_blob(self, image: Image, seconds: float) -> None:
        radius = min(self.width, self.height) // 7
        rates, phases = self.orbit
        cx = self.width / 2 + (self.width / 2 - radius) * math.sin(seconds * rates[0] + phases[0])
        cy = self.height / 2 + (self.height / 2 - radius) * math.sin(
            seconds * rates[1] + phases[1]
        )
        x0, x1 = max(0, int(cx) - radius), min(self.width, int(cx) + radius + 1)
        y0, y1 = max(0, int(cy) - radius), min(self.height, int(cy) + radius + 1)
        yy = np.arange(y0, y1, dtype=np.float32)[:, None] - cy
        xx = np.arange(x0, x1, dtype=np.float32)[None, :] - cx
        image[y0:y1, x0:x1][yy * yy + xx * xx <= radius * radius] = self.ink


class _Text:
    """One line of text at a fixed place: a translucent "mark" or white on a dark band."""

    def __init__(
        self, text: str, scale: int, size: tuple[int, int], *, y: int, style: str,
        x: int | None = None,
    ) -> None:
        width, height = size
        mask = text_mask(text, scale)
        mask = mask[: max(0, height - y), : max(0, width - (x or 0))]
        self.mask = mask
        self.x = (width - mask.shape[1]) // 2 if x is None else x
        self.y = y
        self.pad = scale * 2
        self.style = style

    def draw(self, image: Image) -> None:
        rows, cols = self.mask.shape
        if self.style == "band":
            top, left = max(0, self.y - self.pad), max(0, self.x - self.pad)
            band = image[top : self.y + rows + self.pad, left : self.x + cols + self.pad]
            band //= 3
        region = image[self.y : self.y + rows, self.x : self.x + cols]
        if self.style == "mark":
            region[self.mask] = region[self.mask] // 2 + 128
        else:
            region[self.mask] = 255


class _PanZoom:
    """A slow Ken Burns move over an image: zoom in by 20 % while panning sideways."""

    def __init__(self, image: Image, width: int, height: int) -> None:
        rows, cols = image.shape[:2]
        if cols * height > rows * width:
            keep = max(1, rows * width // height)
            image = image[:, (cols - keep) // 2 : (cols - keep) // 2 + keep]
        else:
            keep = max(1, cols * height // width)
            image = image[(rows - keep) // 2 : (rows - keep) // 2 + keep]
        self.width, self.height = width, height
        self.source = _resize(image, _even(width * _COVER), _even(height * _COVER))

    def frame(self, progress: float) -> Image:
        rows, cols = self.source.shape[:2]
        share = 1.0 - (1.0 - 1.0 / _COVER) * progress
        win_w, win_h = round(cols * share), round(rows * share)
        left = round((cols - win_w) * (0.2 + 0.6 * progress))
        top = (rows - win_h) // 2
        return _resize(self.source[top : top + win_h, left : left + win_w], self.width, self.height)


def _decode_image(data: bytes) -> Image | None:
    """The first picture in ``data`` (any image or video format FFmpeg reads), as RGB."""
    try:
        with av.open(io.BytesIO(data)) as container:
            for frame in container.decode(video=0):
                return cast(Image, frame.to_ndarray(format="rgb24"))
    except (av.FFmpegError, IndexError, ValueError):
        return None
    return None


def _resize(image: Image, width: int, height: int) -> Image:
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
    return cast(Image, frame.reformat(width=width, height=height, interpolation="BILINEAR")
                .to_ndarray())


def _width(text: str) -> int:
    """Width of ``text`` in font pixels (scale 1)."""
    return int(text_mask(text, 1).shape[1])


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))


def _measure() -> None:
    """Print how long a 5 s 720p 16:9 clip takes to render here."""
    width, height = frame_size("720p", "16:9")
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        render_video(Path(folder) / "clip.mp4", prompt="A river flowing through a forest",
                     duration=5, width=width, height=height)
        elapsed = time.perf_counter() - start
    sys.stdout.write(f"5 s 720p 16:9 ({width}x{height}, 120 frames): {elapsed:.2f} s\n")


if __name__ == "__main__":
    _measure()
