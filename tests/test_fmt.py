"""Number formats a reader sees: no negative zero, large counts in the words an English reader uses."""

from __future__ import annotations

from pipeline.lib.report import fmt


def test_a_rate_that_rounds_to_zero_has_no_sign() -> None:
    assert fmt.percent(-0.00001, "en") == "0.0%"
    assert fmt.percent(-0.00001, "zh") == "0.0%"
    assert fmt.percent(-0.012, "en") == "-1.2%"


def test_counts_of_a_trillion_and_more_read_as_trillions() -> None:
    assert fmt.count(1.75e12, "en") == "1.75 trillion"
    assert fmt.count(1.75e12, "zh") == "1.75万亿"
    assert fmt.count(6.887e6, "en") == "6.89 million"


def test_cover_date_per_language() -> None:
    assert fmt.month_year("2023-07-01", "zh") == "2023年7月"
    assert fmt.month_year("2024-02-29", "en") == "February 2024"
