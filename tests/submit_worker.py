"""One "kernel" that submits one job and waits: the test kills it mid-create.

Run as ``python -m tests.submit_worker URL LEDGER PROMPT``; the scripted server
the URL names holds the create POST open, so the process dies with it on the wire.
"""

from __future__ import annotations

import sys
from pathlib import Path

from seedance_jupyter.jobs.backend import Backend
from seedance_jupyter.jobs.client import Client
from seedance_jupyter.jobs.ledger import Ledger
from seedance_jupyter.jobs.service import JobService
from seedance_jupyter.retry import Backoff

from .helpers import Settings


def main() -> None:
    url, ledger, prompt = sys.argv[1:4]
    client = Client(api_key="sd2_test", base_url=url, backoff=Backoff(base=0.01))
    service = JobService(
        Settings(),  # type: ignore[arg-type]
        backend=Backend(client, url, "scripted", False), ledger=Ledger(Path(ledger)),
    )
    try:
        print(service.submit(service.prepare(prompt)).job.request_id, flush=True)
    finally:
        service.close()


if __name__ == "__main__":
    main()
