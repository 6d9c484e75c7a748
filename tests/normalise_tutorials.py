"""Save the tutorials as a fresh install opens them, so JupyterLab does not mark them modified.

JupyterLab rewrites a notebook's kernelspec with the installed kernel's (``python3``,
"Python 3 (ipykernel)") as soon as the kernel starts, and a notebook whose cells lack
ids gets new random ones on every load: either marks it modified before any edit.
Run this after editing or re-executing a tutorial (``--check`` only reports)::

    .venv/bin/python tests/normalise_tutorials.py [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any

import nbformat

__all__ = ["KERNELSPEC", "TUTORIALS", "main", "normalised"]

#: The kernelspec a fresh ``pip install ipykernel`` has, as JupyterLab writes it.
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
TUTORIALS = Path(__file__).resolve().parent.parent / "notebooks"


def normalised(notebook: Any) -> Any:
    """``notebook`` with the fresh install's kernelspec and an id on every cell (in place)."""
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    notebook.nbformat, notebook.nbformat_minor = 4, max(notebook.nbformat_minor, 5)
    for index, cell in enumerate(notebook.cells):
        if not cell.get("id"):
            digest = hashlib.sha1(f"{index}\0{cell.source}".encode(), usedforsecurity=False)
            cell["id"] = digest.hexdigest()[:8]
    return notebook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if needed")
    args = parser.parse_args(argv)
    stale = []
    for path in sorted(TUTORIALS.glob("*.ipynb")):
        before = path.read_text(encoding="utf-8")
        after = nbformat.writes(normalised(nbformat.reads(before, as_version=4))) + "\n"
        if after != before:
            stale.append(path.name)
            if not args.check:
                path.write_text(after, encoding="utf-8")
    verb = "would change" if args.check else "normalised"
    print(f"{verb}: {', '.join(stale)}" if stale else "every tutorial is normalised")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
