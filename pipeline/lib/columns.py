"""Recognise what each header of a source table holds (series, year, value, a wide year column, ...)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pipeline.lib.units import split_header_unit

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
YEAR_HEADER = re.compile(r"^(?P<year>(19|20)\d{2})\s*年?\s*(?P<flag>[EeFfP]|预测|（E）|\(E\))?$")


@dataclass(frozen=True)
class Column:
    """One header of a table and the role it plays."""

    header: str
    role: str
    unit: str | None = None
    year: int | None = None


def classify(header: str, overrides: dict[str, str]) -> Column | None:
    """Return the column's role, or None when nothing recognises the header.

    A flattened multi-row header 'parent（unit）|child' is classified by its last part and takes the unit
    of the lowest part that states one.
    """
    unit = None
    for part in header.split("|"):
        name, part_unit = split_header_unit(part)
        unit = part_unit or unit
    norm = unicodedata.normalize("NFKC", name).strip().lower()
    for key in (header, name):
        if key in overrides:
            return Column(header, overrides[key], unit)
    for role, aliases in ROLE_ALIASES.items():
        if norm in aliases:
            return Column(header, role, unit)
    m = YEAR_HEADER.match(unicodedata.normalize("NFKC", name).strip())
    if m:
        return Column(header, "year_column", unit, int(m.group("year")))
    return None
