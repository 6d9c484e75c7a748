"""The ledger's hot queries as history grows: 10k, 100k and 1M rows, SQLite and PostgreSQL.

For each database and size, a fresh ledger is filled with ``size`` rows of history
(one job every 5 minutes going back in time, 288 a day, so a day holds the same number of rows at
every size: what grows is the past, as in a team's ledger), 50 users, 2 backends,
20 jobs still unfinished, then ``ANALYZE`` (SQLite) or ``VACUUM ANALYZE``
(PostgreSQL): the state autovacuum reaches by itself after a bulk load, instead of
autovacuum running during the timings. Then each operation the kernel, the
server's watcher, REST and the panel run is timed (median of ``--repeat`` runs):

claim (the reuse + budgets + pending-row transaction), unfinished, unleased
(the watcher's leases query), try_lease, runtime_window, spend (this user, last 30
days), page (the panel's first page), changed_since (the events stream), get.

Two measures per operation, each as the ratio to the smallest size of the same
database (flat means about 1 at every size):

* **work**, which does not depend on the machine's load: on PostgreSQL the buffers
  (8 kB pages) its statements touch, summed from ``EXPLAIN (ANALYZE, BUFFERS)`` of each
  statement the operation sent (captured as sent, re-run in a rolled-back
  transaction); on SQLite the virtual-machine instructions it ran (a progress
  handler counting every 10);
* **time**, the median wall-clock milliseconds, which on a loaded 2-core machine is
  mostly scheduling noise (the load average is printed).

PostgreSQL is a throwaway cluster started here (Debian's postgresql package; as root
it runs as the ``postgres`` user).

Run from the repository root: ``.venv/bin/python benchmarks/ledger_scale.py
[--sizes 10000,100000,1000000] [--repeat 30]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, event, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seedance_jupyter.catalog import GenerationRequest
from seedance_jupyter.jobs.ledger import Ledger
from seedance_jupyter.jobs.ledger.records import COLUMNS
from tests.postgres import PostgresServer, find_bin

NOW = time.time()
STEP_S = 300.0
USERS = 50
UNFINISHED = 20
_NAMES = [n.strip() for n in COLUMNS.split(",")]


def _row(i: int) -> dict[str, object]:
    created = NOW - i * STEP_S
    status = "processing" if i < UNFINISHED else ("succeeded" if i % 10 else "failed")
    return {
        "client_token": f"tok-{i}", "request_id": f"req_{i}", "backend": f"b{i % 2}",
        "status": status, "model": "seedance-2.0", "prompt": f"prompt {i}",
        "duration": 4 + i % 3, "aspect_ratio": "16:9", "resolution": "720p",
        "media_urls": "[]", "webhook_url": None, "metadata": None, "fingerprint": f"fp{i}",
        "estimated_usd": 0.5, "credits_charged": 40, "output_url": None, "local_path": None,
        "error_code": None, "error_message": None, "notebook": f"/nb/{i % 100}.ipynb",
        "created_at": created, "submitted_at": created + 1,
        "updated_at": created + 60, "finished_at": None if status == "processing" else created + 60,
        "last_running_at": created + 50, "lease_owner": None, "lease_until": None,
        "user_name": f"user{i % USERS}",
    }


def fill(ledger: Ledger, size: int) -> None:
    insert = text(f"INSERT INTO jobs ({COLUMNS}) VALUES "  # noqa: S608
                  f"({', '.join(':' + n for n in _NAMES)})")
    with ledger.database.write() as conn:
        for start in range(0, size, 10_000):
            conn.execute(insert, [_row(i) for i in range(start, min(size, start + 10_000))])
    if ledger.is_sqlite:
        with ledger.database.write() as conn:
            conn.exec_driver_sql("ANALYZE")
        return
    # VACUUM ANALYZE: what autovacuum does after a bulk load (and, left to it, it would
    # run during the timings on a 2-core machine).
    assert ledger.database.engine is not None
    with ledger.database.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            "VACUUM ANALYZE jobs")


def operations(ledger: Ledger) -> dict[str, Callable[[], object]]:
    counter = iter(range(10**9))
    request = GenerationRequest(prompt="bench", duration=5, resolution="720p")

    def claim() -> object:
        n = next(counter)
        return ledger.claim(client_token=f"new-{n}", backend="b0", request=request,
                            fingerprint=f"new-fp-{n}", estimated_usd=0.5,
                            check_budget=lambda spent: None, day_start=NOW - 86_400,
                            month_start=NOW - 30 * 86_400)

    return {
        "claim": claim,
        "unfinished": lambda: ledger.unfinished("b0"),
        "unleased": lambda: ledger.unleased_unfinished("b0"),
        "try_lease": lambda: ledger.try_lease("req_2", "bench/1/x", 30, backend="b0"),
        "runtime_window": lambda: ledger.runtime_window(
            backend="b0", model="seedance-2.0", resolution="720p", duration=6, media=False),
        "spend": lambda: ledger.spend(since=NOW - 30 * 86_400, backend="b0", user="user0"),
        "page": lambda: ledger.page(limit=50),
        "changed_since": lambda: ledger.changed_since(NOW - 600),
        "get": lambda: ledger.get(f"req_{next(counter) % 5000}", backend="b0"),
    }


class Work:
    """Counts what the database does for one operation (see the module's docstring)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.engine = ledger.database.engine
        assert self.engine is not None
        self.steps = 0
        self.sent: list[tuple[str, object]] = []
        event.listen(self.engine, "before_cursor_execute", self._sent)
        if ledger.is_sqlite:
            event.listen(self.engine, "checkout", self._count_steps)

    def _sent(self, _conn: Connection, _cursor: object, statement: str, params: object,
              _context: object, _many: bool) -> None:
        self.sent.append((statement, params))

    def _count_steps(self, dbapi: object, _record: object, _proxy: object) -> None:
        def step() -> int:
            self.steps += 10
            return 0

        dbapi.set_progress_handler(step, 10)  # type: ignore[attr-defined]

    def of(self, op: Callable[[], object]) -> int:
        self.steps, self.sent = 0, []
        op()
        if self.ledger.is_sqlite:
            return self.steps
        sent, blocks = list(self.sent), 0
        assert self.engine is not None
        for statement, params in sent:
            if not statement.lstrip().upper().startswith(("SELECT", "UPDATE", "INSERT")) or (
                    "pg_advisory" in statement):
                continue
            if isinstance(params, dict) and "client_token" in params:  # a fresh key
                params = {**params, "client_token": f"{params['client_token']}-explained"}
            with self.engine.connect() as conn:
                plan = conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, params  # type: ignore[arg-type]
                ).scalar_one()
                conn.rollback()
            top = plan[0]
            blocks += sum(int(top["Plan"].get(k, 0)) for k in (
                "Shared Hit Blocks", "Shared Read Blocks"))
            blocks += int(top.get("Planning", {}).get("Shared Hit Blocks", 0))
        return blocks


