"""Shared fixtures: a real emulator on loopback for every test that needs the service."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from seedance_jupyter.emulator import Emulator, start

from .postgres import PostgresServer, require_postgres
from .slowfiles import SlowFileServer


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


@dataclass
class S3Bucket:
    """A bucket on an S3-compatible server on loopback, and a count of its uploads."""

    endpoint: str
    name: str
    client: Any
    puts: list[str]

    def keys(self) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=self.name)
        return [item["Key"] for item in listed.get("Contents", [])]


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's S3 server on a free loopback port (its HTTP API is what AWS, R2 and MinIO speak)."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> S3Bucket:
    """A fresh bucket; every PutObject through any boto3 client of this test is counted."""
    import boto3

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    name = f"media-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_server)
    client.create_bucket(Bucket=name)
    puts: list[str] = []
    real_client = boto3.client

    def counting_client(*args: Any, **kwargs: Any) -> Any:
        made = real_client(*args, **kwargs)
        made.meta.events.register(
            "before-call.s3.PutObject", lambda params, **_: puts.append(params["url_path"])
        )
        return made

    monkeypatch.setattr(boto3, "client", counting_client)
    return S3Bucket(s3_server, name, client, puts)


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


@pytest.fixture
def storage() -> Iterator[SlowFileServer]:
    """Slow scripted storage on loopback, for cut, stopped and resumed downloads."""
    files = SlowFileServer()
    try:
        yield files
    finally:
        files.close()
