"""Small tables for ``%seedance models``, ``jobs`` and ``spend``: text and escaped HTML."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Table"]


@dataclass(frozen=True)
class Table:
    """Rows of plain strings that display well in a notebook and in a terminal."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> Table:
        return cls(title, tuple(columns), tuple(tuple(_cell(v) for v in row) for row in rows))

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>"
            for row in self.rows
        )
        return (
            f'<div class="seedance-table"><strong>{html.escape(self.title)}</strong>'
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
        )

    def __repr__(self) -> str:
        widths = [
            max([len(c)] + [len(row[i]) for row in self.rows])
            for i, c in enumerate(self.columns)
        ]
        lines = [self.title, _line(self.columns, widths)]
        lines += [_line(row, widths) for row in self.rows]
        return "\n".join(line.rstrip() for line in lines)


def _line(values: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True))


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = " ".join(str(value).split())
    return text if len(text) <= 60 else text[:57] + "..."
