"""nbval runs of the tutorials in notebooks/: each gets a fresh, isolated, fast setting.

A pytest plugin (``-p tests.nbval_notebooks`` in pyproject's addopts), kept out of
the tutorials' folder so a reader of the tutorials sees only them and their helper.

Kernels inherit the environment of the pytest process when they start, so just before
a notebook's kernel starts (the setup of its first cell) this points ``SEEDANCE_HOME``
at a new empty folder (a fresh ledger and emulator state: no job of an earlier run or
of another notebook can show up), removes ``SEEDANCE_BASE_URL``/``SEEDANCE_API_KEY``
(so the embedded emulator is used, never the real service) and speeds the emulator up.
The process environment is restored right after, so other tests see it unchanged.
Each notebook's emulator is stopped when the session ends (and exits by itself once
idle, should the session be killed): the suite leaves no process behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
from collections.abc import Generator
from pathlib import Path

import pytest

from seedance_jupyter.emulator.shared import PORT_FILE

from .helpers import eventually, running

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
JOB_MIME = "application/vnd.seedance.job+json"
#: Seconds a notebook's emulator may idle before it exits by itself.
IDLE_EXIT = "60"
_ENV_KEYS = ("SEEDANCE_HOME", "SEEDANCE_BASE_URL", "SEEDANCE_API_KEY", "SEEDANCE_EMULATOR_SPEED",
             "SEEDANCE_EMULATOR_IDLE_EXIT")
_started: set[str] = set()
_homes: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """Read the sanitize file from the rootdir whatever the working directory is."""
    option = getattr(config.option, "nbval_sanitize_with", None)
    if option and not os.path.isabs(option) and not os.path.exists(option):
        config.option.nbval_sanitize_with = str(config.rootpath / option)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    notebook = item.parent
    first_cell = (
        notebook is not None
        and str(notebook.path).endswith(".ipynb")
        and Path(notebook.path).resolve().parent == NOTEBOOKS
        and notebook.nodeid not in _started
    )
    if not first_cell:
        return (yield)
    assert notebook is not None
    _started.add(notebook.nodeid)
    saved = {key: os.environ.get(key) for key in _ENV_KEYS}
    home = tempfile.mkdtemp(prefix="seedance-nbval-")
    _homes.append(home)
    os.environ["SEEDANCE_HOME"] = home
    os.environ.pop("SEEDANCE_BASE_URL", None)
    os.environ.pop("SEEDANCE_API_KEY", None)
    os.environ["SEEDANCE_EMULATOR_SPEED"] = "4"
    os.environ["SEEDANCE_EMULATOR_IDLE_EXIT"] = IDLE_EXIT
    try:
        return (yield)  # the notebook's kernel starts here, with this environment
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Compare a card by its HTML and text; its job JSON carries times and tokens."""
    for item in items:
        notebook = item.parent
        skip = getattr(notebook, "skip_compare", None)
        if skip is not None and JOB_MIME not in skip:
            notebook.skip_compare = (*skip, JOB_MIME)  # type: ignore[union-attr]


def pytest_unconfigure(config: pytest.Config) -> None:
    for home in _homes:
        _stop_emulator(Path(home) / "emulator" / PORT_FILE)
        shutil.rmtree(home, ignore_errors=True)


def _stop_emulator(port_file: Path) -> None:
    """SIGTERM the emulator a notebook's kernel started, and wait until it is gone."""
    try:
        pid = int(json.loads(port_file.read_text(encoding="utf-8"))["pid"])
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError, KeyError):
        return
    eventually(lambda: not running(pid), timeout=15)
