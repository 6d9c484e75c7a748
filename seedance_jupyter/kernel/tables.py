"""Small tables for ``%seedance models``, ``jobs`` and ``spend``: text and escaped HTML."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .markup import esc, root, truncate

__all__ = ["Cell", "Table"]

_CELL_CHARS = 60


@dataclass(frozen=True)
class Cell:
    """A table cell that shows ``text``, with the whole value as a tooltip or a link."""

    text: str
    title: str | None = None
    href: str | None = None

    def html(self) -> str:
        inner = esc(self.text)
        if self.href:
            inner = f'<a href="{esc(self.href)}" target="_blank" rel="noopener">{inner}</a>'
        title = f' title="{esc(self.title)}"' if self.title else ""
        return f"<td{title}>{inner}</td>"


@dataclass(frozen=True)
class Table:
    """Rows of cells that display well in a notebook and in a terminal."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]

    @classmethod
    def of(cls, title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> Table:
        return cls(title, tuple(columns), tuple(tuple(_cell(v) for v in row) for row in rows))

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{esc(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(cell.html() for cell in row) + "</tr>" for row in self.rows
        )
        return root(
            "seedance-table",
            f"<strong>{esc(self.title)}</strong>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>",
        )

    def __repr__(self) -> str:
        widths = [
            max([len(c)] + [len(row[i].text) for row in self.rows])
            for i, c in enumerate(self.columns)
        ]
        lines = [self.title, _line(self.columns, widths)]
        lines += [_line([cell.text for cell in row], widths) for row in self.rows]
        return "\n".join(line.rstrip() for line in lines)


def _line(values: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True))


def _cell(value: object) -> Cell:
    """A cell; a long value is shortened, with the whole of it as the tooltip."""
    if isinstance(value, Cell):
        return value
    if value is None:
        return Cell("")
    text = " ".join(str(value).split())
    short = truncate(text, _CELL_CHARS)
    return Cell(short, title=text if short != text else None)
