"""One emulator per state directory, shared by every process that asks for it.

The Jupyter server extension and several kernels must talk to the same emulated
service (the same jobs, balance and output URLs). :func:`ensure_running` finds
the emulator recorded in ``<state_dir>/emulator.json`` if it is alive and
answering, or starts one as a detached process (its own session, so it outlives
the kernel that started it). An exclusive ``flock`` on ``<state_dir>/emulator.lock``
makes racing callers start exactly one. The emulator keeps its jobs in
``state_dir``, so a killed one is simply started again and carries on.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .app import DEFAULT_API_KEY
from .webhooks import DIRECT_OPENER

__all__ = [
    "LOCK_FILE", "LOG_FILE", "PORT_FILE", "SharedEmulator", "ensure_running", "exclusive",
]

PORT_FILE = "emulator.json"
LOCK_FILE = "emulator.lock"
LOG_FILE = "emulator.log"
_PROBE_TIMEOUT = 2.0
_POLL = 0.05


@dataclass(frozen=True)
class SharedEmulator:
    """A running emulator process: where it serves, the key it accepts, its process id."""

    url: str
    api_key: str
    pid: int


def ensure_running(
    state_dir: Path, *, speed: float = 1.0, idle_exit: float = 0.0, timeout: float = 15.0
) -> SharedEmulator:
    """The emulator serving ``state_dir``, started (at ``speed``) if none answers.

    A new one exits by itself once idle for ``idle_exit`` seconds (0: never), so no
    process is left behind; it comes back on the next call, on its saved port.
    A running emulator is reused whatever it was started with. Raises
    RuntimeError if a new one exits or is not serving within ``timeout`` seconds
    (its output is in ``<state_dir>/emulator.log``).
    """
    state_dir = Path(state_dir)
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with exclusive(state_dir / LOCK_FILE):
        running = _answering(state_dir / PORT_FILE)
        if running is not None:
            return running
        return _launch(state_dir, speed, idle_exit, timeout)


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (blocking); released when the file closes."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _answering(port_file: Path) -> SharedEmulator | None:
    """The emulator named by ``port_file`` if its process lives and it answers ``/models``."""
    try:
        recorded = json.loads(port_file.read_text(encoding="utf-8"))
        pid, url = int(recorded["pid"]), str(recorded["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _alive(pid):
        return None
    try:
        with DIRECT_OPENER.open(f"{url}/api/open/v1/models", timeout=_PROBE_TIMEOUT) as answer:
            if answer.status != 200:
                return None
    except (OSError, ValueError):
        return None
    return SharedEmulator(url, DEFAULT_API_KEY, pid)


def _alive(pid: int) -> bool:
    """True while process ``pid`` runs; an exited child of this process is reaped, not alive."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _launch(state_dir: Path, speed: float, idle_exit: float, timeout: float) -> SharedEmulator:
    port_file = state_dir / PORT_FILE
    port_file.unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "seedance_jupyter.emulator", "--port", "0",
        "--state-dir", str(state_dir), "--speed", repr(speed), "--port-file", str(port_file),
        "--idle-exit", repr(idle_exit),
    ]
    log_fd = os.open(state_dir / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log_fd, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True,
        )
    finally:
        os.close(log_fd)
    # Reaped when it exits (idle), so no zombie stays behind in a long-lived kernel.
    threading.Thread(target=process.wait, name="seedance-emulator-reaper", daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"The emulator exited with status {process.returncode}; "
                f"see {state_dir / LOG_FILE}."
            )
        running = _answering(port_file)
        if running is not None and running.pid == process.pid:
            return running
        time.sleep(_POLL)
    process.terminate()
    process.wait(timeout=5)
    raise RuntimeError(
        f"The emulator did not start within {timeout:g} s; see {state_dir / LOG_FILE}."
    )
