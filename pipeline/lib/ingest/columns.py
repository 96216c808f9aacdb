"""Recognise what each header of a source table holds (series, year, value, a wide year column, ...)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from pipeline.lib.ingest.units import split_header_unit
from pipeline.lib.ingest.years import parse_year_label

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
    "derived_from": ("derived_from", "推算基础年份", "推算依据年份"),
}
ROLE_DOCS: dict[str, str] = {
    "series": "the series of the row: a series id, name or alias of sources/series.csv; a label may carry its "
    "geography and unit (`中国云计算市场规模（亿元）`, `全球算力规模（EFLOPS）`)",
    "geography": "a code, name or alias of sources/labels.csv (`中国`, `美国`, `全球`)",
    "segment": "a segment code, name or alias of sources/labels.csv",
    "year": "long layout: the year of the row (`2022`, `2022年`, `2022E`)",
    "value": "long layout: the number (`规模（亿元）` gives the unit too)",
    "unit": "the unit of the row's value",
    "status": "the row's status, overriding the entry's",
    "source": "the row's own citation, when finer than the manifest's",
    "note": "a note kept with the row",
    "formula": "for `derived` rows, the arithmetic that gives the value (`615/1.44`); an empty value is filled from "
    "it, a given value must agree with it",
    "derived_from": "for `derived` rows, the year(s) of the same series the formula starts from (`2016`, "
    "`2016;2018`): a backtest never trains on a point derived from a year it holds back",
    "ignore": "a column the pipeline skips (kept in raw)",
    "year_column": "wide layout: one column per year; the unit may sit in the header, a marker makes the values "
    "estimates or forecasts",
    "series_column": "long layout, one column per series next to a year column: a header that names a series, "
    "with its geography and unit if any (`中国云计算市场规模（亿元）`, `全球算力规模（EFLOPS）`)",
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
    series: str | None = None  # a series column (`中国云计算市场规模（亿元）` over a year column): its series id
    geography: str | None = None  # ... and the geography code its header names, if any


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
