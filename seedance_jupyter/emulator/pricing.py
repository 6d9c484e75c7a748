"""The catalogue the emulated service offers (from ``contract.json``) and what a job costs.

Only seedance-2.0's price is published (0.05 / 0.1 / 0.2 USD per second at
480p / 720p / 1080p); the other prices and the credit rate are the emulator's own
choices, never presented as the real service's. The credit rate matches the
service's examples: 40 credits for a 5 s 720p text-to-video job, 64 for the same
job as image-to-video.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .contract import CONTRACT

__all__ = [
    "CREDITS_PER_USD",
    "DEFAULT_ASPECT_RATIO",
    "DEFAULT_DURATION",
    "DEFAULT_RESOLUTION",
    "EMULATOR_MODELS",
    "MEDIA_SURCHARGE",
    "EmulatedModel",
    "credits_for",
    "find_model",
    "models_body",
]

DEFAULT_DURATION = 5
DEFAULT_RESOLUTION = "720p"
DEFAULT_ASPECT_RATIO = "16:9"
CREDITS_PER_USD = 80
MEDIA_SURCHARGE = 1.6


@dataclass(frozen=True)
class EmulatedModel:
    """One model as ``GET /models`` describes it."""

    id: str
    type: str
    mode: str
    durations: tuple[int, ...]
    aspect_ratios: tuple[str, ...]
    resolutions: tuple[str, ...]
    usd_per_second: Mapping[str, float]

    @classmethod
    def from_contract(cls, entry: Mapping[str, Any]) -> EmulatedModel:
        return cls(
            id=entry["id"], type=entry["type"], mode=entry["mode"],
            durations=tuple(entry["durations"]), aspect_ratios=tuple(entry["aspectRatios"]),
            resolutions=tuple(entry["resolutions"]),
            usd_per_second=MappingProxyType(dict(entry["usdPerSecond"])),
        )

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id, "type": self.type, "mode": self.mode,
            "durations": list(self.durations), "aspectRatios": list(self.aspect_ratios),
            "resolutions": list(self.resolutions), "usdPerSecond": dict(self.usd_per_second),
        }


#: The models ``GET /models`` answers with, in the contract file's order.
EMULATOR_MODELS: tuple[EmulatedModel, ...] = tuple(
    EmulatedModel.from_contract(entry) for entry in CONTRACT["models"]
)
_BY_ID = {model.id: model for model in EMULATOR_MODELS}


def find_model(model_id: str) -> EmulatedModel | None:
    return _BY_ID.get(model_id)


def models_body() -> dict[str, Any]:
    """The ``GET /models`` answer."""
    return {"success": True, "data": [model.to_api() for model in EMULATOR_MODELS]}


def credits_for(model: EmulatedModel, duration: int, resolution: str, *, with_media: bool) -> int:
    """Credits for one job: its USD price (``usdPerSecond[resolution] * duration``) times 80,
    times 1.6 with reference media."""
    usd = model.usd_per_second[resolution] * duration
    return round(usd * CREDITS_PER_USD * (MEDIA_SURCHARGE if with_media else 1.0))
