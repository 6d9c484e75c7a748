"""Which front end shows this kernel's output, as far as the kernel can tell.

It decides three things: whether a live widget can be shown, how a finished
card's player finds the video (``SeedanceMagics.video = "auto"``), and whether
status changes are printed as lines (a terminal) or update the card in place.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any, Literal

__all__ = ["VSCODE_ENV", "Frontend", "detect", "shows_widgets"]

Frontend = Literal["colab", "vscode", "jupyter", "terminal"]

#: Set by VS Code's Jupyter extension in the kernels it starts.
VSCODE_ENV = ("VSCODE_PID", "VSCODE_CWD", "PYDEVD_IPYTHON_COMPATIBLE_DEBUGGING")


def detect(
    shell: Any,
    *,
    modules: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Frontend:
    """Colab, VS Code, the terminal IPython, or any other Jupyter front end.

    A shell that is neither a kernel's nor the terminal's (one embedded in a
    program, or a test's) is taken for a Jupyter front end.
    """
    modules = sys.modules if modules is None else modules
    environ = os.environ if environ is None else environ
    if "google.colab" in modules:
        return "colab"
    if type(shell).__module__.startswith("IPython.terminal."):
        return "terminal"
    if any(name in environ for name in VSCODE_ENV):
        return "vscode"
    return "jupyter"


def shows_widgets(frontend: Frontend) -> bool:
    """True where a live widget (progress, Cancel) can be shown."""
    return frontend != "terminal"
