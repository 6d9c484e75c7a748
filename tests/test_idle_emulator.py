"""The embedded emulator a kernel starts exits by itself once idle, never while a job runs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from seedance_jupyter.emulator.app import STATE_FILE
from seedance_jupyter.emulator.shared import LOG_FILE, PORT_FILE

from .helpers import eventually, processes_with_argument
from .kernel_harness import Execution, Kernel, display_ids
from .test_kernel import has_video_update

pytestmark = pytest.mark.kernel
LOAD = "%load_ext seedance_jupyter"
IDLE_EXIT = 2.0
#: A --wait cell starts an emulator and renders a video: generous on a loaded machine.
CELL_TIMEOUT = 240


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "home" / "emulator"


def embedded_env(tmp_path: Path, speed: float) -> dict[str, str]:
    """No service address or key (so the embedded emulator), a short idle time."""
    return {"SEEDANCE_HOME": str(tmp_path / "home"), "SEEDANCE_BASE_URL": "",
            "SEEDANCE_API_KEY": "", "SEEDANCE_EMULATOR_SPEED": str(speed),
            "SEEDANCE_EMULATOR_IDLE_EXIT": str(IDLE_EXIT)}


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[Kernel]:
    k = Kernel(tmp_path, embedded_env(tmp_path, speed=10.0))
    try:
        yield k
    finally:
        k.shutdown()


def succeeded(kernel: Kernel, cell: Execution) -> bool:
    """True once the card of ``cell``'s job says succeeded (its last update may come
    from the poller's thread just after the cell's idle message)."""
    [display_id] = display_ids(cell)
    return kernel.wait_for(has_video_update(display_id, "seedance-status-succeeded"),
                           timeout=60)


def finished_at(state_dir: Path) -> float:
    """When the emulator's last job was due to end (wall clock)."""
    jobs = json.loads((state_dir / STATE_FILE).read_text())["jobs"]
    return max(j["created_at"] + j["queued_seconds"] + j["processing_seconds"] for j in jobs)


def gone_at(state_dir: Path) -> float:
    """The wall-clock time no emulator of ``state_dir`` was seen running (fails after 90 s).

    By command line, not by the port file's pid: an emulator may already have exited
    (and removed its port file) by the time a slow test looks.
    """
    assert eventually(lambda: not processes_with_argument(str(state_dir)), timeout=90), (
        f"an emulator of {state_dir} still runs")
    return time.time()


def starts_and_idle_exits(state_dir: Path) -> tuple[int, int]:
    """How many times the emulators of ``state_dir`` started, and exited as idle (its log)."""
    log = (state_dir / LOG_FILE).read_text()
    return log.count("Seedance emulator at "), log.count("the emulator exits")


def test_the_embedded_emulator_exits_once_idle_while_its_kernel_lives(
    kernel: Kernel, state_dir: Path
) -> None:
    kernel.execute(LOAD)
    cell = kernel.execute("%%seedance -d 4 -r 480p --wait --no-download\nidle afterwards",
                          timeout=CELL_TIMEOUT)
    assert succeeded(kernel, cell)
    exited = gone_at(state_dir)
    assert starts_and_idle_exits(state_dir) == (1, 1)
    assert not (state_dir / PORT_FILE).exists()
    # The kernel's last request saw the job done, so it came after the job's end.
    assert exited >= finished_at(state_dir) + IDLE_EXIT
    assert kernel.execute("1 + 1").reply["status"] == "ok"


def test_a_kernel_submits_again_after_its_emulator_exited_idle(
    kernel: Kernel, state_dir: Path
) -> None:
    kernel.execute(LOAD)
    assert succeeded(kernel, kernel.execute(
        "%%seedance -d 4 -r 480p --wait --no-download\nthe first job", timeout=CELL_TIMEOUT))
    gone_at(state_dir)
    again = kernel.execute("%%seedance -d 4 -r 480p --wait --no-download\nthe second job",
                           timeout=CELL_TIMEOUT)
    assert succeeded(kernel, again)
    assert starts_and_idle_exits(state_dir)[0] == 2


def test_the_embedded_emulator_stays_up_while_a_job_runs_with_no_kernel_polling(
    tmp_path: Path, state_dir: Path
) -> None:
    # At speed 1 a 15 s 480p job takes about 10 s: several idle times with nobody asking.
    kernel = Kernel(tmp_path, embedded_env(tmp_path, speed=1.0))
    try:
        kernel.execute(LOAD)
        kernel.execute("%%seedance -d 15 -r 480p --no-download\nfinished with no kernel")
    finally:
        kernel.shutdown()
    exited = gone_at(state_dir)
    (job,) = json.loads((state_dir / STATE_FILE).read_text())["jobs"]
    assert job["rendered"]
    assert exited >= finished_at(state_dir) + IDLE_EXIT
