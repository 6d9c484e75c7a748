"""The gateway's cost: 20 users x 10 jobs created and asked about, through it and directly.

Runs the embedded emulator and a ``seedance-gateway`` (fixed tokens, SQLite ledger,
no webhooks) on loopback, and prints creates per second and the p95 latency of a
create and of a status call, direct and through the gateway (the difference is
what the gateway adds: auth, the ledger claim, the row). Then, against an
in-process emulator that counts requests, the upstream status requests per job
until every job is final: the gateway polling, and the gateway taking webhooks.

    .venv/bin/python benchmarks/gateway.py [--users 20] [--jobs 10]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from seedance_jupyter.emulator import Emulator
from seedance_jupyter.emulator.shared import ensure_running
from seedance_jupyter.status import FINAL

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


@contextmanager
def _gateway(home: Path, tokens: dict[str, str], upstream: str, api_key: str,
             port: int, extra: str = "") -> Iterator[str]:
    """A ``seedance-gateway`` process with fixed tokens and a SQLite ledger; its URL."""
    config = home / "gateway_config.py"
    config.write_text(
        "c.SeedanceGateway.authenticator_class = "
        "'seedance_jupyter.gateway.auth.StaticTokenAuthenticator'\n"
        f"c.StaticTokenAuthenticator.tokens = {tokens!r}\n"
        f"c.SeedanceGateway.db_url = 'sqlite:///{home}/ledger.sqlite3'\n"
        f"c.SeedanceGateway.port = {port}\n" + extra)
    env = {**os.environ, "SEEDANCE_BASE_URL": upstream, "SEEDANCE_API_KEY": api_key,
           "SEEDANCE_HOME": str(home)}
    gateway = subprocess.Popen([sys.executable, "-m", "seedance_jupyter.gateway",
                                "--config", str(config)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _until(lambda: _answers(base + "/api/open/v1/models"), 60)
        yield base
    finally:
        gateway.terminate()
        gateway.wait(30)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).ok
    except requests.RequestException:
        return False


def _until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"not within {timeout} s")
        time.sleep(0.2)


def _status_requests_per_job(users: int, jobs: int, *, webhooks: bool) -> float:
    """Upstream status GETs per job, counted by an in-process emulator, until every job
    of every user is final (as each user sees it through the gateway)."""
    secret = secrets.token_hex(16)
    with tempfile.TemporaryDirectory() as folder, Emulator(
            speed=50.0, webhook_secret=secret, rate_limit_per_minute=1_000_000) as emulator:
        home = Path(folder)
        tokens = {f"tok-{n}": f"user{n}" for n in range(users)}
        port = _port()
        extra = ""
        if webhooks:
            extra = (f"c.SeedanceGateway.webhook_secret = {secret!r}\n"
                     f"c.SeedanceGateway.public_url = 'http://127.0.0.1:{port}/'\n")
        with _gateway(home, tokens, emulator.url, emulator.api_key, port, extra) as base:
            made = _create_all(base, list(tokens), jobs)
            _until(lambda: all(_final(base, token, rid) for token, rid in made), 600)
        gets = [r for r in emulator.requests if r.method == "GET"
                and r.path.startswith("/api/open/v1/video/generations/")]
        return len(gets) / len(made)


def _create_all(base: str, tokens: list[str], jobs: int) -> list[tuple[str, str]]:
    made = []
    for token in tokens:
        for _ in range(jobs):
            answer = requests.post(f"{base}/api/open/v1/video/generations", json=BODY,
                                   headers={"Authorization": f"Bearer {token}"}, timeout=60)
            answer.raise_for_status()
            made.append((token, answer.json()["requestId"]))
    return made


def _final(base: str, token: str, request_id: str) -> bool:
    answer = requests.get(f"{base}/api/open/v1/video/generations/{request_id}",
                          headers={"Authorization": f"Bearer {token}"}, timeout=60)
    return answer.json()["status"] in FINAL


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        emulator = ensure_running(home / "emulator", speed=50.0, idle_exit=30.0)
        tokens = {f"tok-{n}": f"user{n}" for n in range(args.users)}
        with _gateway(home, tokens, emulator.url, emulator.api_key, _port()) as base:
            direct = _run(emulator.url, [emulator.api_key] * args.users, args.jobs)
            through = _run(base, list(tokens), args.jobs)
    polled = _status_requests_per_job(args.users, args.jobs, webhooks=False)
    hooked = _status_requests_per_job(args.users, args.jobs, webhooks=True)
    print(f"{args.users} users x {args.jobs} jobs")
    print(f"creates/s      direct {direct[0]:7.1f}   gateway {through[0]:7.1f}")
    print(f"p95 create ms  direct {_p95(direct[1]):7.1f}   gateway {_p95(through[1]):7.1f}   "
          f"added {_p95(through[1]) - _p95(direct[1]):7.1f}")
    print(f"p95 status ms  direct {_p95(direct[2]):7.1f}   gateway {_p95(through[2]):7.1f}   "
          f"added {_p95(through[2]) - _p95(direct[2]):7.1f}")
    print(f"upstream status requests per job: without webhooks {polled:.2f}, "
          f"with webhooks {hooked:.2f}")


if __name__ == "__main__":
    main()
