"""The Jupyter server's memory while one events client never reads.

A ``jupyter server`` with the extension runs in a subprocess, its ``SEEDANCE_HOME`` and
root in a temporary directory (no service is reached: the watcher is off). Two clients
open ``/seedance/api/events``: one reads everything, the other sends its request on a
socket with a 4 KiB receive buffer and never reads. Meanwhile this process writes
ledger rows (20 every 0.1 s, each with a long prompt, as a kernel's claim writes them),
so the server streams a few MB/s of ``job`` events. Printed: the server's RSS at the
start, at the end and at most (sampled every 0.1 s), and what the reading client read.
Run it with and without ``--no-silent`` to see what the silent client costs.

Run from the repository root: ``.venv/bin/python benchmarks/events_memory.py`` (~40 s).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from seedance_jupyter.catalog import GenerationRequest
from seedance_jupyter.jobs.ledger import Ledger


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status
                    if line.startswith("VmRSS"))


def start_server(base: Path, port: int, token: str) -> subprocess.Popen[bytes]:
    (base / "root").mkdir()
    env = {**os.environ, "SEEDANCE_HOME": str(base / "home"),
           "SEEDANCE_BASE_URL": "http://127.0.0.1:9", "SEEDANCE_API_KEY": "sd2_benchmark",
           "JUPYTER_CONFIG_DIR": str(base / "config"), "JUPYTER_RUNTIME_DIR": str(base / "rt")}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
         f"--port={port}", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={base / 'root'}", "--SeedanceServerApp.watch_orphans=False",
         "--SeedanceServerApp.events_interval=0.2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(240):
        try:
            requests.get(f"http://127.0.0.1:{port}/api/status",
                         headers={"Authorization": f"token {token}"}, timeout=2)
            return server
        except requests.RequestException:
            time.sleep(0.25)
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--prompt-chars", type=int, default=50_000)
    parser.add_argument("--no-silent", action="store_true", help="no client that never reads")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp())
    port, token = free_port(), secrets.token_hex(8)
    server = start_server(base, port, token)
    auth = f"Authorization: token {token}"
    silent = socket.socket()
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    if not args.no_silent:
        silent.connect(("127.0.0.1", port))
        silent.sendall(f"GET /seedance/api/events HTTP/1.1\r\nHost: x\r\n{auth}\r\n\r\n".encode())
    read = [0]

    def reader() -> None:
        with requests.get(f"http://127.0.0.1:{port}/seedance/api/events", stream=True,
                          headers={"Authorization": f"token {token}"}, timeout=600) as answer:
            for chunk in answer.iter_content(1 << 16):
                read[0] += len(chunk)

    threading.Thread(target=reader, daemon=True).start()
    time.sleep(2)
    start = rss_mb(server.pid)
    samples = [start]
    rows = 0
    prompt = ("a lighthouse at dusk " * (args.prompt_chars // 21 + 1))[: args.prompt_chars]
    with Ledger(base / "home" / "ledger.sqlite3") as ledger:
        began = time.monotonic()
        while time.monotonic() - began < args.seconds:
            for _ in range(20):
                rows += 1
                request = GenerationRequest.of(f"{prompt} {rows}", model="seedance-2.0",
                                               duration=5, resolution="480p",
                                               aspect_ratio="16:9")
                ledger.claim(client_token=f"tok{rows}", backend="http://127.0.0.1:9",
                             request=request, fingerprint=f"f{rows}", estimated_usd=0.25,
                             notebook=str(base / "root" / "a.ipynb"), reuse=False)
            time.sleep(0.1)
            samples.append(rss_mb(server.pid))
    print(json.dumps({
        "silent_client": not args.no_silent, "seconds": args.seconds, "rows": rows,
        "rss_start_mb": start, "rss_end_mb": samples[-1], "rss_max_mb": max(samples),
        "reading_client_read_mb": round(read[0] / 2**20, 1),
        "load_average": os.getloadavg()[0],
    }))
    silent.close()
    server.terminate()
    server.wait(30)


if __name__ == "__main__":
    main()
