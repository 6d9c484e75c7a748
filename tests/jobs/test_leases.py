"""Leases at their own level: who holds a job, and taking over from a process that died."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from seedance_jupyter.api.types import JobState
from seedance_jupyter.catalog import GenerationRequest
from seedance_jupyter.jobs.handle import Job
from seedance_jupyter.jobs.leases import Leases, holder_gone
from seedance_jupyter.jobs.ledger import Ledger

from ..helpers import Settings

HOST = socket.gethostname()


def exited_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def now() -> list[float]:
    """The ledger's clock, settable: ``now[0]``."""
    return [1_700_000_000.0]


@pytest.fixture
def ledger(ledger_url: str, now: list[float]) -> Iterator[Ledger]:
    """One accepted job, in a ledger on each database (SQLite, then PostgreSQL)."""
    with Ledger(ledger_url, clock=lambda: now[0]) as opened:
        request = GenerationRequest.of("a kite", model="seedance-2.0", duration=5,
                                       resolution="480p", aspect_ratio="16:9")
        opened.claim(client_token="tok", backend="live", request=request, fingerprint="f",
                     estimated_usd=0.5)
        opened.record_submitted("tok", request_id="req_1", status="queued", credits_charged=8)
        yield opened


def job() -> Job:
    return Job(None, JobState("req_1", "queued"))  # type: ignore[arg-type]


def test_a_holder_whose_process_exited_on_this_host_is_gone() -> None:
    assert holder_gone(f"{HOST}/{exited_pid()}/abcd")


def test_a_holder_whose_process_runs_is_not_gone() -> None:
    assert not holder_gone(f"{HOST}/{os.getpid()}/abcd")


@pytest.mark.parametrize("owner", [f"another-{HOST}/1/abcd", "1234-abcd", f"{HOST}/x/abcd"])
def test_a_holder_that_cannot_be_checked_here_is_never_called_gone(owner: str) -> None:
    assert not holder_gone(owner)


def test_a_dead_kernels_lease_is_taken_over_before_it_runs_out(ledger: Ledger) -> None:
    assert ledger.try_lease("req_1", f"{HOST}/{exited_pid()}/dead", 300, backend="live")
    server = Leases(ledger, "live", Settings())
    assert server.take(job())
    record = ledger.get("req_1")
    assert record is not None and record.lease_owner == server.owner


def test_a_live_processs_lease_is_left_to_it(ledger: Ledger) -> None:
    kernel, server = Leases(ledger, "live", Settings()), Leases(ledger, "live", Settings())
    assert kernel.take(job())
    assert not server.take(job())


def test_a_lease_held_on_another_host_is_taken_only_once_it_runs_out(
    ledger: Ledger, now: list[float]
) -> None:
    elsewhere = f"another-{HOST}/{exited_pid()}/abcd"  # that pid means nothing here
    assert ledger.try_lease("req_1", elsewhere, 60, backend="live")
    server = Leases(ledger, "live", Settings())
    assert not server.take(job())
    now[0] += 61
    assert server.take(job())
    record = ledger.get("req_1")
    assert record is not None and record.lease_owner == server.owner
