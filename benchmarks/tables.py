"""The markdown table every benchmark prints."""

from __future__ import annotations


def table(header: list[str], rows: list[list[object]]) -> str:
    cols = list(zip(header, *rows, strict=True))
    widths = [max(len(str(x)) for x in col) for col in cols]

    def line(cells: list[object]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
                     + [line(r) for r in rows])
