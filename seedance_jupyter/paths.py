"""Where this package keeps its files: ``SEEDANCE_HOME`` (ledger, emulator state)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["seedance_home"]


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
