"""The tutorials open as saved: JupyterLab does not mark them modified before any edit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import REPO, Lab

pytestmark = [pytest.mark.browser, pytest.mark.labext]
TUTORIALS = sorted((REPO / "notebooks").glob("*.ipynb"))
#: Whether the open notebook is modified once its kernel is ready and its info applied
#: (JupyterLab writes the kernel's spec and language into the metadata at that point).
JS_DIRTY_ONCE_READY = """async () => {
  const w = window.jupyterapp.shell.currentWidget;
  await w.context.ready;
  await w.sessionContext.ready;
  await w.sessionContext.session.kernel.info;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return w.context.model.dirty;
}"""


@pytest.mark.parametrize("tutorial", TUTORIALS, ids=lambda path: path.stem)
def test_a_tutorial_opens_unmodified(lab: Lab, tutorial: Path) -> None:
    shutil.copyfile(tutorial, lab.path)
    lab.open()
    assert lab.page.evaluate(JS_DIRTY_ONCE_READY) is False
