"""The gateway's cost: 20 users x 10 jobs created and asked about, through it and directly.

Runs the embedded emulator and a ``seedance-gateway`` (fixed tokens, SQLite ledger,
no webhooks) on loopback, and prints creates per second and the p95 latency of a
create and of a status call, direct and through the gateway (the difference is
what the gateway adds: auth, the ledger claim, the row).

    .venv/bin/python benchmarks/gateway.py [--users 20] [--jobs 10]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from seedance_jupyter.emulator.shared import ensure_running

BODY = {"model": "seedance-2.0", "prompt": "a benchmark kite", "duration": 5,
        "resolution": "720p"}


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(base: str, tokens: list[str], jobs: int) -> tuple[float, list[float], list[float]]:
    """Creates per second, create latencies and status latencies (seconds)."""
    def user(token: str) -> tuple[list[float], list[float]]:
        session = requests.Session()
        headers = {"Authorization": f"Bearer {token}"}
        creates, statuses = [], []
        for _ in range(jobs):
            started = time.perf_counter()
            answer = session.post(f"{base}/api/open/v1/video/generations", json=BODY,
                                  headers=headers, timeout=60)
            creates.append(time.perf_counter() - started)
            answer.raise_for_status()
            request_id = answer.json()["requestId"]
            started = time.perf_counter()
            session.get(f"{base}/api/open/v1/video/generations/{request_id}", headers=headers,
                        timeout=60).raise_for_status()
            statuses.append(time.perf_counter() - started)
        return creates, statuses

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(len(tokens)) as pool:
        results = list(pool.map(user, tokens))
    elapsed = time.perf_counter() - started
    creates = [x for c, _ in results for x in c]
    statuses = [x for _, s in results for x in s]
    return len(creates) / elapsed, creates, statuses


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        emulator = ensure_running(home / "emulator", speed=50.0)
        tokens = {f"tok-{n}": f"user{n}" for n in range(args.users)}
        port = _port()
        config = home / "gateway_config.py"
        config.write_text(
            "c.SeedanceGateway.authenticator_class = "
            "'seedance_jupyter.gateway.auth.StaticTokenAuthenticator'\n"
            f"c.StaticTokenAuthenticator.tokens = {tokens!r}\n"
            f"c.SeedanceGateway.db_url = 'sqlite:///{home}/ledger.sqlite3'\n"
            f"c.SeedanceGateway.port = {port}\n")
        env = {**os.environ, "SEEDANCE_BASE_URL": emulator.url,
               "SEEDANCE_API_KEY": emulator.api_key, "SEEDANCE_HOME": str(home)}
        gateway = subprocess.Popen([sys.executable, "-m", "seedance_jupyter.gateway",
                                    "--config", str(config)], env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    requests.get(base + "/api/open/v1/models", timeout=5)
                    break
                except requests.RequestException:
                    time.sleep(0.1)
            direct = _run(emulator.url, [emulator.api_key] * args.users, args.jobs)
            through = _run(base, list(tokens), args.jobs)
        finally:
            gateway.terminate()
            gateway.wait(30)
    print(f"{args.users} users x {args.jobs} jobs")
    print(f"creates/s      direct {direct[0]:7.1f}   gateway {through[0]:7.1f}")
    print(f"p95 create ms  direct {_p95(direct[1]):7.1f}   gateway {_p95(through[1]):7.1f}   "
          f"added {_p95(through[1]) - _p95(direct[1]):7.1f}")
    print(f"p95 status ms  direct {_p95(direct[2]):7.1f}   gateway {_p95(through[2]):7.1f}   "
          f"added {_p95(through[2]) - _p95(direct[2]):7.1f}")


if __name__ == "__main__":
    main()
