"""The one poller: its schedule, its shared budget, and jobs polled to the end over HTTP."""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
import time

import pytest

from seedance_jupyter.emulator import Emulator
from seedance_jupyter.jobs.client import Client
from seedance_jupyter.jobs.handle import Job
from seedance_jupyter.jobs.poller import Poller, Schedule

from .helpers import eventually

FAST = {"duration": 4, "resolution": "480p"}


@pytest.fixture
def client(emulator: Emulator) -> Client:
    return Client(api_key=emulator.api_key, base_url=emulator.url)


def poller_for(client: Client, **kw: object) -> Poller:
    return Poller(lambda rid: client.generations.get(rid, retry=False), seed=1, **kw)  # type: ignore[arg-type]


def status_requests(emulator: Emulator) -> list[float]:
    return [r.time for r in emulator.requests
            if r.method == "GET" and "/video/generations/" in r.path]


def delays(schedule: Schedule, expected: float | None, until: float) -> list[float]:
    rng, age, checks, times = random.Random(0), 0.0, 0, []
    while age < until:
        age += schedule.delay(checks=checks, age=age, expected=expected, rng=rng)
        checks += 1
        times.append(age)
    return times


def test_first_check_comes_about_a_second_after_submission() -> None:
    assert delays(Schedule(), None, 0.5)[0] == pytest.approx(1.0)


def test_intervals_grow_and_are_capped() -> None:
    times = delays(Schedule(max_interval=10), None, 300)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[1] > gaps[0]
    assert max(gaps) <= 10 * 1.15 + 1e-9


def test_checks_gather_around_the_expected_finish() -> None:
    times = delays(Schedule(), expected=60.0, until=70)
    near = [t for t in times if 59 <= t <= 62]
    early = [t for t in times if t < 55]
    assert len(near) >= 3
    assert len(early) <= 7


def test_every_job_is_polled_to_its_end_and_the_poller_stops(
    client: Client, emulator: Emulator
) -> None:
    poller = poller_for(client)
    done: list[str] = []
    finished = threading.Event()
    jobs = [client.submit(f"job {i}", **FAST) for i in range(4)]

    def on_done(job: Job) -> None:
        done.append(job.request_id)
        if len(done) == len(jobs):
            finished.set()

    for job in jobs:
        poller.track(job, on_done=on_done)
    assert finished.wait(60)
    assert sorted(done) == sorted(j.request_id for j in jobs)
    assert all(j.status == "succeeded" for j in jobs)
    assert eventually(lambda: not poller.running, timeout=5)


def test_one_unknown_job_does_not_stop_the_others(client: Client, emulator: Emulator) -> None:
    poller = poller_for(client)
    good = client.submit("good", **FAST)
    ghost = Job(client, good.state.__class__(request_id="req_ghost", status="queued"))
    finished = threading.Event()
    poller.track(ghost)
    poller.track(good, on_done=lambda _j: finished.set())
    assert finished.wait(60)
    assert good.status == "succeeded"
    assert not ghost.watched


def test_a_429_pauses_polling_for_the_advertised_time(
    client: Client, emulator: Emulator
) -> None:
    poller = poller_for(client, schedule=Schedule(first_check=0.1, max_interval=0.2))
    job = client.submit("throttled", duration=15, resolution="1080p")
    emulator.clear_requests()
    emulator.inject("status", status=429, retry_after=1.5)
    poller.track(job)
    try:
        time.sleep(2.5)
        times = status_requests(emulator)
        assert len(times) >= 2
        assert times[1] - times[0] >= 1.4
    finally:
        job.cancel()
        poller.stop()


def test_all_jobs_share_one_request_budget(client: Client, emulator: Emulator) -> None:
    poller = poller_for(client, requests_per_minute=60,
                        schedule=Schedule(first_check=0.0, max_interval=0.1, jitter=0))
    jobs = [client.submit(f"slow {i}", duration=15, resolution="1080p") for i in range(5)]
    emulator.clear_requests()
    for job in jobs:
        poller.track(job)
    try:
        time.sleep(3.0)
        # a burst of at most 5 (60/12), then one per second
        assert len(status_requests(emulator)) <= 5 + 4
    finally:
        poller.stop()
        for job in jobs:
            job.cancel()


def test_await_job_is_woken_by_the_poller(client: Client) -> None:
    poller = poller_for(client)
    job = client.submit("awaited", **FAST)

    async def main() -> str:
        poller.track(job)
        finished = await job
        return finished.status

    assert asyncio.run(main()) == "succeeded"


def test_the_budget_never_grants_more_than_its_cap_in_any_minute() -> None:
    from seedance_jupyter.jobs.poller import _Budget

    now = [0.0]
    budget = _Budget(240, clock=lambda: now[0])
    granted = 0
    while now[0] < 60.0:
        while budget.take(now[0]):
            granted += 1
        now[0] += 0.01
    assert 200 <= granted <= 240
