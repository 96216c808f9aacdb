"""Year labels as tables print them: `2022`, `2022年`, and with a marker that says the value is not an actual
(`2022E`, `2025F`, `2022年（预计）`, `2023P`). One pattern serves the Python side (wide headers) and DuckDB's RE2
(long tables' year cells), so both layouts read a label the same way."""

from __future__ import annotations

import re
import unicodedata

from pipeline.lib.db import Params

# marker (lower case) → the status the value gets; None: an explicit actual (2022A, 2022年（实际）)
YEAR_MARKERS: dict[str, str | None] = {
    "e": "estimate",
    "est": "estimate",
    "est.": "estimate",
    "估计": "estimate",
    "预计": "estimate",
    "预估": "estimate",
    "估算": "estimate",
    "f": "forecast",
    "p": "forecast",
    "预测": "forecast",
    "a": None,
    "实际": None,
}
_MARKER_ALTERNATIVES = "|".join(re.escape(m) for m in sorted(YEAR_MARKERS, key=len, reverse=True))
# group 1: the year; group 2: the marker (empty when there is none). Brackets full- or half-width.
YEAR_LABEL = r"^((?:19|20)[0-9]{2})\s*年?\s*[(（\[【]?\s*(" + _MARKER_ALTERNATIVES + r")?\s*[)）\]】]?\s*年?$"
ACCEPTED_FORMS = "2022, 2022年, or with a marker: 2022E / 2022年（预计） (estimate), 2025F / 2025P (forecast)"
_PATTERN = re.compile(YEAR_LABEL, re.IGNORECASE)


def parse_year_label(text: str) -> tuple[int, str | None] | None:
    """(year, status set by its marker or None) for a year label; None when the text is not one."""
    m = _PATTERN.match(unicodedata.normalize("NFKC", text).strip())
    if m is None:
        return None
    return int(m.group(1)), YEAR_MARKERS.get((m.group(2) or "").lower())


def marker_status_sql(marker_expr: str, p: Params) -> str:
    """SQL mapping a lower-cased marker (as captured by YEAR_LABEL) to its status, NULL for none; the markers and
    statuses are bound through `p`."""
    marked = {m: s for m, s in YEAR_MARKERS.items() if s is not None}
    position = f"list_position({p(list(marked))}::VARCHAR[], {marker_expr})"
    return f"list_extract({p(list(marked.values()))}::VARCHAR[], {position})"
