"""What the emulated service offers, charges and how long it takes: its own settings.

Only seedance-2.0's price is published (0.05 / 0.1 / 0.2 USD per second at
480p / 720p / 1080p). The prices of seedance-2.0-fast and seedance-1.5-pro, the
credit rate and the job timings below are the emulator's own choices, made to
look plausible; they are never presented as the real service's. The credit rate
matches the service's examples: 40 credits for a 5 s 720p text-to-video job,
64 for the same job as image-to-video.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from ..catalog import DOCUMENTED_MODELS, Catalog, ModelInfo

__all__ = [
    "DEFAULT_ASPECT_RATIO",
    "DEFAULT_DURATION",
    "DEFAULT_RESOLUTION",
    "EMULATOR_MODELS",
    "credits_for",
    "emulator_catalog",
    "processing_seconds",
    "queued_seconds",
]

_PRICES = {
    "seedance-2.0": {"480p": 0.05, "720p": 0.1, "1080p": 0.2},
    "seedance-2.0-fast": {"480p": 0.04, "720p": 0.08, "1080p": 0.16},
    "seedance-1.5-pro": {"480p": 0.03, "720p": 0.06, "1080p": 0.12},
}

#: The models ``GET /models`` answers with: the documented ones at the emulator's prices.
EMULATOR_MODELS: tuple[ModelInfo, ...] = tuple(
    replace(model, usd_per_second=MappingProxyType(_PRICES[model.id]))
    for model in DOCUMENTED_MODELS
)

DEFAULT_DURATION = 5
DEFAULT_RESOLUTION = "720p"
DEFAULT_ASPECT_RATIO = "16:9"

CREDITS_PER_USD = 80
MEDIA_SURCHARGE = 1.6
_QUEUED_SECONDS = 1.0
_PROCESSING_PER_VIDEO_SECOND = {"480p": 0.5, "720p": 1.0, "1080p": 2.0}


def emulator_catalog() -> Catalog:
    """A :class:`Catalog` of :data:`EMULATOR_MODELS`, for validation and cost."""
    return Catalog(EMULATOR_MODELS, live=True)


def credits_for(usd: float, *, with_media: bool) -> int:
    """Credits charged for a job costing ``usd``: 80 per USD, times 1.6 with reference media."""
    return round(usd * CREDITS_PER_USD * (MEDIA_SURCHARGE if with_media else 1.0))


def queued_seconds(speed: float) -> float:
    """How long a new job stays ``queued``: 1 s, divided by the emulator's speed."""
    return _QUEUED_SECONDS / speed


def processing_seconds(duration: int, resolution: str, speed: float) -> float:
    """How long a job stays ``processing`` at least: longer and sharper videos take longer."""
    return duration * _PROCESSING_PER_VIDEO_SECOND[resolution] / speed
