"""Which service the kernel talks to: the real one, an external emulator, or an embedded one.

With neither ``SEEDANCE_BASE_URL`` nor ``SEEDANCE_API_KEY`` set, an emulator is
started in-process on first use; it keeps its jobs under ``SEEDANCE_HOME`` so a
restarted kernel can still resume them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .. import messages
from ..errors import SeedanceError
from ..paths import seedance_home

if TYPE_CHECKING:
    from .client import Client

__all__ = ["EMBEDDED_KEY", "Backend", "backend_key_from_env", "resolve_backend"]

EMBEDDED_KEY = "emulator:embedded"


def backend_key_from_env() -> str:
    """The ledger's name for the backend the environment points at, without starting it."""
    base_url = os.environ.get("SEEDANCE_BASE_URL")
    if base_url:
        return base_url.rstrip("/")
    if os.environ.get("SEEDANCE_API_KEY"):
        from ..api.transport import DEFAULT_BASE_URL

        return DEFAULT_BASE_URL
    return EMBEDDED_KEY


@dataclass
class Backend:
    """A client plus what the cards must say about it."""

    client: Client
    key: str
    label: str
    is_emulator: bool
    emulator: Any = None

    def close(self) -> None:
        if self.emulator is not None:
            self.emulator.stop()


def resolve_backend() -> Backend:
    """Pick the backend from the environment, starting the embedded emulator if needed."""
    from .client import Client

    key = backend_key_from_env()
    if key != EMBEDDED_KEY:
        client = Client()
        host = urlsplit(client.base_url).netloc or client.base_url
        label = f"emulator at {host}" if client.is_loopback else host
        return Backend(client, key, label, client.is_loopback)
    try:
        from ..emulator import start
    except ImportError:
        raise SeedanceError(messages.EMULATOR_MISSING, code="emulator_missing") from None
    speed = float(os.environ.get("SEEDANCE_EMULATOR_SPEED", "1.0"))
    try:
        emulator = start(speed=speed, state_dir=seedance_home() / "emulator")
    except ImportError:
        raise SeedanceError(messages.EMULATOR_MISSING, code="emulator_missing") from None
    client = Client(api_key=emulator.api_key, base_url=emulator.url)
    return Backend(client, EMBEDDED_KEY, "emulator", True, emulator)
