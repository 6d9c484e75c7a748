"""nbval runs of the demo notebooks: each notebook gets a fresh, isolated, fast setting.

Kernels inherit the environment of the pytest process when they start, so just before
a notebook's kernel starts (the setup of its first cell) this points ``SEEDANCE_HOME``
at a new empty folder (a fresh ledger and emulator state: no job of an earlier run or
of another notebook can show up), removes ``SEEDANCE_BASE_URL``/``SEEDANCE_API_KEY``
(so the embedded emulator is used, never the real service) and speeds the emulator up.
The process environment is restored right after, so other tests see it unchanged.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Generator
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
JOB_MIME = "application/vnd.seedance.job+json"
_ENV_KEYS = ("SEEDANCE_HOME", "SEEDANCE_BASE_URL", "SEEDANCE_API_KEY", "SEEDANCE_EMULATOR_SPEED")
_started: set[str] = set()
_homes: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """Read the sanitize file from this folder whatever the working directory is."""
    option = getattr(config.option, "nbval_sanitize_with", None)
    if option and not os.path.isabs(option) and not os.path.exists(option):
        config.option.nbval_sanitize_with = str(config.rootpath / option)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    notebook = item.parent
    first_cell = (
        notebook is not None
        and str(notebook.path).endswith(".ipynb")
        and Path(notebook.path).resolve().parent == _HERE
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
        shutil.rmtree(home, ignore_errors=True)
