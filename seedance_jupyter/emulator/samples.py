"""Sample reference images, drawn with NumPy and encoded to PNG with PyAV.

The emulator serves them at ``/samples/<name>.png`` so image-to-video can be
tried with no network and no image files in git.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import av
import numpy as np
import numpy.typing as npt

from .font import text_mask

__all__ = ["SAMPLE_NAMES", "sample_png"]

Image = npt.NDArray[np.uint8]

_WIDTH, _HEIGHT = 1280, 720


def _grid() -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Normalised coordinates: ``x`` and ``y`` from 0 to 1, shaped for broadcasting."""
    x = np.linspace(0.0, 1.0, _WIDTH, dtype=np.float32)[None, :]
    y = np.linspace(0.0, 1.0, _HEIGHT, dtype=np.float32)[:, None]
    return x, y


def _sunset() -> Image:
    x, y = _grid()
    sky_top, sky_low = np.array([70, 40, 120]), np.array([255, 150, 60])
    sea_top, sea_low = np.array([40, 60, 110]), np.array([10, 20, 50])
    horizon = 0.62
    t_sky = np.clip(y / horizon, 0, 1)[..., None]
    t_sea = np.clip((y - horizon) / (1 - horizon), 0, 1)[..., None]
    column = np.where(
        (y < horizon)[..., None],
        sky_top + (sky_low - sky_top) * t_sky,
        sea_top + (sea_low - sea_top) * t_sea,
    )
    image = np.repeat(column, _WIDTH, axis=1)
    sun = ((x - 0.5) * 16 / 9) ** 2 + (y - 0.5) ** 2 < 0.12**2
    image[sun & (y < horizon)] = (255, 230, 150)
    glitter = (y > horizon) & (np.abs(x - 0.5) < 0.08 * (y - horizon + 0.2)) & (
        np.sin(y * 300) > 0.3
    )
    image[glitter] = (255, 200, 120)
    return image.astype(np.uint8)


def _checker() -> Image:
    x, y = _grid()
    cells = ((x * 16).astype(int) + (y * 9).astype(int)) % 2 == 0
    red = np.broadcast_to(x * 255, cells.shape)
    blue = np.broadcast_to(y * 255, cells.shape)
    green = np.where(cells, 220, 40)
    return np.stack([red, green, blue], axis=-1).astype(np.uint8)


def _rings() -> Image:
    x, y = _grid()
    radius = np.hypot((x - 0.5) * 16 / 9, y - 0.5)
    shifts = np.array([0.0, 2.1, 4.2], dtype=np.float32)
    waves: npt.NDArray[np.float32] = np.sin(radius[..., None] * 60 + shifts)
    return (128 + 127 * waves).astype(np.uint8)


_DRAWINGS: dict[str, Callable[[], Image]] = {
    "sunset": _sunset, "checker": _checker, "rings": _rings,
}
SAMPLE_NAMES: tuple[str, ...] = tuple(_DRAWINGS)


@lru_cache(maxsize=len(_DRAWINGS))
def sample_png(name: str) -> bytes:
    """The PNG file of sample ``name``, labelled with its name; KeyError for unknown names."""
    image = _DRAWINGS[name]()
    label = text_mask(f"SAMPLE {name}", 6)
    image[24 : 24 + label.shape[0], 24 : 24 + label.shape[1]][label] = 255
    codec = av.CodecContext.create("png", "w")
    codec.width, codec.height, codec.pix_fmt = _WIDTH, _HEIGHT, "rgb24"
    frame = av.VideoFrame.from_ndarray(image, format="rgb24")
    return b"".join(bytes(packet) for packet in [*codec.encode(frame), *codec.encode(None)])
