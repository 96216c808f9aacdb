"""Unit parsing: scale words, currencies, compute prefixes, unknown units."""

import pytest

from pipeline.lib.ingest.units import UnknownUnitError, parse_unit, split_header_unit


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
