"""Shared fixtures: a real emulator on loopback for every test that needs the service."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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


@pytest.fixture
def own_emulator(tmp_path: Path) -> Iterator[Callable[..., Emulator]]:
    """Start emulators with custom settings (fixed runtimes unless given); all are stopped."""
    started: list[Emulator] = []

    def make(**settings: Any) -> Emulator:
        settings.setdefault("output_dir", tmp_path / f"out{len(started)}")
        settings.setdefault("runtime_cv", 0.0)
        settings.setdefault("queue_mean", 0.0)
        emu = start(**settings)
        started.append(emu)
        return emu

    yield make
    for emu in started:
        emu.stop()
