"""``seedance-ledger copy --from sqlite:///... --to postgresql://...``: move a history.

A person's SQLite ledger joins the team's database without losing a paid job:
the source's journal is merged first (opening it does that), every row is copied
with its client token, and a row the target already holds is only moved forward
(a later status, a request id it lacked), never back. Running it again copies
nothing new: it is idempotent.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sqlalchemy import text

from ... import messages
from ...errors import SeedanceError
from . import Ledger
from .records import COLUMNS
from .schema import rank_sql

__all__ = ["copy_ledger", "main"]

_BATCH = 1000
_NAMES = [name.strip() for name in COLUMNS.split(",")]
_UPDATES = ", ".join(f"{n} = excluded.{n}" for n in _NAMES if n != "client_token")
_INSERT = (
    f"INSERT INTO jobs ({COLUMNS}) VALUES ({', '.join(':' + n for n in _NAMES)}) "  # noqa: S608
    f"ON CONFLICT (client_token) DO UPDATE SET {_UPDATES} "
    f"WHERE {rank_sql('excluded.status')} > {rank_sql('jobs.status')} "
    "OR (jobs.request_id IS NULL AND excluded.request_id IS NOT NULL)"
)


def copy_ledger(source: Ledger, target: Ledger) -> int:
    """Copy every row of ``source`` into ``target``; the number of rows written."""
    if source.url == target.url:
        raise SeedanceError(messages.LEDGER_COPY_SAME.format(name=source.name))
    written = 0
    with source.database.connect() as reader, target.database.write() as writer:
        rows = reader.execute(text(
            f"SELECT {COLUMNS} FROM jobs ORDER BY created_at, rowid")  # noqa: S608
        ).mappings()
        while batch := [dict(row) for row in rows.fetchmany(_BATCH)]:
            for row in batch:
                written += writer.execute(text(_INSERT), row).rowcount
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """The ``seedance-ledger`` console script."""
    parser = argparse.ArgumentParser(prog="seedance-ledger", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    copy = commands.add_parser("copy", help="copy every job of one ledger into another")
    copy.add_argument("--from", dest="source", required=True,
                      help="the ledger to read: sqlite:///PATH, a path, or postgresql://...")
    copy.add_argument("--to", dest="target", required=True,
                      help="the ledger to write: postgresql://... or sqlite:///PATH")
    args = parser.parse_args(argv)
    try:
        with Ledger(args.source) as source, Ledger(args.target) as target:
            for ledger in (source, target):
                if ledger.unavailable is not None:
                    raise SeedanceError(ledger.unavailable)
            written = copy_ledger(source, target)
            print(messages.LEDGER_COPIED.format(count=written, source=source.name,
                                                target=target.name))
    except SeedanceError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
