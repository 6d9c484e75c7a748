"""The parts of one emulated service that its endpoints and its workers share.

One object instead of a dozen arguments: the job store, the fault plan, the
runtime draws, where the videos live, how output URLs are signed, and the
queue of videos to render.
"""

from __future__ import annotations

import math
import queue
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import outputs
from .bodies import status_body
from .faults import FaultPlan
from .runtimes import Runtimes
from .state import EmulatedJob, JobStore

__all__ = ["Service", "ServiceSettings"]


@dataclass(frozen=True)
class ServiceSettings:
    """``rate_limit_per_minute`` per key; ``output_url_ttl`` seconds; ``echo_metadata``
    sends stored metadata back in status answers and webhooks (off: as documented)."""

    rate_limit_per_minute: int = 1200
    output_url_ttl: float = 3600.0
    echo_metadata: bool = False


class Service:
    """Shared by endpoints and workers; ``url`` is set once the server is bound."""

    def __init__(
        self, store: JobStore, plan: FaultPlan, runtimes: Runtimes, output_dir: Path,
        settings: ServiceSettings,
    ) -> None:
        self.store = store
        self.plan = plan
        self.runtimes = runtimes
        self.output_dir = output_dir
        self.settings = settings
        self.url = ""
        self.render_queue: queue.Queue[str | None] = queue.Queue()

    def output_path(self, request_id: str) -> Path:
        return self.output_dir / f"{request_id}.mp4"

    def reference_path(self, request_id: str) -> Path:
        """The picture a job animates, as read from its references at create."""
        return self.output_dir / f"{request_id}.reference"

    def status_answer(self, job: EmulatedJob, now: float) -> dict[str, Any]:
        """The status answer at ``now``, with a freshly signed output URL."""
        status = job.status(now)
        url = None
        if status == "succeeded":
            expires = math.ceil(now + self.settings.output_url_ttl)
            url = self.url + outputs.signed_path(self.store.signing_key, job.request_id, expires)
        return status_body(job, status, url, echo_metadata=self.settings.echo_metadata)
