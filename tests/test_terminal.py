"""Terminal IPython, driven through a pseudo-terminal: text cards, no widgets."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from seedance_jupyter.emulator import Emulator

PROMPT = r"In \[\d+\]: "


@pytest.fixture
def ipython(emulator: Emulator, tmp_path: Path) -> Iterator[pexpect.spawn]:
    env = {
        **os.environ,
        "SEEDANCE_BASE_URL": emulator.url,
        "SEEDANCE_API_KEY": emulator.api_key,
        "SEEDANCE_HOME": str(tmp_path / "home"),
        "IPYTHONDIR": str(tmp_path / "ipython"),
        "TERM": "dumb",
    }
    child = pexpect.spawn(
        sys.executable, ["-m", "IPython", "--simple-prompt", "--no-banner", "--colors=NoColor"],
        cwd=str(tmp_path), env=env, encoding="utf-8", timeout=60, dimensions=(50, 200),
    )
    child.expect(PROMPT)
    child.sendline("%load_ext seedance_jupyter")
    child.expect(PROMPT)
    try:
        yield child
    finally:
        child.sendline("exit")
        child.expect(pexpect.EOF)


def run_cell(child: pexpect.spawn, *lines: str) -> str:
    """Type a cell (a cell magic ends at two empty lines) and return what it printed."""
    for line in [*lines, "", ""]:
        child.sendline(line)
    child.expect(PROMPT)
    return str(child.before)


def test_a_wait_cell_prints_text_and_the_finished_videos_path_without_widgets(
    ipython: pexpect.spawn, tmp_path: Path
) -> None:
    out = run_cell(ipython, "%%seedance -d 4 -r 480p --wait -o clip", "a kite in a terminal")
    assert "Seedance job req_" in out
    [path] = re.findall(r"video: (seedance_outputs/req_\w+\.mp4)", out)
    assert (tmp_path / path).stat().st_size > 0
    assert "VBox" not in out and "Widget" not in out
    assert not re.search(r"Out\[\d+\]", out)


def test_the_form_says_it_needs_a_notebook(ipython: pexpect.spawn) -> None:
    ipython.sendline("%seedance form")
    ipython.expect(PROMPT)
    assert "needs a notebook with widgets" in str(ipython.before)
