"""The form's keyboard and accessibility, in every front end that runs ipywidgets.

ipywidgets sets no DOM attributes or listeners of our choosing, and our lab
extension is not everywhere (VS Code, Colab, Notebook 7 without it). This widget
carries a small script (``form_keys.js``, run by anywidget wherever widgets run)
that, for the ``.seedance-form`` around it: keeps keys typed in the form from
reaching JupyterLab's command-mode shortcuts, makes the Advanced header a
keyboard-operable button, exposes the toggle buttons' pressed state, and gives
the focus back to Submit once a submission re-enables it.
"""

from __future__ import annotations

from pathlib import Path

import anywidget

__all__ = ["FormKeys"]


class FormKeys(anywidget.AnyWidget):
    """Invisible: put it inside the form's box."""

    _esm = Path(__file__).with_name("form_keys.js")
