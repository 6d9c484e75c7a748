"""Leases: of all the kernels and the server, exactly one process polls and downloads a job.

A lease is a row's owner and expiry in the shared ledger; it is taken before each
status request and before a download, renewed while the job runs and given up
once the video is saved (or the process closes). An owner's name says which
host and process hold it, so a lease whose process died (a killed kernel) is
taken over at once instead of when it runs out.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket

from .handle import Job
from .ledger import LEDGER_ERRORS, Ledger, state_of
from .settings import ServiceSettings

__all__ = ["LEASE_MIN_SECONDS", "Leases", "holder_gone", "owner_name"]

#: Shortest lease on a job's polling; a lease also outlasts two of the longest poll pauses.
LEASE_MIN_SECONDS = 20.0


def owner_name() -> str:
    """``host/pid/nonce``: unique per process and service, and checkable on its host."""
    return f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(4)}"


def holder_gone(owner: str) -> bool:
    """Whether the process holding a lease has exited: only decidable on its own host
    (a ledger on a shared drive may hold other machines' leases, which run out)."""
    host, _, rest = owner.partition("/")
    pid, _, _nonce = rest.partition("/")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, under another user
        return False
    return False


class Leases:
    """This process's leases on the jobs of one backend, under one owner name."""

    def __init__(self, ledger: Ledger, backend: str, settings: ServiceSettings) -> None:
        self.ledger = ledger
        self.backend = backend
        self.settings = settings
        #: This process's name on its leases (unique per process and service).
        self.owner = owner_name()
        self.closed = False

    def seconds(self) -> float:
        """How long a lease lasts: past two of the longest pauses between status checks."""
        return max(LEASE_MIN_SECONDS, 2 * self.settings.max_poll_interval + 5.0)

    def take(self, job: Job) -> bool:
        """Take or renew the job's lease; False while another live process holds it."""
        if self.ledger.try_lease(job.request_id, self.owner, self.seconds(), backend=self.backend):
            return True
        record = self.ledger.get(job.request_id, backend=self.backend)
        holder = record.lease_owner if record is not None else None
        return holder is not None and holder_gone(holder) and self.ledger.try_lease(
            job.request_id, self.owner, self.seconds(), backend=self.backend, replacing=holder
        )

    def claim(self, job: Job) -> None:
        """Take a new job's lease before a watcher sees it unpolled; a locked ledger
        only defers that to the first status check."""
        with contextlib.suppress(*LEDGER_ERRORS):
            self.take(job)

    def before_poll(self, job: Job) -> bool:
        """Poller hook: take or renew the job's lease before a status request.

        A job leased by another process is not polled here; a job whose row is
        already final (a webhook, the server, another kernel) takes the row's state.
        """
        leased = self.take(job)
        record = self.ledger.get(job.request_id, backend=self.backend)
        if record is not None and record.is_terminal:
            job.update(state_of(record))
            return False
        return leased

    def release(self, job: Job) -> None:
        """Give up the job's lease (nothing once closed: closing gave up all of them)."""
        if not self.closed:
            self.ledger.release(job.request_id, self.owner, backend=self.backend)

    def close(self) -> None:
        """Give up every lease, so the server finishes the jobs at once; a locked ledger
        keeps them until this process is gone (a dead holder's leases are taken over)."""
        self.closed = True
        with contextlib.suppress(*LEDGER_ERRORS):
            self.ledger.release(None, self.owner)
