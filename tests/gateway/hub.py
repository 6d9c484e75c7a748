"""A real JupyterHub with the gateway as its managed service, and a scripted upstream.

One Hub per test module: DummyAuthenticator, users and tokens made through the
Hub's REST API by a service with a fixed token, the proxy from node_modules,
PostgreSQL as the gateway's ledger. The Hub runs in its own process group, which
is stopped whole (the proxy and the gateway are its children).
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from seedance_jupyter.webhooks import sign_webhook_body
from tests.scripted import Answer, ScriptedServer, Seen

ROOT = Path(__file__).resolve().parents[2]
PROXY = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
TEAM_KEY = "sk-team-" + secrets.token_hex(8)
WEBHOOK_SECRET = "whsec-" + secrets.token_hex(8)
ADMIN_TOKEN = secrets.token_hex(16)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    """Poll ``condition`` until it is truthy (generous timeouts; no timing is asserted)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


class Upstream:
    """The Seedance service as scripted: ids req_1, req_2…; jobs queued until finished by
    a signed webhook (``deliver``); every request recorded."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.jobs: dict[str, dict[str, Any]] = {}
        self.server = ScriptedServer(create=self._create, status=self._status)
        self.url = self.server.url

    def _create(self, seen: Seen) -> Answer:
        if seen.authorization != f"Bearer {TEAM_KEY}":
            return Answer(401, {"success": False, "error": {"code": "unauthorized",
                                                            "message": "bad key"}})
        request_id = f"req_{next(self._ids)}"
        self.jobs[request_id] = {"body": seen.body, "status": "queued"}
        return Answer(body={"success": True, "requestId": request_id, "status": "queued",
                            "creditsCharged": 40})

    def _status(self, seen: Seen) -> Answer:
        request_id = seen.path.rstrip("/").split("/")[-1]
        job = self.jobs.get(request_id)
        if job is None:
            return Answer(404, {"success": False, "error": {"code": "not_found",
                                                            "message": "no such job"}})
        return Answer(body=self.body(request_id))

    def body(self, request_id: str) -> dict[str, Any]:
        job = self.jobs[request_id]
        done = job["status"] == "succeeded"
        return {"success": True, "requestId": request_id, "status": job["status"],
                "output": {"type": "video", "url": f"{self.url}/out/{request_id}.mp4"}
                if done else None, "error": None}

    def posts(self) -> int:
        return self.server.posts

    def status_gets(self, request_id: str) -> int:
        return sum(1 for s in list(self.server.seen)
                   if s.method == "GET" and s.path.endswith(f"/video/generations/{request_id}"))

    def webhook_url(self, request_id: str) -> str:
        return str(self.jobs[request_id]["body"]["webhookUrl"])

    def deliver(self, request_id: str, *, secret: str = WEBHOOK_SECRET) -> requests.Response:
        """Finish the job and send its signed webhook, as the service does."""
        self.jobs[request_id]["status"] = "succeeded"
        raw = json.dumps(self.body(request_id)).encode()
        return requests.post(self.webhook_url(request_id), data=raw, timeout=30, headers={
            "Content-Type": "application/json",
            "x-seedance-signature": sign_webhook_body(raw, secret)})

    def close(self) -> None:
        self.server.close()


class Hub:
    """The Hub process group, its URL, and user tokens made through its REST API."""

    def __init__(self, folder: Path, upstream: Upstream, db_url: str,
                 gateway_settings: dict[str, Any]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.gateway = f"{self.url}/services/seedance/"
        gateway_config = self.gateway_config = folder / "gateway_config.py"
        lines = [f"c.SeedanceGateway.{name} = {value!r}" for name, value in {
            "db_url": db_url, "public_url": self.gateway, "webhook_secret": WEBHOOK_SECRET,
            **gateway_settings}.items()]
        gateway_config.write_text("\n".join(lines) + "\n")
        environment = {"SEEDANCE_API_KEY": TEAM_KEY, "SEEDANCE_BASE_URL": upstream.url,
                       "SEEDANCE_HOME": str(folder / "gateway-home"),
                       "PYTHONPATH": str(ROOT)}
        service = {
            "name": "seedance", "url": f"http://127.0.0.1:{free_port()}",
            "command": [sys.executable, "-m", "seedance_jupyter.gateway",
                        "--config", str(gateway_config)],
            "environment": environment, "oauth_no_confirm": True,
        }
        config = folder / "jupyterhub_config.py"
        config.write_text("\n".join([
            f"c.JupyterHub.ip = '127.0.0.1'; c.JupyterHub.port = {self.port}",
            f"c.JupyterHub.hub_port = {free_port()}",
            f"c.ConfigurableHTTPProxy.command = [{str(PROXY)!r}]",
            f"c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{free_port()}'",
            "c.JupyterHub.authenticator_class = 'dummy'; c.Authenticator.allow_all = True",
            f"c.JupyterHub.db_url = 'sqlite:///{folder}/hub.sqlite'",
            f"c.JupyterHub.cookie_secret_file = '{folder}/cookie_secret'",
            f"c.JupyterHub.services = [{{'name': 'test-admin', 'api_token': {ADMIN_TOKEN!r}}},"
            f" {service!r}]",
            "c.JupyterHub.load_roles = ["
            "{'name': 'test-admin', 'scopes': ['admin:users', 'tokens'],"
            " 'services': ['test-admin']},"
            "{'name': 'user', 'scopes': ['self', 'access:services!service=seedance']}]",
        ]) + "\n")
        self.log = (folder / "hub.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=folder,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PATH": f"{PROXY.parent}:{os.environ['PATH']}"},
        )
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()
        wait_for(self._up, 90, "the Hub and the gateway answering through the proxy")

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"the Hub exited: see {self.log.name}")
        try:
            answer = requests.get(self.gateway + "api/open/v1/video/generations/req_0",
                                  timeout=5)
        except requests.RequestException:
            return False
        return answer.status_code == 401  # the gateway itself, asking for a token

    def api(self, method: str, path: str, body: Any = None) -> Any:
        answer = requests.request(method, f"{self.url}/hub/api{path}", json=body, timeout=30,
                                  headers={"Authorization": f"token {ADMIN_TOKEN}"})
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def token(self, user: str) -> str:
        """A token of ``user`` (made on first use) with access to the gateway."""
        with self._lock:
            if user not in self._tokens:
                self.api("POST", "/users", {"usernames": [user]})
                made = self.api("POST", f"/users/{user}/tokens",
                                {"scopes": ["access:services!service=seedance"]})
                self._tokens[user] = made["token"]
            return self._tokens[user]

    def call(self, method: str, path: str, *, user: str | None = None, token: str | None = None,
             body: Any = None, headers: dict[str, str] | None = None) -> requests.Response:
        """A request to the gateway's contract as ``user`` (or with ``token``)."""
        bearer = token if token is not None else (self.token(user) if user else None)
        sent = dict(headers or {})
        if bearer is not None:
            sent["Authorization"] = f"Bearer {bearer}"
        return requests.request(method, f"{self.gateway}api/open/v1{path}", json=body,
                                headers=sent, timeout=90)

    def gateway_pids(self) -> list[int]:
        """The gateway processes of this Hub running now (the Hub starts them in their
        own session, so they are found by their config file)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"seedance_jupyter.gateway" in cmdline and (
                    str(self.gateway_config).encode() in cmdline):
                found.append(int(entry.name))
        return found

    def close(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)
        for pid in self.gateway_pids():  # the Hub stops them; never leave one behind
            os.kill(pid, signal.SIGKILL)
        self.log.close()
