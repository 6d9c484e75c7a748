"""Small pieces every HTML output of the extension is built from.

Each output's root carries :data:`NO_MATH`, so a prompt such as "$5 and $10" is
shown as written rather than typeset as mathematics by MathJax (JupyterLab,
Notebook, nbviewer, VS Code). Inline styles give a plain declaration before
each ``var(...)`` one: JupyterLab's sanitizer drops ``var()`` styles in an
untrusted notebook, and the plain one is then what remains.
"""

from __future__ import annotations

import html

__all__ = ["NO_MATH", "esc", "root", "truncate"]

#: The classes MathJax 2 (``tex2jax_ignore``) and MathJax 3 (``mathjax_ignore``) skip.
NO_MATH = "tex2jax_ignore mathjax_ignore"


def esc(text: object) -> str:
    """``text`` escaped for an element's content or a quoted attribute."""
    return html.escape(str(text), quote=True)


def root(classes: str, inner: str, *, style: str = "", tag: str = "div") -> str:
    """An output's outermost element: our classes plus :data:`NO_MATH`."""
    styled = f' style="{style}"' if style else ""
    return f'<{tag} class="{classes} {NO_MATH}"{styled}>{inner}</{tag}>'


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
