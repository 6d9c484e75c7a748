"""The orphan watcher: jobs that finish with no kernel.

A kernel polls its jobs under a lease in the ledger, renewed before each status
request. When a kernel dies its leases run out; every couple of seconds the
watcher hands the unfinished jobs of this server's backend that nobody leases
to the server's own :class:`~seedance_jupyter.jobs.service.JobService`, whose
poller takes the lease, polls within its request budget, and downloads the
video into the folder the job's kernel ran in. A kernel that comes back finds
the lease taken and leaves the job alone; the ledger row tells it the outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from .service import ServerJobs

__all__ = ["OrphanWatcher"]

_log = logging.getLogger("seedance_jupyter")


class OrphanWatcher:
    """Looks for unleased unfinished jobs every ``interval`` seconds."""

    def __init__(self, jobs: ServerJobs, *, interval: float = 2.0) -> None:
        self.jobs = jobs
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                await loop.run_in_executor(None, self.jobs.adopt_orphans)
            except Exception:  # a locked ledger or a dead service: try again later
                _log.exception("looking for orphaned jobs failed")
            await asyncio.sleep(self.interval)
