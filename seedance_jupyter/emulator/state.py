"""The emulator's state: jobs and accounts, kept thread-safe and (optionally) on disk.

A job's status is computed from the wall clock on every read (queued, then
processing, then terminal), except that it only succeeds once its mp4 exists.
Keys are held only as SHA-256 hashes, also in the state file, so the file never
contains a key; credits are charged at creation and never refunded (the
contract says nothing of refunds), not even for cancelled or failed jobs. The
state file is created readable by its owner only (0600), like the ledger.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
from collections import deque
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..status import CANCELLABLE, SERVICE_TERMINAL

__all__ = ["Account", "EmulatedJob", "JobStore", "key_hash", "write_private"]

_STATE_VERSION = 1
_WINDOW = 60.0


def key_hash(key: str) -> str:
    """How a key is stored: never the key itself."""
    return hashlib.sha256(key.encode()).hexdigest()


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file readable by its owner only (0600), whatever the umask."""
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


@dataclass
class EmulatedJob:
    """One job as the emulated service keeps it, with its schedule fixed when it was created."""

    request_id: str
    key_hash: str
    model: str
    prompt: str
    duration: int
    aspect_ratio: str
    resolution: str
    media_urls: list[str]
    webhook_url: str | None
    metadata: dict[str, Any] | None
    credits: int
    created_at: float
    queued_seconds: float
    processing_seconds: float
    error: dict[str, str] | None = None
    cancelled_at: float | None = None
    rendered: bool = False
    notified: bool = False

    @property
    def processing_at(self) -> float:
        return self.created_at + self.queued_seconds

    @property
    def due_at(self) -> float:
        return self.processing_at + self.processing_seconds

    def status(self, now: float) -> str:
        """The status at wall-clock time ``now``."""
        if self.cancelled_at is not None:
            return "cancelled"
        if now < self.processing_at:
            return "queued"
        if now < self.due_at:
            return "processing"
        if self.error is not None:
            return "failed"
        return "succeeded" if self.rendered else "processing"


@dataclass
class Account:
    """One API key's balance, webhook settings and recent request times."""

    credits: int
    webhook_url: str | None = None
    webhook_secret: str | None = None
    calls: deque[float] = field(default_factory=deque)

    def admit(self, now: float, per_minute: int) -> float | None:
        """Count a request; ``None`` if within the limit, else seconds until one is allowed.

        A refused request is not counted, so a client that waits as told gets through.
        """
        while self.calls and self.calls[0] <= now - _WINDOW:
            self.calls.popleft()
        if len(self.calls) >= per_minute:
            return self.calls[0] + _WINDOW - now
        self.calls.append(now)
        return None


class JobStore:
    """Jobs, accounts and the output-signing key, behind one lock.

    With a ``state_file`` every change is written there atomically, and a new
    store on the same file picks up where the last one stopped.
    """

    def __init__(self, state_file: Path | None) -> None:
        self.lock = threading.RLock()
        self._state_file = state_file
        self._jobs: dict[str, EmulatedJob] = {}
        self._accounts: dict[str, Account] = {}
        self._saved_balances: dict[str, int] = {}
        self.signing_key = secrets.token_bytes(32)
        self.saved_port: int | None = None
        if state_file is not None and state_file.exists():
            self._load(state_file)

    def add_account(
        self, key: str, credits: int, webhook_url: str | None, webhook_secret: str | None
    ) -> None:
        """Accept ``key``; a balance saved in the state file wins over ``credits``."""
        digest = key_hash(key)
        with self.lock:
            if digest in self._accounts:
                raise ValueError("this key was already added")
            balance = self._saved_balances.get(digest, credits)
            self._accounts[digest] = Account(balance, webhook_url, webhook_secret)
            self.save()

    def account(self, key: str | None) -> Account | None:
        return None if key is None else self._accounts.get(key_hash(key))

    def admit(self, account: Account, now: float, per_minute: int) -> float | None:
        """Count one request of ``account`` (see :meth:`Account.admit`)."""
        with self.lock:
            return account.admit(now, per_minute)

    def account_of(self, job: EmulatedJob) -> Account | None:
        return self._accounts.get(job.key_hash)

    def charge_and_add(self, account: Account, job: EmulatedJob) -> bool:
        """Charge ``job.credits`` and store the job; False (nothing done) if it can't pay."""
        with self.lock:
            if account.credits < job.credits:
                return False
            account.credits -= job.credits
            self._jobs[job.request_id] = job
            self.save()
        return True

    def get(self, request_id: str) -> EmulatedJob | None:
        """A copy of the job, safe to read outside the lock."""
        with self.lock:
            job = self._jobs.get(request_id)
            return None if job is None else replace(job)

    def all(self) -> list[EmulatedJob]:
        with self.lock:
            return [replace(job) for job in self._jobs.values()]

    def any_running(self, now: float) -> bool:
        """True while some job is queued, processing or rendering (no copies made)."""
        with self.lock:
            return any(job.status(now) not in SERVICE_TERMINAL for job in self._jobs.values())

    def update(self, request_id: str, **changes: Any) -> None:
        """Set fields of a stored job and save."""
        with self.lock:
            job = self._jobs[request_id]
            for name, value in changes.items():
                setattr(job, name, value)
            self.save()

    def cancel(self, request_id: str, now: float) -> str:
        """Cancel if queued or processing; returns the status the job had before."""
        with self.lock:
            job = self._jobs[request_id]
            status = job.status(now)
            if status in CANCELLABLE:
                job.cancelled_at = now
                self.save()
            return status

    def newly_terminal(self, now: float) -> list[EmulatedJob]:
        """Jobs that reached a terminal status since the last call (each returned once)."""
        with self.lock:
            done = [
                job for job in self._jobs.values()
                if not job.notified and job.status(now) in SERVICE_TERMINAL
            ]
            for job in done:
                job.notified = True
            if done:
                self.save()
            return [replace(job) for job in done]

    def in_flight(self, digest: str, now: float) -> int:
        """How many jobs of the key with hash ``digest`` are queued or processing."""
        with self.lock:
            return sum(
                1 for job in self._jobs.values()
                if job.key_hash == digest and job.status(now) in CANCELLABLE
            )

    def rotate_signing_key(self) -> None:
        with self.lock:
            self.signing_key = secrets.token_bytes(32)
            self.save()

    def save(self, port: int | None = None) -> None:
        """Write the state file (if any) atomically: a temp file, then a rename."""
        if self._state_file is None:
            return
        with self.lock:
            if port is not None:
                self.saved_port = port
            balances = {**self._saved_balances}
            balances.update({digest: acc.credits for digest, acc in self._accounts.items()})
            state = {
                "version": _STATE_VERSION,
                "port": self.saved_port,
                "signingKey": self.signing_key.hex(),
                "balances": balances,
                "jobs": [asdict(job) for job in self._jobs.values()],
            }
            temp = self._state_file.with_suffix(".tmp")
            write_private(temp, json.dumps(state).encode())
            os.replace(temp, self._state_file)

    def _load(self, state_file: Path) -> None:
        state = json.loads(state_file.read_text(encoding="utf-8"))
        if state.get("version") != _STATE_VERSION:
            raise ValueError(f"{state_file}: not an emulator state file of version 1")
        self.saved_port = state.get("port")
        self.signing_key = bytes.fromhex(state["signingKey"])
        self._saved_balances = {str(k): int(v) for k, v in state["balances"].items()}
        self._jobs = {entry["request_id"]: EmulatedJob(**entry) for entry in state["jobs"]}
