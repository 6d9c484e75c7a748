"""Loading the extension stays cheap: no HTTP client until a job needs one."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("requests", "seedance_jupyter.api.transport", "ipywidgets", "av", "numpy",
         "seedance_jupyter.emulator")
LOAD_EXT = ("from IPython.core.interactiveshell import InteractiveShell; "
            "InteractiveShell.instance().run_line_magic('load_ext', 'seedance_jupyter')")


def loaded_after(statement: str) -> list[str]:
    """Which of :data:`HEAVY` a fresh interpreter holds after ``statement``."""
    code = f"import sys, json; {statement}; print(json.dumps([m for m in {HEAVY!r} "
    code += "if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    loaded: list[str] = json.loads(out.strip().splitlines()[-1])
    return loaded


def test_load_ext_imports_no_http_client_widgets_or_emulator() -> None:
    assert loaded_after(LOAD_EXT) == []


def test_import_seedance_jupyter_imports_no_http_client_widgets_or_emulator() -> None:
    assert loaded_after("import seedance_jupyter") == []
