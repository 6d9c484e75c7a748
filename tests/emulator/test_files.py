"""What the emulator writes to disk is readable by its owner only, like the ledger."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from seedance_jupyter.emulator import Emulator

from . import api
from .api import SHORT


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that would leave new files world-readable."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("open_umask")
def test_state_file_is_0600(own_emulator: Callable[..., Emulator], tmp_path: Path) -> None:
    emu = own_emulator(state_dir=tmp_path / "state", output_dir=None)
    api.create(emu, SHORT)
    assert mode(tmp_path / "state" / "emulator-state.json") == 0o600


@pytest.mark.usefixtures("open_umask")
def test_rendered_videos_are_0600(emulator: Emulator) -> None:
    request_id = api.create(emulator, SHORT).json()["requestId"]
    assert api.finished(emulator, request_id)["status"] == "succeeded"
    assert mode(Path(emulator.jobs(request_id)["output_path"])) == 0o600
