"""Shared fixtures: a real emulator on loopback for every test that needs the service."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from seedance_jupyter.emulator import Emulator, start

from .postgres import PostgresServer, require_postgres


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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL cluster for the whole session (skipped, with the reason, when
    the binaries are missing; failed instead under SEEDANCE_REQUIRE_POSTGRES=1)."""
    server = PostgresServer(require_postgres("the PostgreSQL ledger tests need it"))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty PostgreSQL database for one test."""
    return postgres_server.new_database()


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on each database the ledger supports: a SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))
