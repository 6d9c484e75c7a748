"""The server keeps paid videos: a download cut by a killed kernel is resumed by its
watcher, and a server stopped (SIGTERM) mid-download exits at once and resumes it
after a restart. The API is scripted and the storage slow, both in this process;
kernels and the stopped server are real processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from seedance_jupyter.api.client import APIClient
from seedance_jupyter.api.transport import new_client_token
from seedance_jupyter.jobs.backend import backend_key_from_env
from seedance_jupyter.jobs.ledger import Ledger

from ..helpers import eventually
from ..kernel_harness import Kernel
from ..scripted import ScriptedServer
from ..slowfiles import SlowFile, SlowFileServer, mp4_body, one_video_api
from .conftest import until

KEY = "sd2_live_server_videos_test_key_0123456789"
VIDEO = mp4_body(600_000)


@pytest.fixture
def api(storage: SlowFileServer) -> Iterator[ScriptedServer]:
    server = one_video_api(storage, "req_cut")
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def seedance_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api: ScriptedServer
) -> Path:
    """The kernels' and the server's environment: one SEEDANCE_HOME, the scripted API."""
    home = tmp_path / "seedance-home"
    monkeypatch.setenv("SEEDANCE_HOME", str(home))
    monkeypatch.setenv("SEEDANCE_BASE_URL", api.url)
    monkeypatch.setenv("SEEDANCE_API_KEY", KEY)
    return home


@pytest.fixture
def seedance_config() -> dict[str, Any]:
    return {"watch_orphans": True, "orphan_interval": 0.5, "events_interval": 0.2}


@pytest.mark.kernel
async def test_the_watcher_resumes_a_download_cut_by_a_killed_kernel(
    jp_fetch: Any, ledger: Ledger, notebook_dir: Path, storage: SlowFileServer
) -> None:
    storage.files["/req_cut.mp4"] = SlowFile(VIDEO, piece=8192, pause=0.1)
    part = notebook_dir / "seedance_outputs" / "req_cut.mp4.part"
    kernel = Kernel(notebook_dir, {})
    try:
        kernel.execute("%load_ext seedance_jupyter")
        kernel.execute("%config SeedanceMagics.first_poll_delay = 0.2")
        assert kernel.execute("%%seedance -d 5\na kite").reply["status"] == "ok"
        assert await until(lambda: part.exists() and part.stat().st_size > 0)
        kernel.manager.signal_kernel(signal.SIGKILL)
        cut = storage.served[0]
        assert await until(lambda: cut.ended)
        storage.files["/req_cut.mp4"].pause = 0.0
    finally:
        kernel.shutdown()

    assert await until(lambda: saved_path(ledger) is not None, 60)
    assert not cut.complete
    resumed = storage.served[-1]
    assert resumed.range is not None and resumed.range != "bytes=0-" and resumed.complete
    assert (notebook_dir / "seedance_outputs" / "req_cut.mp4").read_bytes() == VIDEO
    assert not part.exists()


def saved_path(ledger: Ledger) -> str | None:
    record = ledger.get("req_cut")
    return None if record is None else record.local_path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class JupyterServer:
    """``jupyter server`` with the extension, as a process manager runs it."""

    def __init__(self, root: Path, config_dir: Path) -> None:
        self.root = root
        self.config_dir = config_dir
        config_dir.mkdir(parents=True, exist_ok=True)
        (config_dir / "jupyter_server_config.json").write_text(json.dumps({
            "ServerApp": {"jpserver_extensions": {"seedance_jupyter": True}},
            "SeedanceServerApp": {"watch_orphans": True, "orphan_interval": 0.5},
        }))
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(self.config_dir),
               "JUPYTER_RUNTIME_DIR": str(self.config_dir / "runtime")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", "--no-browser",
             f"--port={free_port()}", f"--ServerApp.root_dir={self.root}",
             "--IdentityProvider.token=test", "--allow-root"],
            env=env, stdout=subprocess.DEVNULL, stderr=(self.config_dir / "server.log").open("ab"),
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def served_root(tmp_path: Path, seedance_home: Path) -> Iterator[JupyterServer]:
    root = tmp_path / "root"
    (root / "project").mkdir(parents=True)
    server = JupyterServer(root, tmp_path / "config")
    try:
        yield server
    finally:
        server.stop()


def succeeded_row(ledger: Ledger, api: ScriptedServer, notebook: Path) -> None:
    """A paid job that succeeded while no process saved its video (its kernel is gone)."""
    client = APIClient(api_key=KEY, base_url=api.url)
    try:
        request = client.prepare("a kite", duration=5, resolution="480p")
        token = new_client_token()
        ledger.claim(client_token=token, backend=backend_key_from_env(), request=request,
                     fingerprint=request.fingerprint(), estimated_usd=0.25,
                     notebook=str(notebook), reuse=False)
        state = client.generations.create(request, client_token=token)
        ledger.record_submitted(token, request_id=state.request_id, status=state.status,
                                credits_charged=state.credits_charged)
        final = client.generations.get(state.request_id)
        ledger.record_status(final.request_id, status=final.status,
                             output_url=final.output_url)
    finally:
        client.close()


def test_a_server_stopped_mid_download_exits_at_once_and_resumes_it_after_a_restart(
    served_root: JupyterServer, api: ScriptedServer, storage: SlowFileServer,
    seedance_home: Path,
) -> None:
    storage.files["/req_cut.mp4"] = SlowFile(VIDEO, piece=8192, pause=0.2)  # about 15 s
    project = served_root.root / "project"
    part = project / "seedance_outputs" / "req_cut.mp4.part"
    with Ledger(seedance_home / "ledger.sqlite3") as ledger:
        succeeded_row(ledger, api, project)
        served_root.start()
        assert eventually(lambda: part.exists() and part.stat().st_size > 0)
        process = served_root.process
        assert process is not None

        process.send_signal(signal.SIGTERM)
        # Within a process manager's usual 10 s grace, long before the body is done.
        process.wait(timeout=8)

        cut = storage.served[0]
        assert not cut.complete
        assert saved_path(ledger) is None
        assert part.exists()
        storage.files["/req_cut.mp4"].pause = 0.0
        served_root.start()
        assert eventually(lambda: saved_path(ledger) is not None)
    resumed = storage.served[-1]
    assert resumed.range is not None and resumed.range != "bytes=0-" and resumed.complete
    assert (project / "seedance_outputs" / "req_cut.mp4").read_bytes() == VIDEO
    assert not part.exists()


def test_a_server_stopped_while_storage_has_not_answered_yet_exits_at_once(
    served_root: JupyterServer, api: ScriptedServer, storage: SlowFileServer,
    seedance_home: Path,
) -> None:
    storage.files["/req_cut.mp4"] = SlowFile(VIDEO, stall=120.0)  # headers never come in time
    with Ledger(seedance_home / "ledger.sqlite3") as ledger:
        succeeded_row(ledger, api, served_root.root / "project")
        served_root.start()
        assert eventually(lambda: len(storage.served) == 1)
        process = served_root.process
        assert process is not None

        process.send_signal(signal.SIGTERM)
        # Within a process manager's usual 10 s grace, not the download's 60 s read timeout.
        process.wait(timeout=8)

        assert saved_path(ledger) is None
