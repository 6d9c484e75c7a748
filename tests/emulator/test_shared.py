"""One emulator process per state directory, found or started by whoever asks first."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from seedance_jupyter.emulator.app import STATE_FILE
from seedance_jupyter.emulator.shared import PORT_FILE, SharedEmulator, ensure_running

from ..helpers import eventually, running
from . import api
from .api import SHORT

RACERS = 4
Ensure = Callable[[], SharedEmulator]


def stop(pid: int) -> None:
    """SIGTERM process ``pid`` and wait (up to 10 s) until it is gone (reaped if our child)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        time.sleep(0.05)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def started() -> Iterator[set[int]]:
    """Pids of the emulators a test started; each is stopped at the end."""
    pids: set[int] = set()
    yield pids
    for pid in pids:
        stop(pid)


@pytest.fixture
def ensure(state_dir: Path, started: set[int]) -> Ensure:
    """``ensure_running(state_dir)`` at speed 20, remembering the pid to stop it later."""

    def call() -> SharedEmulator:
        shared = ensure_running(state_dir, speed=20.0)
        started.add(shared.pid)
        return shared

    return call


def race(state_dir: str, results: multiprocessing.Queue[int]) -> None:
    results.put(ensure_running(Path(state_dir), speed=20.0).pid)


def test_first_call_starts_an_emulator_that_answers(ensure: Ensure, state_dir: Path) -> None:
    shared = ensure()
    assert requests.get(f"{shared.url}{api.API}/models", timeout=10).status_code == 200
    assert json.loads((state_dir / PORT_FILE).read_text())["pid"] == shared.pid
    assert shared.pid != os.getpid()


def test_a_second_call_reuses_the_running_emulator(ensure: Ensure) -> None:
    assert ensure() == ensure()


def test_processes_racing_start_exactly_one_emulator(state_dir: Path, started: set[int]) -> None:
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[int] = context.Queue()
    racers = [context.Process(target=race, args=(str(state_dir), results))
              for _ in range(RACERS)]
    for racer in racers:
        racer.start()
    pids = {results.get(timeout=60) for _ in racers}
    for racer in racers:
        racer.join(timeout=30)
    started.update(pids)
    assert len(pids) == 1


def test_a_killed_emulator_is_replaced_and_its_jobs_survive(ensure: Ensure) -> None:
    first = ensure()
    request_id = api.create(first, SHORT).json()["requestId"]
    os.kill(first.pid, signal.SIGKILL)
    stop(first.pid)
    second = ensure()
    assert second.pid != first.pid
    assert api.status(second, request_id).json()["requestId"] == request_id


def test_a_port_file_naming_a_dead_process_is_ignored(ensure: Ensure, state_dir: Path) -> None:
    state_dir.mkdir(parents=True)
    stale = {"pid": 2**22 + 1, "port": 9, "url": "http://127.0.0.1:9"}
    (state_dir / PORT_FILE).write_text(json.dumps(stale))
    shared = ensure()
    assert shared.pid != stale["pid"]
    assert requests.get(f"{shared.url}{api.API}/models", timeout=10).status_code == 200


def test_a_clean_stop_removes_the_port_file(ensure: Ensure, state_dir: Path) -> None:
    stop(ensure().pid)
    assert not (state_dir / PORT_FILE).exists()


def gone_at(pid: int, timeout: float = 90.0) -> float:
    """The wall-clock time process ``pid`` was first seen gone (fails after ``timeout``)."""
    assert eventually(lambda: not running(pid), timeout), f"process {pid} still runs"
    return time.time()


def test_an_idle_emulator_exits_by_itself_and_removes_its_port_file(
    state_dir: Path, started: set[int]
) -> None:
    shared = ensure_running(state_dir, speed=20.0, idle_exit=1.0)
    started.add(shared.pid)
    gone_at(shared.pid)
    assert not (state_dir / PORT_FILE).exists()


def test_an_emulator_stays_up_while_a_job_runs_with_nobody_asking(
    state_dir: Path, started: set[int]
) -> None:
    # At speed 1 this job queues and processes for about 3 s: longer than the idle time.
    shared = ensure_running(state_dir, speed=1.0, idle_exit=0.5)
    started.add(shared.pid)
    request_id = api.create(shared, SHORT).json()["requestId"]
    exited = gone_at(shared.pid)
    saved = json.loads((state_dir / STATE_FILE).read_text())
    (job,) = [j for j in saved["jobs"] if j["request_id"] == request_id]
    assert job["rendered"]
    assert exited >= job["created_at"] + job["queued_seconds"] + job["processing_seconds"] + 0.5


def test_an_emulator_that_exited_idle_is_started_again_with_its_jobs(
    state_dir: Path, started: set[int]
) -> None:
    first = ensure_running(state_dir, speed=20.0, idle_exit=1.0)
    started.add(first.pid)
    request_id = api.create(first, SHORT).json()["requestId"]
    gone_at(first.pid)
    second = ensure_running(state_dir, speed=20.0, idle_exit=1.0)
    started.add(second.pid)
    assert second.pid != first.pid
    assert api.status(second, request_id).json()["status"] == "succeeded"
