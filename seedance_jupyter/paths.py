"""Where this package keeps its files: ``SEEDANCE_HOME`` (ledger, emulator state)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["notebook_dir", "seedance_home"]


def seedance_home() -> Path:
    """``$SEEDANCE_HOME``, else a ``seedance`` folder in the Jupyter data directory."""
    env = os.environ.get("SEEDANCE_HOME")
    if env:
        return Path(env).expanduser()
    try:
        from jupyter_core.paths import jupyter_data_dir

        return Path(jupyter_data_dir()) / "seedance"
    except ImportError:
        return Path.home() / ".local" / "share" / "jupyter" / "seedance"


def notebook_dir() -> Path:
    """The folder of the notebook this process runs for.

    Jupyter names the notebook in ``JPY_SESSION_NAME`` (its path, where the server
    sets one that exists here); otherwise the working directory now, so callers
    read it once, early (``%load_ext``), before a ``%cd`` can move it.
    """
    session = os.environ.get("JPY_SESSION_NAME")
    if session:
        path = Path(session)
        if path.is_absolute() and path.exists():
            return path.parent
    return Path.cwd()
