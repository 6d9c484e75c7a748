"""Jobs that finish with no kernel, and the lease that keeps one poller per job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from seedance_jupyter.emulator import Emulator
from seedance_jupyter.jobs.backend import resolve_backend
from seedance_jupyter.jobs.ledger import Ledger
from seedance_jupyter.jobs.service import JobService

from ..helpers import Settings
from ..kernel_harness import Kernel
from .conftest import until


@pytest.fixture
def seedance_config() -> dict[str, Any]:
    return {"watch_orphans": True, "orphan_interval": 0.5, "events_interval": 0.2}


def kernel_settings(**overrides: Any) -> Settings:
    """A kernel's settings (``SeedanceSettings`` defaults), without IPython."""
    values: dict[str, Any] = {
        "default_resolution": "480p", "download": True, "download_dir": "seedance_outputs",
        "first_poll_delay": 1.0, "max_poll_interval": 15.0,
    }
    return Settings(**{**values, **overrides})


def status_requests(emulator: Emulator, request_id: str) -> int:
    return sum(1 for r in emulator.requests
               if r.method == "GET" and r.path.endswith(f"/video/generations/{request_id}"))


@pytest.mark.kernel
async def test_the_watcher_finishes_and_downloads_a_job_whose_kernel_was_killed(
    jp_fetch: Any, ledger: Ledger, notebook_dir: Path, seedance_home: Path
) -> None:
    kernel = Kernel(notebook_dir, {})
    try:
        kernel.execute("%load_ext seedance_jupyter")
        reply = kernel.execute("%%seedance -d 5 -r 480p\na lighthouse at dusk").reply
        assert reply["status"] == "ok", reply

        def leased() -> bool:  # the kernel's poller has checked the job once
            return any(row.lease_owner is not None for row in ledger.jobs())

        assert await until(leased)
        (record,) = ledger.jobs()
    finally:
        kernel.shutdown()  # shutdown_kernel(now=True): no chance to release its lease

    def finished() -> bool:
        row = ledger.by_token(record.client_token)
        return row is not None and row.status == "succeeded" and row.local_path is not None

    assert await until(finished, 90)
    row = ledger.by_token(record.client_token)
    assert row is not None and row.local_path is not None
    video = notebook_dir / row.local_path
    assert video.parent == notebook_dir / "seedance_outputs"
    assert video.stat().st_size > 0
    assert row.lease_owner is None  # released once downloaded


async def test_a_kernel_poller_and_the_watcher_send_no_more_status_requests_than_one_poller(
    jp_fetch: Any, ledger: Ledger, notebook_dir: Path, emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    monkeypatch.chdir(notebook_dir)
    shared = JobService(kernel_settings(), backend=resolve_backend(), ledger=Ledger(ledger.path))
    alone = JobService(kernel_settings(download=False), backend=resolve_backend(),
                       ledger=Ledger(tmp_path / "alone.sqlite3"), lease=False)
    try:
        watched = shared.submit(shared.prepare("a lighthouse at dusk")).job
        single = alone.submit(alone.prepare("a lighthouse at dusk")).job
        assert await until(lambda: watched.done and single.done, 60)

        def downloaded() -> bool:
            row = ledger.get(watched.request_id)
            return row is not None and row.local_path is not None

        assert await until(downloaded, 30)
        together = status_requests(emulator, watched.request_id)
        one_poller = status_requests(emulator, single.request_id)
        assert together <= one_poller + 1, (together, one_poller)  # +1: schedule jitter
        videos = list((notebook_dir / "seedance_outputs").iterdir())
        assert [v.name for v in videos] == [f"{watched.request_id}.mp4"]
    finally:
        shared.close()
        alone.close()
