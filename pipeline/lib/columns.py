"""Recognise what each header of a source table holds (series, year, value, a wide year column, ...)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from pipeline.lib.units import split_header_unit
from pipeline.lib.years import parse_year_label

ROLE_ALIASES: dict[str, tuple[str, ...]] = {
    "series": ("series", "series_id", "系列", "指标"),
    "geography": ("geography", "地区", "国家", "国家/地区", "region", "country"),
    "segment": ("segment", "细分", "类型", "分类", "type"),
    "year": ("year", "年份", "年"),
    "value": ("value", "数值", "值", "规模", "金额"),
    "unit": ("unit", "单位"),
    "status": ("status", "状态"),
    "source": ("source", "来源", "出处", "资料来源"),
    "note": ("note", "备注", "说明"),
    "formula": ("formula", "公式", "计算公式"),
}
ROLES = (*ROLE_ALIASES, "ignore")


@dataclass(frozen=True)
class Column:
    """One header of a table and the role it plays."""

    header: str
    role: str
    unit: str | None = None
    year: int | None = None
    year_status: str | None = None  # `estimate`/`forecast` when the header marks the year (2022E, 2025F)


def classify(header: str, overrides: dict[str, str]) -> Column | None:
    """Return the column's role, or None when nothing recognises the header.

    A flattened multi-row header 'parent（unit）|child' is classified by its last part and takes the unit
    of the lowest part that states one.
    """
    unit = None
    for part in header.split("|"):
        if parse_year_label(part) is not None:  # '2022年（预计）': the bracket holds a marker, not a unit
            name = part.strip()
            continue
        name, part_unit = split_header_unit(part)
        unit = part_unit or unit
    norm = unicodedata.normalize("NFKC", name).strip().lower()
    for key in (header, name):
        if key in overrides:
            return Column(header, overrides[key], unit)
    for role, aliases in ROLE_ALIASES.items():
        if norm in aliases:
            return Column(header, role, unit)
    year = parse_year_label(name)
    if year is not None:
        return Column(header, "year_column", unit, year[0], year[1])
    return None
