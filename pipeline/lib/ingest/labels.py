"""Row labels as publishers print them: a series name that carries its geography and unit.

`中国云计算市场规模（亿元）` is the series 云计算市场规模 for 中国 in 亿元;
`全球算力规模（EFLOPS）` the series 算力规模 for 全球 in EFLOPS;
`云计算市场规模，单位：亿元` the same with the unit written out.
The unit is a trailing bracket ((), [], 【】, full- or half-width, optionally `单位：`) or a trailing `单位：…`,
and counts only if it parses as a unit. The geography is a leading geography name or alias from
sources/labels.csv, of two characters or more (so that 中小企业 is not 中 + 小企业).
What remains must then be a series name or alias.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.lib.ingest.units import UnknownUnitError, parse_unit

_BRACKET_UNIT = re.compile(
    r"^(?P<name>.*?)\s*[（(\[【]\s*(?:单位\s*[:：]\s*)?(?P<unit>[^（()）\[\]【】]+?)\s*[）)\]】]\s*$"
)
_WRITTEN_UNIT = re.compile(r"^(?P<name>.*?)[\s,，;；]*单位\s*[:：]\s*(?P<unit>\S+)\s*$")
MIN_GEOGRAPHY_PREFIX = 2


@dataclass(frozen=True)
class LabelParts:
    """What a label says besides the series name."""

    name: str
    unit: str | None = None
    geography: str | None = None  # a geography code
    geography_word: str | None = None  # the word found in the label


def _unit_split(text: str) -> tuple[str, str | None]:
    for pattern in (_BRACKET_UNIT, _WRITTEN_UNIT):
        m = pattern.match(text)
        if m and m["name"].strip():
            try:
                parse_unit(m["unit"])
            except UnknownUnitError:
                continue
            return m["name"].strip(), m["unit"].strip()
    return text, None


def split_label(text: str, geographies: dict[str, str]) -> LabelParts:
    """Split a label into name, unit and geography; `geographies` maps lower-cased names and aliases to codes."""
    name, unit = _unit_split(text.strip())
    lowered = name.lower()
    for word in sorted((w for w in geographies if len(w) >= MIN_GEOGRAPHY_PREFIX), key=len, reverse=True):
        rest = name[len(word) :].strip(" -_·:：")
        if lowered.startswith(word) and rest:
            return LabelParts(rest, unit, geographies[word], name[: len(word)])
    return LabelParts(name, unit)


_UNIT_LINE = re.compile(r"单位\s*[:：]\s*(?P<unit>[^\s,，;；）)\]】]+)")


def unit_in_titles(titles: list[str]) -> str | None:
    """The unit a title row above a table's header states (`单位：亿元`, `表1 …（单位：万亿元）`), if one parses."""
    for title in titles:
        if (m := _UNIT_LINE.search(title)) is not None:
            try:
                parse_unit(m["unit"])
            except UnknownUnitError:
                continue
            return m["unit"]
    return None
