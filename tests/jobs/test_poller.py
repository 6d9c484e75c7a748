"""The one poller: its schedule, its shared budget, and jobs polled to the end over HTTP."""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
import time

import pytest

from seedance_jupyter.api.types import JobState
from seedance_jupyter.emulator import Emulator
from seedance_jupyter.jobs.client import Client
from seedance_jupyter.jobs.handle import Job
from seedance_jupyter.jobs.ledger import RuntimeWindow
from seedance_jupyter.jobs.poller import Poller, Schedule

from ..helpers import eventually

FAST = {"duration": 4, "resolution": "480p"}


@pytest.fixture
def client(emulator: Emulator) -> Client:
    return Client(api_key=emulator.api_key, base_url=emulator.url)


def poller_for(client: Client, **kw: object) -> Poller:
    return Poller(lambda rid: client.generations.get(rid, retry=False), seed=1, **kw)  # type: ignore[arg-type]


class FakeSource:
    """A job source that is never asked (the poller's fetch answers instead)."""

    def get(self, request_id: str, *, retry: bool = True) -> JobState:
        raise AssertionError("not asked")

    def cancel(self, request_id: str) -> JobState:
        raise AssertionError("not asked")


def status_requests(emulator: Emulator) -> list[float]:
    return [r.time for r in emulator.requests
            if r.method == "GET" and "/video/generations/" in r.path]


def checks_until(schedule: Schedule, window: RuntimeWindow | None, runtime: float,
                 *, webhook: bool = False) -> list[float]:
    """The ages at which a job finishing at ``runtime`` is checked, on a manual clock."""
    rng, age, checks, times = random.Random(0), 0.0, 0, []
    while age < runtime:
        age += schedule.delay(checks=checks, age=age, window=window, rng=rng, webhook=webhook)
        checks += 1
        times.append(age)
    return times


def gaps(times: list[float]) -> list[tuple[float, float]]:
    """(age at a check, seconds to the next one)."""
    return [(a, b - a) for a, b in itertools.pairwise(times)]


WINDOW = RuntimeWindow(low=60.0, high=100.0, samples=20)


def test_first_check_comes_about_a_second_after_submission() -> None:
    assert checks_until(Schedule(), None, 0.5)[0] == pytest.approx(1.0)


@pytest.mark.parametrize("runtime", [3.0, 17.0, 45.0, 120.0, 600.0, 3600.0])
def test_without_history_any_runtime_is_seen_within_a_tenth_of_it(runtime: float) -> None:
    schedule = Schedule()
    seen = checks_until(schedule, None, runtime)[-1]
    assert seen - runtime <= schedule.poll_latency + schedule.patience * runtime
    assert all(gap <= schedule.max_interval for _, gap in gaps(checks_until(schedule, None, 3600)))


def test_without_history_gaps_grow_slowly_and_stay_bounded() -> None:
    schedule = Schedule()
    steps = gaps(checks_until(schedule, None, 900))
    assert all(gap <= schedule.poll_latency + schedule.patience * age for age, gap in steps)
    assert max(gap for _, gap in steps) <= schedule.max_interval


def test_checks_are_dense_across_the_learnt_window() -> None:
    schedule = Schedule(poll_latency=2.0)
    inside = [gap for age, gap in gaps(checks_until(schedule, WINDOW, 120))
              if WINDOW.low <= age < WINDOW.high]
    assert len(inside) >= (WINDOW.high - WINDOW.low) / schedule.poll_latency
    assert max(inside) <= schedule.poll_latency


def test_checks_are_sparse_before_the_window_and_one_lands_on_its_start() -> None:
    schedule = Schedule()
    start, _ = schedule.span(WINDOW)
    times = checks_until(schedule, WINDOW, start)
    assert len([t for t in times if t < start]) <= 10
    assert times[-1] == pytest.approx(start)


def test_a_narrow_window_is_polled_more_densely_than_poll_latency() -> None:
    schedule = Schedule(poll_latency=2.0)
    narrow = RuntimeWindow(low=74.0, high=76.0, samples=20)
    inside = [gap for age, gap in gaps(checks_until(schedule, narrow, 80))
              if narrow.low <= age < narrow.high]
    assert len(inside) >= schedule.dense_checks / 2
    assert max(inside) < schedule.poll_latency


