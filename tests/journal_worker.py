"""A "kernel" whose ledger is locked when its paid create is answered, then closes.

Run as ``python -m tests.journal_worker URL LEDGER``; prints the submission's notice,
then ``closed`` once :meth:`JobService.close` returned, and exits.
"""

from __future__ import annotations

import sys
from pathlib import Path

from seedance_jupyter.jobs.backend import Backend
from seedance_jupyter.jobs.client import Client
from seedance_jupyter.jobs.ledger import Ledger
from seedance_jupyter.jobs.ledger import database as ledger_database
from seedance_jupyter.jobs.service import JobService

from .helpers import Settings


def main() -> None:
    url, path = sys.argv[1], Path(sys.argv[2])
    ledger_database._BUSY_TIMEOUT_S = 1.0  # the first write gives up sooner; retries are ours
    service = JobService(
        Settings(),  # type: ignore[arg-type]
        backend=Backend(Client(api_key="sd2_test", base_url=url), url, "scripted", False),
        ledger=Ledger(path), folder=path.parent,
    )
    submission = service.submit(service.prepare("a kite"))
    print(submission.notice, flush=True)
    service.close()
    print("closed", flush=True)


if __name__ == "__main__":
    main()
