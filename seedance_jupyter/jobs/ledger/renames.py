"""Renamed notebooks and folders: their jobs follow them, and so do the later jobs of a
kernel still started for the old name (the claim asks :func:`follow_renames`).

Renames are this user's own: on a team's database two people may have notebooks
at the same path (every container's ``/home/jovyan``), and one's rename moves
neither the other's jobs nor where the other's kernels record theirs.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Connection, text

from .base import LedgerBase

__all__ = ["MAX_RENAMES", "Renames", "follow_renames"]

#: How many renames of one path in a row are followed (a loop ends here).
MAX_RENAMES = 16
# Typed parameters: PostgreSQL cannot infer them inside length() and ||.
_MOVE_JOBS = (
    "UPDATE jobs SET updated_at = :now, notebook = CASE "
    "WHEN notebook = CAST(:old AS TEXT) THEN CAST(:new AS TEXT) "
    "ELSE CAST(:new AS TEXT) || substr(notebook, length(CAST(:old AS TEXT)) + 1) END "
    "WHERE user_name = :user AND (notebook = CAST(:old AS TEXT) OR "
    "substr(notebook, 1, length(CAST(:prefix AS TEXT))) = CAST(:prefix AS TEXT))"
)
_RECORD = (
    "INSERT INTO renames (user_name, old, new, at) VALUES (:user, :old, :new, :now) "
    "ON CONFLICT (user_name, old) DO UPDATE SET new = excluded.new, at = excluded.at"
)


class Renames(LedgerBase):
    """Moves a renamed notebook's (or folder's) jobs, and remembers the rename."""

    def move_notebook(self, old: str, new: str) -> int:
        """A notebook or folder was renamed: this user's jobs of it (and those under the
        folder) follow, and so will jobs a kernel still started for ``old`` makes later
        (see :meth:`~.claims.Claims.claim`).

        Returns how many jobs moved.
        """
        params = {"old": old, "new": new, "now": self._clock(), "user": self.user,
                  "prefix": old.rstrip("/") + "/"}
        with self._db.write() as conn:
            moved = conn.execute(text(_MOVE_JOBS), params).rowcount
            conn.execute(text("UPDATE renames SET new = :new "
                              "WHERE user_name = :user AND new = :old"), params)
            conn.execute(text("DELETE FROM renames WHERE user_name = :user AND old = :new"),
                         params)
            conn.execute(text(_RECORD), params)
        return int(moved)

    def current_origin(self, origin: str | None) -> str | None:
        """Where the notebook (or folder) ``origin`` is now, after any renames."""
        with self._db.connect() as conn:
            return follow_renames(conn, origin, self.user)


def follow_renames(conn: Connection, origin: str | None, user: str) -> str | None:
    """``origin`` after the renames ``user`` made of it or of a folder above it.

    A path that exists is where it is: a new notebook may take an old name.
    """
    for _ in range(MAX_RENAMES):
        if origin is None or os.path.exists(origin):
            return origin
        path = Path(origin)
        candidates = [str(above) for above in (path, *path.parents)]
        names = {f"p{i}": candidate for i, candidate in enumerate(candidates)}
        rows = conn.execute(text(
            "SELECT old, new FROM renames WHERE user_name = :user AND "  # noqa: S608
            f"old IN ({', '.join(':' + name for name in names)})"), {"user": user, **names},
        ).all()
        if not rows:
            return origin
        # The nearest renamed path: the notebook itself, else its innermost folder.
        above, renamed_to = max(rows, key=lambda row: len(Path(row[0]).parts))
        rest = path.relative_to(above)
        origin = str(Path(renamed_to) / rest) if rest.parts else renamed_to
    return origin
