"""Where this package keeps its files: ``SEEDANCE_HOME`` (ledger, emulator state)."""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = [
    "announced_server",
    "folder_of",
    "notebook_dir",
    "notebook_file",
    "seedance_home",
    "server_root",
]


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


def notebook_file() -> Path | None:
    """The notebook this process runs for, when Jupyter names one that exists here.

    Jupyter sets ``JPY_SESSION_NAME`` to the notebook's path for kernels it starts.
    """
    session = os.environ.get("JPY_SESSION_NAME")
    if session:
        path = Path(session)
        if path.is_absolute() and path.is_file():
            return path
    return None


def notebook_dir() -> Path:
    """The folder of the notebook this process runs for; otherwise the working
    directory now, so callers read it once, early (``%load_ext``), before a ``%cd``
    can move it."""
    notebook = notebook_file()
    return notebook.parent if notebook is not None else Path.cwd()


def folder_of(origin: str) -> Path:
    """The folder of a job's recorded origin: a notebook's folder, or the folder itself
    (a process that knew no notebook records its working directory)."""
    path = Path(origin)
    return path.parent if path.suffix == ".ipynb" else path


def announced_server() -> str | None:
    """The public address a Jupyter server extension announced in ``server.json``:
    ``publicUrl`` + ``baseUrl``, ending in ``/``; None when no server announced one."""
    try:
        announced = json.loads((seedance_home() / "server.json").read_text())
        public = str(announced["publicUrl"]).rstrip("/")
        base = "/" + str(announced.get("baseUrl") or "/").strip("/")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return public + base.rstrip("/") + "/"


def server_root() -> Path | None:
    """The folder the Jupyter server that started this kernel serves, when it says so.

    The kernel's launcher names its server's process (``JPY_PARENT_PID``), and each
    server describes itself in ``jpserver-<pid>.json`` in Jupyter's runtime folder.
    None outside a Jupyter server (nbclient, a terminal) or when that cannot be read.
    """
    pid = os.environ.get("JPY_PARENT_PID", "")
    if not pid.isdigit():
        return None
    try:
        from jupyter_core.paths import jupyter_runtime_dir

        info = json.loads((Path(jupyter_runtime_dir()) / f"jpserver-{pid}.json").read_text())
        root = info["root_dir"]
    except (ImportError, OSError, ValueError, KeyError, TypeError):
        return None
    return Path(root).expanduser() if isinstance(root, str) and root else None
