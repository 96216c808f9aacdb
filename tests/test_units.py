"""Unit parsing: scale words, currencies, compute prefixes, unknown units."""

import pytest

from pipeline.lib.ingest.units import UnknownUnitError, parse_unit, split_header_unit
from pipeline.lib.report import fmt


@pytest.mark.parametrize(
    ("text", "quantity", "factor", "currency"),
    [
        ("亿元", "money", 1e8, "CNY"),
        ("万亿元", "money", 1e12, "CNY"),
        ("万元", "money", 1e4, "CNY"),
        ("亿美元", "money", 1e8, "USD"),
        ("万亿日元", "money", 1e12, "JPY"),
        ("（亿欧元）", "money", 1e8, "EUR"),
        ("RMB bn", "money", 1e9, "CNY"),
        ("USD tn", "money", 1e12, "USD"),
        ("EFLOPS", "compute", 1.0, None),
        ("GFLOPS", "compute", 1e-9, None),
        ("ZFLOPS", "compute", 1e3, None),
        ("次/秒", "operations", 1.0, None),
        ("operations per second", "operations", 1.0, None),
        ("万台", "count", 1e4, None),
        ("万辆", "count", 1e4, None),
        ("月", "duration", 1 / 12, None),
        ("％", "share", 1.0, None),
        ("亿千瓦时", "energy", 1e8, None),
        ("‰", "share", 0.1, None),
        ("ppm", "share", 1e-4, None),
        ("小时", "time", 3600.0, None),
        ("秒", "time", 1.0, None),
        ("TB", "storage", 1e-3, None),
        ("℃", "temperature", 1.0, None),
        ("平方米", "area", 1.0, None),
        ("万份", "count", 1e4, None),
        ("年份", "calendar", 1.0, None),
    ],
)
def test_known_units(text: str, quantity: str, factor: float, currency: str | None) -> None:
    unit = parse_unit(text)
    assert (unit.quantity, unit.currency) == (quantity, currency)
    assert unit.factor == pytest.approx(factor)


@pytest.mark.parametrize("text", ["亿英镑", "furlongs", "", "亿亿元"])
def test_unknown_units_are_rejected(text: str) -> None:
    with pytest.raises(UnknownUnitError):
        parse_unit(text)


def test_unit_in_header() -> None:
    assert split_header_unit("规模（亿元）") == ("规模", "亿元")
    assert split_header_unit("2021年(EFLOPS)") == ("2021年", "EFLOPS")
    assert split_header_unit("2021") == ("2021", None)


@pytest.mark.parametrize(
    ("value", "unit", "zh", "en"),
    [
        (13.0, "s", "13秒", "13 s"),
        (14400.0, "s", "4小时", "4 hours"),
        (300.0, "m²", "300平方米", "300 m²"),
        (1.1, "index", "1.1", "1.1"),
        (2026.0, "year", "2026", "2026"),
        (2.0, "PB", "2 PB", "2 PB"),
    ],
)
def test_case_study_units_print_per_language(value: float, unit: str, zh: str, en: str) -> None:
    assert (fmt.quantity(value, unit, "zh"), fmt.quantity(value, unit, "en")) == (zh, en)


def test_temperature_range_prints_its_unit_once() -> None:
    assert fmt.quantity_range(50.0, 60.0, "°C", "en") == "50–60°C"
