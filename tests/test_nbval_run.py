"""The tutorials' nbval run (``-p tests.nbval_notebooks``) leaves no emulator behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import processes_with_argument

pytestmark = pytest.mark.kernel
ROOT = Path(__file__).resolve().parent.parent


def test_an_nbval_run_of_a_tutorial_leaves_no_emulator_running(tmp_path: Path) -> None:
    # The plugin's per-notebook homes are made under TMPDIR: this test's own folder.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "notebooks/01-quickstart.ipynb"],
        cwd=ROOT, env={**os.environ, "TMPDIR": str(tmp_path)}, capture_output=True,
        text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert "passed" in result.stdout
    assert processes_with_argument(str(tmp_path)) == []
