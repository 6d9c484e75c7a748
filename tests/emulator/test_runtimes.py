"""Runtimes vary like a real service's, from seeded draws; fixed when asked to be."""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable

import pytest

from seedance_jupyter.emulator import Emulator
from seedance_jupyter.emulator.runtimes import (
    BASE_QUEUE_SECONDS,
    Runtimes,
    RuntimeSettings,
    draw_processing,
    draw_queue,
    median_processing,
)

from . import api
from .api import SHORT

DRAWS = 200


def test_processing_draws_have_the_requested_median_and_cv() -> None:
    rng = random.Random(7)
    draws = [draw_processing(rng, 10.0, 0.3) for _ in range(DRAWS)]
    assert statistics.median(draws) == pytest.approx(10.0, rel=0.1)
    assert statistics.stdev(draws) / statistics.mean(draws) == pytest.approx(0.3, rel=0.2)


def test_the_same_seed_draws_the_same_runtimes() -> None:
    first, second = (Runtimes(RuntimeSettings(), seed=3) for _ in range(2))
    assert [first.processing_seconds("seedance-2.0", 5, "720p") for _ in range(20)] == [
        second.processing_seconds("seedance-2.0", 5, "720p") for _ in range(20)]
    assert [first.queue_seconds(4) for _ in range(20)] == [
        second.queue_seconds(4) for _ in range(20)]


def test_another_seed_draws_other_runtimes() -> None:
    one, other = Runtimes(RuntimeSettings(), seed=1), Runtimes(RuntimeSettings(), seed=2)
    assert one.processing_seconds("seedance-2.0", 5, "720p") != other.processing_seconds(
        "seedance-2.0", 5, "720p")


def test_cv_zero_processing_is_exactly_the_median() -> None:
    assert draw_processing(random.Random(0), 10.0, 0.0) == 10.0


def test_queue_wait_grows_with_the_jobs_in_flight() -> None:
    rng = random.Random(11)
    means = [statistics.mean(draw_queue(rng, 1.0, in_flight) for _ in range(DRAWS))
             for in_flight in (0, 2, 8)]
    assert means[0] == BASE_QUEUE_SECONDS
    assert means[1] == pytest.approx(BASE_QUEUE_SECONDS + 2.0, rel=0.2)
    assert means[2] == pytest.approx(BASE_QUEUE_SECONDS + 8.0, rel=0.2)


def test_queue_mean_zero_keeps_the_fixed_queue_wait() -> None:
    assert draw_queue(random.Random(0), 0.0, 50) == BASE_QUEUE_SECONDS


def test_medians_depend_on_model_resolution_and_duration() -> None:
    base = median_processing("seedance-2.0", 5, "720p")
    assert median_processing("seedance-2.0", 10, "720p") == 2 * base
    assert median_processing("seedance-2.0", 5, "1080p") > base > median_processing(
        "seedance-2.0", 5, "480p")
    assert median_processing("seedance-2.0-fast", 5, "720p") < base


def test_speed_divides_every_runtime() -> None:
    slow = Runtimes(RuntimeSettings(speed=1.0), seed=5)
    fast = Runtimes(RuntimeSettings(speed=4.0), seed=5)
    assert fast.processing_seconds("seedance-2.0", 5, "720p") == pytest.approx(
        slow.processing_seconds("seedance-2.0", 5, "720p") / 4)
    assert fast.queue_seconds(3) == pytest.approx(slow.queue_seconds(3) / 4)


@pytest.mark.parametrize("settings", [{"speed": 0}, {"runtime_cv": -0.1}, {"queue_mean": -1}])
def test_impossible_runtime_settings_are_refused(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        RuntimeSettings(**settings)


def test_fixed_runtimes_give_every_job_the_median_schedule(emulator: Emulator) -> None:
    ids = [api.create(emulator, SHORT).json()["requestId"] for _ in range(3)]
    schedules = {(emulator.jobs(i)["queued_seconds"], emulator.jobs(i)["processing_seconds"])
                 for i in ids}
    median = median_processing("seedance-2.0", 4, "480p")
    assert schedules == {(BASE_QUEUE_SECONDS / 20, median / 20)}


def test_varying_runtimes_queue_later_jobs_of_a_key_longer(
    own_emulator: Callable[..., Emulator],
) -> None:
    emu = own_emulator(speed=0.01, runtime_cv=0.3, queue_mean=1.0)
    ids = [api.create(emu, SHORT).json()["requestId"] for _ in range(6)]
    queued = [emu.jobs(i)["queued_seconds"] for i in ids]
    processing = {emu.jobs(i)["processing_seconds"] for i in ids}
    assert queued[0] == BASE_QUEUE_SECONDS / 0.01
    assert queued[-1] > queued[0]
    assert len(processing) == len(ids)
