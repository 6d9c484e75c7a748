"""Which service the kernel talks to: the real one, an external emulator, or an embedded one.

With neither ``SEEDANCE_BASE_URL`` nor ``SEEDANCE_API_KEY`` set, the emulator
of ``SEEDANCE_HOME`` is used, started as a detached process on first use: every
kernel and the Jupyter server share it, and it keeps its jobs under
``SEEDANCE_HOME`` so a restarted kernel can still resume them. It exits by itself
once it has had no request and no running job for ``SEEDANCE_EMULATOR_IDLE_EXIT``
seconds (:data:`IDLE_EXIT_DEFAULT`; 0: never), so nothing is left running after the
last kernel and server are gone; :meth:`Backend.ready` starts it again when needed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .. import messages
from ..errors import SeedanceError
from ..paths import seedance_home

if TYPE_CHECKING:
    from .client import Client

__all__ = [
    "EMBEDDED_KEY", "IDLE_EXIT_DEFAULT", "Backend", "backend_key_from_env", "resolve_backend",
]

EMBEDDED_KEY = "emulator:embedded"
#: Seconds the embedded emulator stays up with no request and no running job.
IDLE_EXIT_DEFAULT = 300.0


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
    #: Finds or starts the embedded emulator again and gives its URL; None otherwise.
    restart: Callable[[], str] | None = None

    def ready(self) -> None:
        """Before a request after a pause: an idle embedded emulator may have exited."""
        if self.restart is not None:
            self.client.transport.base_url = self.restart()

    def close(self) -> None:
        """Release the client's connections (a shared emulator keeps running)."""
        self.client.close()


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
        from ..emulator.shared import ensure_running
    except ImportError:
        raise SeedanceError(messages.EMULATOR_MISSING, code="emulator_missing") from None
    speed = float(os.environ.get("SEEDANCE_EMULATOR_SPEED", "1.0"))
    idle_exit = float(os.environ.get("SEEDANCE_EMULATOR_IDLE_EXIT", IDLE_EXIT_DEFAULT))
    state_dir = seedance_home() / "emulator"

    def restart() -> str:
        # One emulator process per SEEDANCE_HOME, shared by every kernel and the server;
        # it outlives this process (until idle), so the backend does not stop it.
        return ensure_running(state_dir, speed=speed, idle_exit=idle_exit).url

    emulator = ensure_running(state_dir, speed=speed, idle_exit=idle_exit)
    client = Client(api_key=emulator.api_key, base_url=emulator.url)
    return Backend(client, EMBEDDED_KEY, "emulator", True, restart)
