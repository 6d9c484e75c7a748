"""``python -m seedance_jupyter.emulator`` with the flags shared emulators and benchmarks use."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import time
from pathlib import Path

import requests

from . import api


def test_port_file_names_the_process_and_its_url_and_is_0600(tmp_path: Path) -> None:
    port_file = tmp_path / "emulator.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "seedance_jupyter.emulator", "--port", "0", "--speed", "20",
         "--runtime-cv", "0.5", "--queue-mean", "2", "--seed", "9",
         "--state-dir", str(tmp_path / "state"), "--port-file", str(port_file)],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while not port_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        recorded = json.loads(port_file.read_text())
        assert recorded["pid"] == process.pid
        assert recorded["url"] == f"http://127.0.0.1:{recorded['port']}"
        assert stat.S_IMODE(port_file.stat().st_mode) == 0o600
        assert requests.get(f"{recorded['url']}{api.API}/models", timeout=10).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert process.returncode == 0
    assert not port_file.exists()
