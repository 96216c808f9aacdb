"""Locale-aware number formatting with explicit unit rules (Babel/CLDR for digits and separators).

Always format from the canonical value (yuan, EFLOPS, ...), never from an already rounded figure.
zh: 亿元 / 万亿元;  en: RMB bn / RMB tn.
"""

from __future__ import annotations

from babel.numbers import format_decimal

LOCALES = {"zh": "zh_CN", "en": "en_US"}
YI, WAN_YI, BN, TN = 1e8, 1e12, 1e9, 1e12


def number(value: float, lang: str, pattern: str = "#,##0.#") -> str:
    """A plain number in the language's locale."""
    return format_decimal(value, format=pattern, locale=LOCALES[lang])


def _digits(scaled: float) -> str:
    """Up to 2 decimals below 10, 1 below 1,000, none above (never more precision than needed)."""
    if abs(scaled) < 10:
        return "#,##0.##"
    if abs(scaled) < 1000:
        return "#,##0.#"
    return "#,##0"


def money_parts(value_cny: float, lang: str, scale: str | None = None) -> tuple[str, str]:
    """(number, unit) of an amount in yuan: zh 亿元/万亿元, en RMB bn/tn; `scale` forces 'small'/'large'."""
    large = scale == "large" or (scale is None and abs(value_cny) >= (WAN_YI if lang == "zh" else TN))
    if lang == "zh":
        scaled, unit = (value_cny / WAN_YI, "万亿元") if large else (value_cny / YI, "亿元")
    else:
        scaled, unit = (value_cny / TN, "RMB tn") if large else (value_cny / BN, "RMB bn")
    return number(scaled, lang, _digits(scaled)), unit


def money(value_cny: float, lang: str, scale: str | None = None) -> str:
    """'3,229亿元' / 'RMB 322.9 bn'."""
    num, unit = money_parts(value_cny, lang, scale)
    return f"{num}{unit}" if lang == "zh" else f"{unit.split()[0]} {num} {unit.split()[1]}"


def quantity(value: float, unit: str, lang: str) -> str:
    """Format a value in its canonical unit (money goes through `money`)."""
    if unit == "CNY":
        return money(value, lang)
    if unit == "%":
        return f"{number(value, lang, _digits(value))}%"
    if unit == "count":
        return number(value, lang, "#,##0")
    if unit == "years":
        return f"{number(value, lang, _digits(value))}{'年' if lang == 'zh' else ' years'}"
    if unit == "x":
        return f"{number(value, lang, '#,##0.#')}{'倍' if lang == 'zh' else 'x'}"
    return f"{number(value, lang, _digits(value))} {unit}"


def percent(rate: float, lang: str) -> str:
    """A growth rate given as a fraction (0.309 → '30.9%')."""
    return f"{number(rate * 100, lang, '#,##0.0')}%"
