"""``./dev demo`` (``python -m seedance_jupyter.demo``): the tutorial stays as tracked, nothing
is left running, and the executed copy with its video is where the demo says."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from seedance_jupyter.emulator.shared import LOG_FILE

from .helpers import processes_with_argument

pytestmark = pytest.mark.kernel
ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "notebooks" / "01-quickstart.ipynb"


@dataclass(frozen=True)
class DemoRun:
    tutorial_before: bytes
    result: subprocess.CompletedProcess[str]
    out: Path
    home: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """One demo run, with a (dead) real service configured that it must not use."""
    base = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "SEEDANCE_HOME": str(base / "home"), "SEEDANCE_EMULATOR_SPEED": "10",
           "SEEDANCE_BASE_URL": "http://127.0.0.1:9", "SEEDANCE_API_KEY": "sd2_live_not_used"}
    before = TUTORIAL.read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "seedance_jupyter.demo", str(TUTORIAL), "--out",
         str(base / "out")],
        cwd=base, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    return DemoRun(before, result, base / "out", base / "home")


def test_the_demo_leaves_the_tracked_tutorial_unchanged(demo: DemoRun) -> None:
    assert demo.result.returncode == 0, demo.result.stderr
    assert TUTORIAL.read_bytes() == demo.tutorial_before


def test_the_demo_writes_the_executed_copy_and_its_video_where_it_says(demo: DemoRun) -> None:
    executed = demo.out / TUTORIAL.name
    notebook = nbformat.read(executed, as_version=4)
    assert any(cell.get("outputs") for cell in notebook.cells)
    (video,) = (demo.out / "seedance_outputs").glob("*.mp4")
    assert str(executed) in demo.result.stdout
    assert str(video) in demo.result.stdout


def test_the_demo_runs_on_the_emulator_even_with_a_service_configured(demo: DemoRun) -> None:
    assert demo.result.returncode == 0, demo.result.stderr
    executed = nbformat.read(demo.out / TUTORIAL.name, as_version=4)
    assert "EMULATOR" in str(executed.cells)


def test_the_demo_leaves_no_emulator_running(demo: DemoRun) -> None:
    state_dir = str(demo.home / "emulator")
    assert "Seedance emulator at" in (demo.home / "emulator" / LOG_FILE).read_text()
    assert processes_with_argument(state_dir) == []