def measure(url: str, size: int, repeat: int) -> dict[str, dict[str, float]]:
    with Ledger(url, user="user0") as ledger:
        started = time.perf_counter()
        fill(ledger, size)
        results: dict[str, dict[str, float]] = {
            "fill": {"ms": (time.perf_counter() - started) * 1000, "work": 0}}
        work = Work(ledger)
        for name, op in operations(ledger).items():
            op()  # warm the cache and the plan
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                op()
                times.append((time.perf_counter() - t0) * 1000)
            results[name] = {"ms": statistics.median(times), "work": work.of(op)}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--databases", default="sqlite,postgres")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"load average {os.getloadavg()}, nproc {os.cpu_count()}", flush=True)
    server = None
    results: dict[str, dict[int, dict[str, dict[str, float]]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
      try:
        for db in args.databases.split(","):
            results[db] = {}
            for size in sizes:
                if db == "sqlite":
                    url = f"sqlite:///{tmp}/ledger-{size}.sqlite3"
                else:
                    bin_dir = find_bin()
                    if bin_dir is None:
                        sys.exit("PostgreSQL is not installed (apt-get install postgresql)")
                    server = server or PostgresServer(bin_dir)
                    url = server.new_database()
                results[db][size] = measure(url, size, args.repeat)
                print(db, size, json.dumps(results[db][size]), flush=True)
      finally:
        if server is not None:
            server.close()
    report(results, sizes)


def report(results: dict[str, dict[int, dict[str, dict[str, float]]]], sizes: list[int]) -> None:
    unit = {"sqlite": "VM instructions", "postgres": "buffers"}
    for db, by_size in results.items():
        base = by_size[sizes[0]]
        print(f"\n{db}: work in {unit.get(db, 'units')}, and median ms; ratios to "
              f"{sizes[0]:,} rows")
        print("| operation | " + " | ".join(f"{s:,} rows" for s in sizes) + " |")
        print("|---|" + "---|" * len(sizes))
        for name in base:
            if name == "fill":
                continue
            cells = []
            for s in sizes:
                now, then = by_size[s][name], base[name]
                ratio = now["work"] / then["work"] if then["work"] else float("nan")
                cells.append(f"{now['work']:.0f} ({ratio:.2f}x); {now['ms']:.2f} ms "
                             f"({now['ms'] / then['ms']:.2f}x)")
            print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
