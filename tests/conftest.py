"""Shared fixtures: a real emulator on loopback for every test that needs the service."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from seedance_jupyter.emulator import Emulator, start


@pytest.fixture
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """A fresh emulator, fast enough for tests (jobs finish in about a second), with fixed
    runtimes: every job of a kind takes the same time."""
    emu = start(speed=20.0, runtime_cv=0.0, queue_mean=0.0,
                output_dir=tmp_path_factory.mktemp("emulator"))
    try:
        yield emu
    finally:
        emu.stop()
