"""A gateway process on its own (tokens from ``StaticTokenAuthenticator``), over real HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from seedance_jupyter.media.stores import GatewayStore
from tests.gateway.hub import ROOT, free_port, wait_for
from tests.scripted import ScriptedServer

TOKENS = {"tok-ana": "ana", "tok-ben": "ben"}


@dataclass
class Gateway:
    url: str
    home: Path
    proc: subprocess.Popen[bytes]

    def store(self, bearer: str = "tok-ana") -> GatewayStore:
        return GatewayStore(self.url, bearer)

    def blobs(self) -> list[str]:
        folder = self.home / "gateway-media" / "blobs"
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def start_gateway(folder: Path, upstream: str, ttl: float) -> Gateway:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    config = folder / "gateway_config.py"
    config.write_text("\n".join([
        "c.SeedanceGateway.authenticator_class = "
        "'seedance_jupyter.gateway.auth.StaticTokenAuthenticator'",
        f"c.StaticTokenAuthenticator.tokens = {TOKENS!r}",
        f"c.SeedanceGateway.db_url = 'sqlite:///{folder}/ledger.sqlite3'",
        f"c.SeedanceGateway.port = {port}",
        f"c.SeedanceGateway.public_url = {url!r}",
        f"c.SeedanceGateway.media_url_ttl = {ttl!r}",
    ]) + "\n")
    env = {**os.environ, "SEEDANCE_BASE_URL": upstream, "SEEDANCE_API_KEY": "sk-team",
           "SEEDANCE_HOME": str(folder), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "seedance_jupyter.gateway",
                             "--config", str(config)], env=env, start_new_session=True)

    def up() -> bool:
        assert proc.poll() is None, "the gateway exited"
        try:
            return requests.get(url + "api/open/v1/models", timeout=5).ok
        except requests.RequestException:
            return False

    wait_for(up, 60, "the gateway answering")
    return Gateway(url, folder, proc)


def running_gateway(factory: pytest.TempPathFactory, upstream: ScriptedServer,
             ttl: float) -> Iterator[Gateway]:
    running = start_gateway(factory.mktemp("gateway"), upstream.url, ttl)
    yield running
    os.killpg(running.proc.pid, signal.SIGTERM)
    running.proc.wait(30)


