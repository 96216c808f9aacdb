"""Locale-aware number formatting with explicit unit rules (Babel/CLDR for digits and separators).

Always format from the canonical value (yuan, EFLOPS, count, ...), never from an already rounded figure.
zh money: 万元 / 亿元 / 万亿元;  en money: RMB mn / bn / tn (or the original currency code).
"""

from __future__ import annotations

import re

from babel.numbers import format_decimal

LOCALES = {"zh": "zh_CN", "en": "en_US"}
ZH_CURRENCY = {"CNY": "元", "USD": "美元", "EUR": "欧元", "JPY": "日元"}
EN_CURRENCY = {"CNY": "RMB", "USD": "USD", "EUR": "EUR", "JPY": "JPY"}
ZH_SCALES = ((1e12, "万亿"), (1e8, "亿"), (1e4, "万"), (1.0, ""))
EN_SCALES = ((1e12, "tn"), (1e9, "bn"), (1e6, "mn"), (1.0, ""))
EN_COUNT_SCALES = ((1e9, " billion"), (1e6, " million"), (1.0, ""))
_NUMBER = re.compile(r"[0-9][0-9,.]*")
FLOPS_PREFIXES = ((1.0, "EFLOPS"), (1e-3, "PFLOPS"), (1e-6, "TFLOPS"), (1e-9, "GFLOPS"), (1e-18, "FLOPS"))


def number(value: float, lang: str, pattern: str = "#,##0.#") -> str:
    """A plain number in the language's locale."""
    return format_decimal(value, format=pattern, locale=LOCALES[lang])


def precision_pattern(scaled: float) -> str:
    """Up to 2 decimals below 10, 1 below 1,000, none above (never more precision than needed)."""
    if abs(scaled) < 10:
        return "#,##0.##"
    if abs(scaled) < 1000:
        return "#,##0.#"
    return "#,##0"


def _scale(value: float, scales: tuple[tuple[float, str], ...]) -> tuple[float, str]:
    for factor, word in scales:
        if abs(value) >= factor:
            return value / factor, word
    return value / scales[-1][0], scales[-1][1]


def money_parts(value: float, lang: str, currency: str = "CNY", scale: float | None = None) -> tuple[str, str]:
    """(number, unit) of an amount in units of `currency`: zh '3,229' + '亿元', en '322.9' + 'RMB bn'."""
    scales = ZH_SCALES if lang == "zh" else EN_SCALES
    if scale is not None:
        word = dict(scales)[scale]
        scaled = value / scale
    else:
        scaled, word = _scale(value, scales)
    if lang == "zh":
        return number(scaled, lang, precision_pattern(scaled)), f"{word}{ZH_CURRENCY[currency]}"
    return number(scaled, lang, precision_pattern(scaled)), f"{EN_CURRENCY[currency]} {word}".strip()


def money(value: float, lang: str, currency: str = "CNY", scale: float | None = None) -> str:
    """'3,229亿元' / 'RMB 322.9 bn' (`scale` forces e.g. 1e8 for 亿 or 1e9 for bn)."""
    num, unit = money_parts(value, lang, currency, scale)
    if lang == "zh":
        return f"{num}{unit}"
    code, _, word = unit.partition(" ")
    return f"{code} {num} {word}".strip()


def count(value: float, lang: str) -> str:
    """Counts: zh '688.7万', '14亿'; en '6.89 million'."""
    if lang == "zh":
        scaled, word = _scale(value, ((1e8, "亿"), (1e4, "万"), (1.0, "")))
        return number(scaled, lang, precision_pattern(scaled)) + word
    scaled, word = _scale(value, EN_COUNT_SCALES)
    return number(scaled, lang, precision_pattern(scaled)) + word


def compute(value_eflops: float) -> str:
    """A compute capacity with the SI prefix that keeps the number ≥ 1: '615 EFLOPS', '29 TFLOPS'."""
    for factor, unit in FLOPS_PREFIXES:
        if abs(value_eflops) >= factor or factor == FLOPS_PREFIXES[-1][0]:
            scaled = value_eflops / factor
            return f"{number(scaled, 'en', precision_pattern(scaled))} {unit}"
    raise AssertionError("unreachable")


def energy(value_kwh: float, lang: str) -> str:
    """zh '939亿千瓦时'; en '93.9 bn kWh'."""
    if lang == "zh":
        scaled, word = _scale(value_kwh, ((1e8, "亿"), (1e4, "万"), (1.0, "")))
        return f"{number(scaled, lang, precision_pattern(scaled))}{word}千瓦时"
    scaled, word = _scale(value_kwh, EN_SCALES)
    return f"{number(scaled, lang, precision_pattern(scaled))} {word} kWh".replace("  ", " ")


