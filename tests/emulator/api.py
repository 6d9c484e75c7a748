"""Calls to an emulator over real HTTP, shared by the emulator's tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import requests

API = "/api/open/v1"
T2V = {"model": "seedance-2.0", "prompt": "A river at dawn", "duration": 5, "resolution": "720p"}
SHORT = {"model": "seedance-2.0", "prompt": "A short clip", "duration": 4, "resolution": "480p"}
TERMINAL = ("succeeded", "failed", "cancelled")


class Service(Protocol):
    """Where an emulator serves and the key it accepts (an Emulator, a SharedEmulator)."""

    @property
    def url(self) -> str: ...

    @property
    def api_key(self) -> str: ...


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def create(emu: Service, body: Any, key: str | None = None) -> requests.Response:
    return requests.post(
        f"{emu.url}{API}/video/generations", json=body, headers=auth(key or emu.api_key),
        timeout=10,
    )


def status(emu: Service, request_id: str, key: str | None = None) -> requests.Response:
    return requests.get(
        f"{emu.url}{API}/video/generations/{request_id}", headers=auth(key or emu.api_key),
        timeout=10,
    )


def cancel(emu: Service, request_id: str) -> requests.Response:
    return requests.post(
        f"{emu.url}{API}/video/generations/{request_id}/cancel", headers=auth(emu.api_key),
        timeout=10,
    )


def wait_for(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll ``check`` until it returns something truthy, which is returned."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"gave up after {timeout} s")


def finished(emu: Service, request_id: str) -> dict[str, Any]:
    """The first status answer with a terminal status."""

    def terminal() -> dict[str, Any] | None:
        body: dict[str, Any] = status(emu, request_id).json()
        return body if body["status"] in TERMINAL else None

    result: dict[str, Any] = wait_for(terminal)
    return result
