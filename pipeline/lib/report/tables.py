"""Column widths of the report's tables.

WeasyPrint's automatic table layout measures the text of every cell (minimum and maximum content width) before
it places anything, which took about a third of the whole layout time. The tables use `table-layout: fixed`
instead, with widths from here, computed the same way in character cells (a Chinese character counts two):

1. every column first gets its minimum: the longest piece that must not break (a number, a date, an id, a word
   of its header; Chinese text may break between any two characters), plus the cell padding;
2. the rest of the line goes to the columns in proportion to how much more their text wants (long text capped,
   so that it wraps instead of squeezing the other columns).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from pipeline.lib.report.records import Cell

TEXT_CAP = 48  # character cells: a column of longer text wraps
WORD_CAP = 24  # a longer unbroken token may break anywhere (`overflow-wrap: anywhere` in report.css)
CJK_MIN = 4  # two Chinese characters
PADDING = 3  # character cells for the cell's left and right padding (1.6 mm each in report.css)
# Character cells across the 174 mm text width of report.css at ~0.58 em per cell: table text is 8.2 pt, and
# 6.8 pt in tables of class "small".
CELLS_ACROSS = {"": 104, "small": 125}


def text_width(text: str) -> int:
    """Width in character cells: wide (Chinese, full-width) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _unbreakable(text: str) -> int:
    widths = [min(text_width(w), CJK_MIN) if text_width(w) > len(w) else text_width(w) for w in text.split()]
    return min(max(widths, default=0), WORD_CAP)


def column_widths(header: Sequence[str], rows: Sequence[Sequence[Cell]], table_class: str = "") -> list[float]:
    """Percent width of each column (summing to ~100) for a header and rows of cells."""
    minimum, wanted = [], []
    for i, head in enumerate(header):
        cells = [row[i].text for row in rows if i < len(row) and row[i].text]
        numeric = bool(cells) and all(row[i].num for row in rows if i < len(row) and row[i].text)
        least = max([_unbreakable(head)] + [text_width(c) if numeric else _unbreakable(c) for c in cells]) + PADDING
        minimum.append(least)
        wanted.append(max(least, max((min(text_width(c), TEXT_CAP) for c in cells), default=0) + PADDING))
    across = CELLS_ACROSS.get(table_class, CELLS_ACROSS[""])
    spare, extra = across - sum(minimum), sum(wanted) - sum(minimum)
    if spare <= 0 or extra <= 0 or sum(wanted) <= across:
        widths = wanted if spare > 0 else minimum
    else:
        widths = [m + spare * (w - m) / extra for m, w in zip(minimum, wanted, strict=True)]
    total = sum(widths)
    return [round(100 * w / total, 1) for w in widths]
