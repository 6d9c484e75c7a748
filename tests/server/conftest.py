"""A Jupyter server with the extension, a real emulator, and ledger rows made the kernel's way.

pytest-jupyter's fixtures are imported here, not in the root conftest, so its
autouse event loop and server cleanup apply to these tests only.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pytest_jupyter.jupyter_server import *  # noqa: F403
from traitlets.config import Config

from seedance_jupyter.api.client import APIClient
from seedance_jupyter.api.transport import new_client_token
from seedance_jupyter.emulator import Emulator, start
from seedance_jupyter.jobs.backend import backend_key_from_env
from seedance_jupyter.jobs.ledger import JobRecord, Ledger
from seedance_jupyter.server.app import SeedanceServerApp

SECRET = "whsec_server_tests"


@pytest.fixture
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """Jobs take a few seconds (so they can still be cancelled); webhooks are signed."""
    emu = start(speed=2.0, webhook_secret=SECRET, output_dir=tmp_path_factory.mktemp("emu"))
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def seedance_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: Emulator
) -> Path:
    """The environment a kernel and this server share: one SEEDANCE_HOME, one emulator."""
    home = tmp_path / "seedance-home"
    monkeypatch.setenv("SEEDANCE_HOME", str(home))
    monkeypatch.setenv("SEEDANCE_BASE_URL", emulator.url)
    monkeypatch.setenv("SEEDANCE_API_KEY", emulator.api_key)
    return home


@pytest.fixture
def seedance_config() -> dict[str, Any]:
    """``SeedanceServerApp`` settings; modules override it (the watcher is off by default)."""
    return {"webhook_secret": SECRET, "watch_orphans": False, "events_interval": 0.2}


@pytest.fixture
def jp_server_config(seedance_home: Path, seedance_config: dict[str, Any]) -> Config:
    return Config({
        "ServerApp": {"jpserver_extensions": {"seedance_jupyter": True}},
        "SeedanceServerApp": seedance_config,
    })


@pytest.fixture
def extension(jp_serverapp: Any) -> SeedanceServerApp:
    """The running extension app (its settings can be changed at run time)."""
    apps = jp_serverapp.extension_manager.extension_apps["seedance_jupyter"]
    (app,) = apps
    assert isinstance(app, SeedanceServerApp)
    return app


@pytest.fixture
def ledger(seedance_home: Path) -> Iterator[Ledger]:
    """The shared ledger, as a kernel opens it."""
    with Ledger(seedance_home / "ledger.sqlite3") as opened:
        yield opened


@pytest.fixture
def notebook_dir(jp_root_dir: Path) -> Path:
    """The working directory of a notebook's kernel, inside the server root."""
    folder = jp_root_dir / "project"
    folder.mkdir()
    return folder


@dataclass
class Submitter:
    """Submits the way a kernel's JobService does, without polling afterwards."""

    ledger: Ledger
    client: APIClient
    notebook: Path

    def submit(
        self, prompt: str = "a lighthouse at dusk", *, webhook_url: str | None = None,
        client_token: str | None = None,
    ) -> JobRecord:
        request = self.client.prepare(
            prompt, duration=5, resolution="480p", webhook_url=webhook_url
        )
        token = client_token or new_client_token()
        self.ledger.claim(
            client_token=token, backend=backend_key_from_env(), request=request,
            fingerprint=request.fingerprint(), estimated_usd=0.25,
            notebook=str(self.notebook), reuse=False,
        )
        state = self.client.generations.create(request, client_token=token)
        return self.ledger.record_submitted(
            token, request_id=state.request_id, status=state.status,
            credits_charged=state.credits_charged,
        )


@pytest.fixture
def submitter(ledger: Ledger, emulator: Emulator, notebook_dir: Path) -> Iterator[Submitter]:
    client = APIClient(api_key=emulator.api_key, base_url=emulator.url)
    try:
        yield Submitter(ledger, client, notebook_dir)
    finally:
        client.close()


def body(response: Any) -> Any:
    return json.loads(response.body)


async def until(predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Wait for ``predicate`` without blocking the server's event loop."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()