def test_a_job_later_than_the_window_is_still_seen_soon() -> None:
    schedule = Schedule()
    for runtime in (110.0, 130.0, 200.0):
        late = checks_until(schedule, WINDOW, runtime)[-1] - runtime
        assert late <= schedule.poll_latency + schedule.late_patience * (runtime - WINDOW.high)


def test_a_window_learnt_from_few_jobs_is_widened_more_than_one_from_many() -> None:
    schedule = Schedule()
    few = schedule.span(RuntimeWindow(low=60.0, high=100.0, samples=5))
    many = schedule.span(RuntimeWindow(low=60.0, high=100.0, samples=20))
    assert few[0] < many[0] < WINDOW.low
    assert few[1] > many[1] > WINDOW.high


def test_a_job_a_little_faster_than_alike_ones_is_seen_within_poll_latency() -> None:
    schedule = Schedule(poll_latency=2.0)
    start, _ = schedule.span(WINDOW)
    runtimes = [start + 0.25 * i for i in range(int((WINDOW.low - start) / 0.25))]
    late = [checks_until(schedule, WINDOW, runtime)[-1] - runtime for runtime in runtimes]
    assert max(late) <= schedule.poll_latency


def test_checks_are_closest_where_alike_jobs_finish_most_often() -> None:
    schedule = Schedule(poll_latency=2.0)
    steps = gaps(checks_until(schedule, WINDOW, 120))
    middle = (WINDOW.low * WINDOW.high) ** 0.5
    near_middle = [gap for age, gap in steps if abs(age - middle) < 2]
    near_ends = [gap for age, gap in steps if WINDOW.low <= age < WINDOW.low + 2
                 or WINDOW.high - 2 <= age < WINDOW.high]
    assert max(near_middle) <= schedule.core * schedule.poll_latency
    assert min(near_ends) > max(near_middle)
    assert max(near_ends) <= schedule.poll_latency


def test_a_smaller_poll_latency_buys_sooner_results_with_more_checks() -> None:
    finishes = [61.3 + 3.7 * i for i in range(10)]
    fast, slow = Schedule(poll_latency=0.5), Schedule(poll_latency=4.0)
    late = {s: [checks_until(s, WINDOW, t)[-1] - t for t in finishes] for s in (fast, slow)}
    count = {s: sum(len(checks_until(s, WINDOW, t)) for t in finishes) for s in (fast, slow)}
    assert max(late[fast]) < max(late[slow])
    assert count[fast] > count[slow]


def test_a_job_whose_result_comes_by_webhook_is_checked_rarely() -> None:
    schedule = Schedule()
    times = checks_until(schedule, WINDOW, 300, webhook=True)
    assert [gap for _, gap in gaps(times)] == [schedule.webhook_interval] * (len(times) - 1)


def test_a_job_made_terminal_by_someone_else_is_finished_with_no_request() -> None:
    fetched: list[str] = []
    finished = threading.Event()

    def fetch(request_id: str) -> JobState:
        fetched.append(request_id)
        return JobState(request_id=request_id, status="processing")

    poller = Poller(fetch, schedule=Schedule(first_check=30.0))
    job = Job(FakeSource(), JobState(request_id="req_hooked", status="queued"))
    poller.track(job, on_done=lambda _j: finished.set())
    try:
        job.update(JobState(request_id="req_hooked", status="succeeded", output_url="u"))
        assert finished.wait(5)
        assert fetched == []
        assert not job.watched
    finally:
        poller.stop()


def test_a_blocked_event_loop_does_not_stop_the_poller() -> None:
    """In a kernel the cell runs on the loop; a cell that blocks it must not freeze polling."""
    answers = iter(["processing", "succeeded"])
    poller = Poller(lambda rid: JobState(request_id=rid, status=next(answers)),
                    schedule=Schedule(first_check=0.0, poll_latency=0.1, patience=0.0))
    job = Job(FakeSource(), JobState(request_id="req_blocked", status="queued"))

    async def blocking_cell() -> bool:
        poller.track(job)
        deadline = time.monotonic() + 5
        while not job.done and time.monotonic() < deadline:
            time.sleep(0.05)  # blocks the loop, as time.sleep in a cell does
        return job.done

    try:
        assert asyncio.run(blocking_cell())
    finally:
        poller.stop()


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
    poller = poller_for(
        client, schedule=Schedule(first_check=0.1, poll_latency=0.1, max_interval=0.2)
    )
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
    poller = poller_for(
        client, requests_per_minute=60,
        schedule=Schedule(first_check=0.0, poll_latency=0.1, max_interval=0.1, jitter=0),
    )
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
