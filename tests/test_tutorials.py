"""The tutorials in notebooks/ are saved as a fresh install opens them (see
tests/normalise_tutorials.py; the browser test opens each in JupyterLab)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from .normalise_tutorials import KERNELSPEC, TUTORIALS, normalised

NOTEBOOKS = sorted(TUTORIALS.glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_a_tutorial_is_saved_as_normalise_tutorials_writes_it(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert nbformat.writes(normalised(nbformat.reads(text, as_version=4))) + "\n" == text


def test_normalising_gives_the_fresh_install_kernelspec_and_stable_cell_ids() -> None:
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3",
                                                                 "display_name": "Python 3"}})
    notebook.cells = [nbformat.v4.new_code_cell("1"), nbformat.v4.new_markdown_cell("a")]
    for cell in notebook.cells:
        del cell["id"]
    first = normalised(nbformat.from_dict(notebook))
    again = normalised(nbformat.from_dict(notebook))
    assert first.metadata["kernelspec"] == KERNELSPEC
    assert [c["id"] for c in first.cells] == [c["id"] for c in again.cells]
    assert len({c["id"] for c in first.cells}) == 2
