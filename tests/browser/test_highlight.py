"""The editor shows a ``%%seedance`` cell's prompt as plain text, not Python: its lines
carry ``seedance-prompt-line`` and every word in them looks like the editor's own text,
while Python cells keep their highlighting. Only the editor is looked at; nothing runs."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Lab

pytestmark = [pytest.mark.browser, pytest.mark.labext]

PROMPT = "A boat in the rain, with a lamp for the keeper's cat"
MAGIC_CELL = f"%%seedance -d 4\n{PROMPT}"
PYTHON_CELL = "for x in y: pass"
HIGHLIGHT_MS = 10_000

# Per line of the cell editor under root: whether it is a prompt line, and whether it has
# token spans (so Python highlighting has run over it).
JS_LINES = """(root) => [...root.querySelectorAll('.cm-content .cm-line')].map(line => ({
  prompt: line.classList.contains('seedance-prompt-line'),
  tokens: line.querySelector('span') !== null}))"""
# How each word looks (colour, weight, style of the element holding its text) in the cell
# editor under root; a word missing from the editor maps to null.
JS_LOOKS = """([root, words]) => {
  const look = (word) => {
    const walker = document.createTreeWalker(
      root.querySelector('.cm-content'), NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (new RegExp(`\\\\b${word}\\\\b`).test(node.textContent)) {
        const s = getComputedStyle(node.parentElement);
        return `${s.color} ${s.fontWeight} ${s.fontStyle}`;
      }
    }
    return null;
  };
  return Object.fromEntries(words.map(w => [w, look(w)]));
}"""


def editor(lab: Lab, index: int) -> Any:
    return lab.cell(index).locator(".jp-InputArea-editor").element_handle()


def wait_for_lines(lab: Lab, root: Any, predicate: str, what: str) -> list[dict[str, bool]]:
    """Wait until ``predicate(lines)`` holds for JS_LINES of ``root``; returns the lines."""
    lab.wait_for(f"(root) => ({predicate})(({JS_LINES})(root))", root,
                 timeout=HIGHLIGHT_MS, what=what, detail=lambda: lab.page.evaluate(JS_LINES, root))
    lines: list[dict[str, bool]] = lab.page.evaluate(JS_LINES, root)
    return lines


def looks(lab: Lab, root: Any, *words: str) -> dict[str, str | None]:
    found: dict[str, str | None] = lab.page.evaluate(JS_LOOKS, [root, list(words)])
    return found


def python_keyword_look(lab: Lab, root: Any) -> str | None:
    """How ``for`` looks in the Python cell, once highlighted (unlike its ``x``)."""
    lab.wait_for(
        f"(root) => {{ const l = ({JS_LOOKS})([root, ['for', 'x']]); return l.for !== l.x; }}",
        root, timeout=HIGHLIGHT_MS, what="Python highlighting of the plain cell",
        detail=lambda: looks(lab, root, "for", "x"),
    )
    return looks(lab, root, "for")["for"]


def test_a_seedance_cell_body_reads_as_plain_text(lab: Lab) -> None:
    lab.open([MAGIC_CELL, PYTHON_CELL])
    magic, python = editor(lab, 0), editor(lab, 1)
    keyword = python_keyword_look(lab, python)

    lines = wait_for_lines(lab, magic, "(ls) => ls.length === 2 && ls[1].tokens",
                           "the prompt line, tokenised")
    assert [line["prompt"] for line in lines] == [False, True]
    body = looks(lab, magic, "boat", "with", "for", "cat")
    assert set(body.values()) == {body["boat"]}, body
    assert body["for"] != keyword, (body, keyword)


def test_a_python_cell_keeps_its_highlighting(lab: Lab) -> None:
    lab.open([MAGIC_CELL, PYTHON_CELL])
    python = editor(lab, 1)
    python_keyword_look(lab, python)

    lines = wait_for_lines(lab, python, "(ls) => ls.length === 1 && ls[0].tokens",
                           "the Python line, tokenised")
    assert lines == [{"prompt": False, "tokens": True}]


def test_typing_the_magic_line_turns_the_cell_body_into_plain_text(lab: Lab) -> None:
    lab.open([PYTHON_CELL])
    python = editor(lab, 0)
    keyword = python_keyword_look(lab, python)

    lab.cell(0).locator(".cm-content").click()
    lab.page.keyboard.press("Control+Home")
    lab.page.keyboard.type("%%seedance")
    lab.page.keyboard.press("Enter")

    lines = wait_for_lines(lab, python, "(ls) => ls.length === 2 && ls[1].prompt",
                           "the old Python line marked as prompt")
    assert [line["prompt"] for line in lines] == [False, True]
    body = looks(lab, python, "for", "x")
    assert body["for"] == body["x"] != keyword, (body, keyword)


def test_a_search_match_in_the_prompt_keeps_its_highlight(lab: Lab) -> None:
    lab.open([MAGIC_CELL])
    magic = editor(lab, 0)
    wait_for_lines(lab, magic, "(ls) => ls.length === 2 && ls[1].prompt", "the prompt line")
    plain = looks(lab, magic, "boat")["boat"]

    lab.cell(0).click()
    lab.page.keyboard.press("Control+f")
    lab.page.locator(".jp-DocumentSearch-input").fill("lamp")
    lab.wait_for(
        "(root) => root.querySelector('.seedance-prompt-line .cm-searching') !== null", magic,
        timeout=HIGHLIGHT_MS, what="the search match in the prompt",
    )
    match = looks(lab, magic, "lamp")["lamp"]
    assert match != plain, (match, plain)


def test_a_cell_changed_to_raw_loses_the_prompt_marks(lab: Lab) -> None:
    lab.open([MAGIC_CELL])
    wait_for_lines(lab, editor(lab, 0), "(ls) => ls.length === 2 && ls[1].prompt",
                   "the prompt line of the code cell")

    lab.cell(0).click()
    lab.page.evaluate("() => window.jupyterapp.commands.execute('notebook:change-cell-to-raw')")
    lab.page.wait_for_selector(".jp-NotebookPanel .jp-RawCell")

    lines = lab.page.evaluate(JS_LINES, editor(lab, 0))
    assert [line["prompt"] for line in lines] == [False, False]