def carbon(value_t: float, lang: str) -> str:
    """zh '6,464万吨'; en '64.64 Mt'."""
    if lang == "zh":
        scaled, word = _scale(value_t, ((1e8, "亿"), (1e4, "万"), (1.0, "")))
        return f"{number(scaled, lang, precision_pattern(scaled))}{word}吨"
    scaled, word = _scale(value_t, ((1e9, "Gt"), (1e6, "Mt"), (1e3, "kt"), (1.0, "t")))
    return f"{number(scaled, lang, precision_pattern(scaled))} {word}"


def operations(value: float, lang: str) -> str:
    """Operations of any kind per second (never FLOPS): zh '5,000次/秒'; en '5,000 operations per second'."""
    if lang == "zh":
        scaled, word = _scale(value, ((1e8, "亿"), (1e4, "万"), (1.0, "")))
        return f"{number(scaled, lang, precision_pattern(scaled))}{word}次/秒"
    scaled, word = _scale(value, EN_COUNT_SCALES)
    return f"{number(scaled, lang, precision_pattern(scaled))}{word} operations per second"


def short_time(seconds: float, lang: str) -> str:
    """Seconds, minutes or hours, whichever keeps the number ≥ 1: '15秒' / '15 s', '8小时' / '8 hours'."""
    words = (
        ((3600.0, "小时"), (60.0, "分钟"), (1.0, "秒"))
        if lang == "zh"
        else ((3600.0, " hours"), (60.0, " min"), (1.0, " s"))
    )
    scaled, word = _scale(seconds, words)
    return f"{number(scaled, lang, precision_pattern(scaled))}{word}"


def duration(years: float, lang: str, units: dict[str, str], months: bool = False) -> str:
    """Years, or months below one year (or when `months`): '2个月' / '2 months', '75年' / '75 years'."""
    if years < 1 or months:
        months = years * 12
        text = number(months, lang, precision_pattern(months))
        return f"{text}{units['months']}" if lang == "zh" else f"{text} {units['months']}"
    text = number(years, lang, precision_pattern(years))
    return f"{text}{units['years']}" if lang == "zh" else f"{text} {units['years']}"


def quantity(value: float, unit: str, lang: str, units: dict[str, str] | None = None) -> str:
    """Format a value in its canonical unit."""
    units = units or (
        {"years": "年", "months": "个月", "x": "倍"}
        if lang == "zh"
        else {"years": "years", "months": "months", "x": "x"}
    )
    if unit == "CNY":
        return money(value, lang)
    if unit == "%":
        return f"{number(value, lang, precision_pattern(value))}%"
    if unit == "count":
        return count(value, lang)
    if unit == "years":
        return duration(value, lang, units)
    if unit == "x":
        return f"{number(value, lang, '#,##0.##')}{units['x']}"  # 1.6倍, 1.25x: a second decimal is kept
    if unit == "EFLOPS":
        return compute(value)
    if unit == "ops/s":
        return operations(value, lang)
    if unit == "kWh":
        return energy(value, lang)
    if unit == "t":
        return carbon(value, lang)
    if unit == "s":
        return short_time(value, lang)
    if unit == "m²":
        return f"{number(value, lang, precision_pattern(value))}{'平方米' if lang == 'zh' else ' m²'}"
    if unit == "°C":
        return f"{number(value, lang, precision_pattern(value))}°C"
    if unit == "index":
        return number(value, lang, precision_pattern(value))
    if unit == "year":
        return str(round(value))
    return f"{number(value, lang, precision_pattern(value))} {unit}"


def quantity_range(low: float, high: float, unit: str, lang: str, units: dict[str, str] | None = None) -> str:
    """A range with its unit once where both ends share it: '3–4个月', 'RMB 1–2 tn', '100 GFLOPS–2.5 TFLOPS'."""
    return join_range(quantity(low, unit, lang, units), quantity(high, unit, lang, units))


def join_range(low: str, high: str | None = None) -> str:
    """Two formatted ends as one range, their common unit text written once ('3个月', '4个月' → '3–4个月');
    one end alone as it is."""
    if high is None:
        return low
    lo, hi = _NUMBER.search(low), _NUMBER.search(high)
    if lo and hi and low[: lo.start()] == high[: hi.start()] and low[lo.end() :] == high[hi.end() :]:
        return f"{low[: lo.end()]}–{high[hi.start() :]}"
    return f"{low}–{high}"


def percent(rate: float, lang: str) -> str:
    """A growth rate given as a fraction (0.309 → '30.9%')."""
    return f"{number(rate * 100, lang, '#,##0.0')}%"
