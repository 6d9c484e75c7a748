"""How long each job queues and processes: drawn from seeded distributions, like a real service.

A real service's runtimes vary: a job waits longer in the queue when the key
already has jobs in flight, and processing time scatters around a typical value
for the model, resolution and length. Here:

* queue wait = 1 s, plus (when ``queue_mean`` > 0) one exponential draw of mean
  ``queue_mean`` per job of the key already in flight (a Gamma draw);
* processing = lognormal with median ``duration * per-resolution rate * per-model
  factor`` and coefficient of variation ``runtime_cv``.

Everything is divided by ``speed``. With ``runtime_cv=0`` and ``queue_mean=0``
every job of a kind takes exactly the same time (the median), as tests need.
The medians and factors are the emulator's own choices, not the real service's.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass

__all__ = [
    "BASE_QUEUE_SECONDS",
    "RuntimeSettings",
    "Runtimes",
    "draw_processing",
    "draw_queue",
    "median_processing",
]

BASE_QUEUE_SECONDS = 1.0
_PER_VIDEO_SECOND = {"480p": 0.5, "720p": 1.0, "1080p": 2.0}
_MODEL_FACTOR = {"seedance-2.0": 1.0, "seedance-2.0-fast": 0.5, "seedance-1.5-pro": 0.8}


@dataclass(frozen=True)
class RuntimeSettings:
    """``speed`` divides every time; ``runtime_cv`` spreads processing; ``queue_mean``
    (seconds) is the mean extra queue wait per job of the key already in flight."""

    speed: float = 1.0
    runtime_cv: float = 0.3
    queue_mean: float = 1.0

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("speed must be positive")
        if self.runtime_cv < 0 or self.queue_mean < 0:
            raise ValueError("runtime_cv and queue_mean must not be negative")


def median_processing(model: str, duration: int, resolution: str) -> float:
    """Typical processing seconds at speed 1: longer, sharper videos take longer."""
    return duration * _PER_VIDEO_SECOND[resolution] * _MODEL_FACTOR.get(model, 1.0)


def draw_processing(rng: random.Random, median: float, cv: float) -> float:
    """One lognormal draw with this median and coefficient of variation (``cv=0``: the median)."""
    if cv == 0:
        return median
    sigma = math.sqrt(math.log1p(cv * cv))
    return median * math.exp(rng.gauss(0.0, sigma))


def draw_queue(rng: random.Random, per_job_mean: float, in_flight: int) -> float:
    """Queue seconds at speed 1 behind ``in_flight`` jobs of the same key."""
    if per_job_mean == 0 or in_flight == 0:
        return BASE_QUEUE_SECONDS
    return BASE_QUEUE_SECONDS + rng.gammavariate(in_flight, per_job_mean)


class Runtimes:
    """The draws of one emulator: a seeded generator of its own, safe across threads."""

    def __init__(self, settings: RuntimeSettings, seed: int) -> None:
        self.settings = settings
        self._rng = random.Random(f"runtimes-{seed}")
        self._lock = threading.Lock()

    def queue_seconds(self, in_flight: int) -> float:
        with self._lock:
            seconds = draw_queue(self._rng, self.settings.queue_mean, in_flight)
        return seconds / self.settings.speed

    def processing_seconds(self, model: str, duration: int, resolution: str) -> float:
        median = median_processing(model, duration, resolution)
        with self._lock:
            seconds = draw_processing(self._rng, median, self.settings.runtime_cv)
        return seconds / self.settings.speed
