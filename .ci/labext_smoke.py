"""Start JupyterLab from the wheel's venv (no Node on PATH) and check in Chromium that the
Seedance plugin activates with its sidebar, status bar item and commands, without page errors.

Usage: labext_smoke.py VENV_BIN WORK_DIR
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
PLUGIN = "seedance-jupyter:plugin"
COMMANDS = ["seedance:insert-cell", "seedance:open-form", "seedance:open-panel", "seedance:compare"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def main(bin_dir: Path, work: Path) -> int:
    token = secrets.token_hex(16)
    port = free_port()
    root = work / "smoke-root"
    root.mkdir(exist_ok=True)
    env = {
        "HOME": str(work / "home"), "PATH": str(bin_dir),
        "JUPYTER_CONFIG_DIR": str(work / "config"), "JUPYTER_DATA_DIR": str(work / "data"),
        "JUPYTER_RUNTIME_DIR": str(work / "runtime"),
    }
    log = (work / "smoke-lab.log").open("wb")
    server = subprocess.Popen(
        [str(bin_dir / "jupyter-lab"), "--no-browser", "--allow-root", f"--port={port}",
         "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1", f"--notebook-dir={root}",
         f"--IdentityProvider.token={token}", "--expose-app-in-browser"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)  # noqa: S310
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    print((work / "smoke-lab.log").read_text(), file=sys.stderr)
                    return 1
                time.sleep(0.25)
        errors: list[str] = []
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                args=CHROMIUM_ARGS, headless=True,
            )
            page = browser.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{base}/lab?reset&token={token}")
            page.wait_for_function(
                f"() => window.jupyterapp && window.jupyterapp.isPluginActivated('{PLUGIN}')",
                timeout=60_000,
            )
            state = page.evaluate(
                """async (commands) => {
                  const app = window.jupyterapp;
                  await app.restored;
                  return {
                    panel: Array.from(app.shell.widgets('left')).some(
                      w => w.id === 'seedance-jupyter-panel'),
                    statusItem: !!document.querySelector('.seedance-status-item'),
                    missingCommands: commands.filter(c => !app.commands.hasCommand(c)),
                  };
                }""",
                COMMANDS,
            )
            browser.close()
        print(f"labext smoke: {state}, page errors: {errors}")
        ok = state["panel"] and state["statusItem"] and not state["missingCommands"] and not errors
        return 0 if ok else 1
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
