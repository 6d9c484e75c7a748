"""One racing "kernel" for the money property test: M threads submit at one instant.

Run as ``python -m tests.race_worker SPEC_JSON``; prints one JSON list of outcomes.
"""

from __future__ import annotations

import json
import sys
import threading
import time

from seedance_jupyter.errors import BudgetExceededError, SeedanceError
from seedance_jupyter.jobs.backend import Backend
from seedance_jupyter.jobs.client import Client
from seedance_jupyter.jobs.ledger import Ledger
from seedance_jupyter.jobs.service import JobService
from seedance_jupyter.retry import Backoff

from .helpers import Settings


def main() -> None:
    spec = json.loads(sys.argv[1])
    client = Client(api_key="sd2_test", base_url=spec["url"], backoff=Backoff(base=0.01))
    service = JobService(
        Settings(daily_budget_usd=spec["daily_budget_usd"]),  # type: ignore[arg-type]
        backend=Backend(client, spec["url"], "scripted", False),
        ledger=Ledger(spec["ledger"]),
    )
    requests = [service.prepare(prompt) for prompt in spec["prompts"]]
    outcomes: list[str] = [""] * len(requests)

    def submit(index: int) -> None:
        time.sleep(max(0.0, spec["start_at"] - time.time()))
        try:
            outcomes[index] = service.submit(requests[index]).job.request_id
        except BudgetExceededError:
            outcomes[index] = "refused"
        except SeedanceError as exc:
            outcomes[index] = f"error: {exc.message}"

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    service.close()
    print(json.dumps(outcomes))


if __name__ == "__main__":
    main()
