"""Unit registry: parse a unit string as found in a source table into a canonical unit and factor.

Canonical units (one per quantity) are what `core.observations` stores:

| quantity | canonical | parsed from |
|---|---|---|
| money    | CNY (yuan)   | 元/万元/亿元/万亿元, 美元/欧元/日元 with the same prefixes, RMB/USD/EUR/JPY bn/tn |
| compute  | EFLOPS       | FLOPS, GFLOPS, TFLOPS, PFLOPS, EFLOPS, ZFLOPS (floating-point operations per second) |
| operations | ops/s      | 次/秒, 次每秒, ops/s, operations per second (any operation, e.g. additions: not FLOPS) |
| count    | count        | 个/台/辆/人/家/项/座 with 万/亿 prefixes |
| duration | years        | 年, 月 |
| share    | %            | %, ‰ (per mille), ppm (parts per million) |
| ratio    | x            | 倍 |
| energy   | kWh          | 千瓦时/度 with 万/亿 prefixes, kWh |
| carbon   | t            | 吨, 万吨, 亿吨 |
| training | PF-days      | PF-days |
| chip     | TOPS         | TOPS |
| time     | s            | 秒/s, 分钟/min, 小时/h (short times: a takt, a turnaround) |
| storage  | PB           | GB, TB, PB, EB |
| area     | m²           | 平方米, m² |
| temperature | °C        | °C, ℃ |
| index    | index        | PUE (a dimensionless ratio printed as the number alone) |
| calendar | year         | 年份 (a calendar year given as the value, e.g. a target year) |

Money keeps its currency: conversion to CNY happens in the warehouse through the FX source table.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

SCALE_PREFIXES: dict[str, float] = {
    "": 1.0,
    "千": 1e3,
    "万": 1e4,
    "十万": 1e5,
    "百万": 1e6,
    "千万": 1e7,
    "亿": 1e8,
    "十亿": 1e9,
    "百亿": 1e10,
    "千亿": 1e11,
    "万亿": 1e12,
}
CURRENCY_WORDS: dict[str, str] = {
    "元": "CNY",
    "人民币": "CNY",
    "人民币元": "CNY",
    "美元": "USD",
    "欧元": "EUR",
    "日元": "JPY",
}
ENGLISH_CURRENCIES: dict[str, str] = {
    "rmb": "CNY",
    "cny": "CNY",
    "usd": "USD",
    "us$": "USD",
    "$": "USD",
    "eur": "EUR",
    "€": "EUR",
    "jpy": "JPY",
    "¥": "JPY",
}
ENGLISH_SCALES: dict[str, float] = {
    "": 1.0,
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "million": 1e6,
    "bn": 1e9,
    "billion": 1e9,
    "tn": 1e12,
    "trillion": 1e12,
}
FLOPS_PREFIXES: dict[str, float] = {
    "": 1e-18,
    "k": 1e-15,
    "m": 1e-12,
    "g": 1e-9,
    "t": 1e-6,
    "p": 1e-3,
    "e": 1.0,
    "z": 1e3,
}
COUNT_WORDS = (
    "个",
    "台",
    "辆",
    "人",
    "家",
    "项",
    "座",
    "次",
    "户",
    "张",
    "块",
    "条",
    "所",
    "款",
    "种",
    "期",
    "名",
    "份",
    "大类",
    "通",
    "件",
)
ENERGY_WORDS = ("千瓦时", "度")
CARBON_WORDS = ("吨", "吨二氧化碳", "tCO2")
SECONDS = {"秒": 1.0, "s": 1.0, "分钟": 60.0, "min": 60.0, "小时": 3600.0, "h": 3600.0}
STORAGE_PB = {"gb": 1e-6, "tb": 1e-3, "pb": 1.0, "eb": 1e3}
PER_CENT = {"%": 1.0, "百分比": 1.0, "percent": 1.0, "pct": 1.0, "‰": 0.1, "ppm": 1e-4}


@dataclass(frozen=True)
class Unit:
    """A parsed unit: `value_in_canonical = value * factor` (then × FX rate if `currency` is not CNY)."""

    text: str
    quantity: str
    canonical: str
    factor: float
    currency: str | None = None


class UnknownUnitError(ValueError):
    """Raised when a unit string is not in the registry."""


def normalise_unit_text(text: str) -> str:
    """NFKC-normalise (full-width → ASCII), drop brackets and blanks: '（亿元）' → '亿元'."""
    t = unicodedata.normalize("NFKC", text or "").strip()
    t = t.strip("()[]【】 ")
    if t.startswith("单位") or t.lower().startswith("unit"):
        t = re.sub(r"^(单位|unit)\s*[:：]?\s*", "", t, flags=re.IGNORECASE)
    return t.replace(" ", "") if re.search(r"[\u4e00-\u9fff]", t) else re.sub(r"\s+", " ", t)


def _split_prefix(t: str, words: tuple[str, ...] | dict[str, str]) -> tuple[float, str] | None:
    for word in sorted(words, key=len, reverse=True):
        if t.endswith(word):
            prefix = t[: -len(word)]
            if prefix in SCALE_PREFIXES:
                return SCALE_PREFIXES[prefix], word
    return None


def parse_unit(text: str) -> Unit:
    """Parse a unit string; raise UnknownUnitError with the known forms when it is not understood."""
    t = normalise_unit_text(text)
    low = t.lower()
    if not t:
        raise UnknownUnitError("empty unit")
    if t in PER_CENT:
        return Unit(text, "share", "%", PER_CENT[t])
    if t in SECONDS:
        return Unit(text, "time", "s", SECONDS[t])
    if low in STORAGE_PB:
        return Unit(text, "storage", "PB", STORAGE_PB[low])
    if t in ("平方米", "m²", "m2"):
        return Unit(text, "area", "m²", 1.0)
    if t in ("°C", "℃", "°"):
        return Unit(text, "temperature", "°C", 1.0)
    if low == "pue":
        return Unit(text, "index", "index", 1.0)
    if t in ("年份", "calendar year"):
        return Unit(text, "calendar", "year", 1.0)
    if t in ("倍", "x", "times"):
        return Unit(text, "ratio", "x", 1.0)
    if t in ("年", "years", "year", "yr"):
        return Unit(text, "duration", "years", 1.0)
    if t in ("月", "个月", "months", "month"):
        return Unit(text, "duration", "years", 1 / 12)
    if low in ("pf-days", "pf-day", "pfs-day", "pf·days"):
        return Unit(text, "training", "PF-days", 1.0)
    if low == "tops":
        return Unit(text, "chip", "TOPS", 1.0)
    if t in ("次/秒", "次每秒", "每秒次") or low in ("ops/s", "operations per second", "operations/s"):
        return Unit(text, "operations", "ops/s", 1.0)
    m = re.fullmatch(r"([kmgtpez]?)flops", low)
    if m:
        return Unit(text, "compute", "EFLOPS", FLOPS_PREFIXES[m.group(1)])
    if low == "kwh":
        return Unit(text, "energy", "kWh", 1.0)
    hit = _split_prefix(t, CURRENCY_WORDS)
    if hit:
        return Unit(text, "money", "CNY", hit[0], CURRENCY_WORDS[hit[1]])
    m = re.fullmatch(r"(rmb|cny|usd|us\$|\$|eur|€|jpy|¥)\s*([a-z]*)", low)
    if m and m.group(2) in ENGLISH_SCALES:
        return Unit(text, "money", "CNY", ENGLISH_SCALES[m.group(2)], ENGLISH_CURRENCIES[m.group(1)])
    hit = _split_prefix(t, ENERGY_WORDS)
    if hit:
        return Unit(text, "energy", "kWh", hit[0])
    hit = _split_prefix(t, CARBON_WORDS)
    if hit:
        return Unit(text, "carbon", "t", hit[0])
    hit = _split_prefix(t, COUNT_WORDS)
    if hit:
        return Unit(text, "count", "count", hit[0])
    raise UnknownUnitError(
        f"unknown unit {text!r}; known forms: 元/万元/亿元/万亿元, 美元/欧元/日元 (same prefixes), RMB/USD bn|tn, "
        "GFLOPS…ZFLOPS, 次/秒 (operations, not FLOPS), PF-days, TOPS, 年, 月, %, ‰, ppm, 倍, 万台/万个/万辆/个/人/家, "
        "亿千瓦时, 万吨, 秒/小时, TB/PB, 平方米, °C, PUE, 年份 (pipeline/lib/ingest/units.py)"
    )


UNIT_IN_HEADER = re.compile(r"^(?P<name>.*?)\s*[（(](?P<unit>[^）)]*)[）)]\s*$")


def split_header_unit(header: str) -> tuple[str, str | None]:
    """'规模（亿元）' → ('规模', '亿元'); '2021年' → ('2021年', None)."""
    m = UNIT_IN_HEADER.match(unicodedata.normalize("NFKC", header).strip())
    if not m:
        return header.strip(), None
    return m.group("name").strip(), m.group("unit").strip()
