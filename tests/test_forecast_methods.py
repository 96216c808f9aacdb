"""Forecast methods against values computed independently in the test."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.lib.forecast import methods


def test_compound_growth_matches_hand_computation() -> None:
    got = methods.compound_growth(1500.0, 2021, 0.20, [2022, 2025])
    assert got[2022] == pytest.approx(1800.0)
    assert got[2025] == pytest.approx(1500 * 1.2 * 1.2 * 1.2 * 1.2)


def test_compound_growth_rejects_minus_100_percent() -> None:
    with pytest.raises(ValueError):
        methods.compound_growth(1.0, 2021, -1.0, [2022])


def test_target_implied_rate_reaches_the_target() -> None:
    rate = methods.implied_rate(1.5, 2021, 4.4, 2025)
    assert round(rate * 100, 1) == 30.9  # the seed's 1.5 → 4.4万亿 over 2021-2025
    value = 1.5
    for _ in range(4):
        value *= 1 + rate
    assert value == pytest.approx(4.4)


def test_target_year_must_follow_base_year() -> None:
    with pytest.raises(ValueError, match="not after base year"):
        methods.implied_rate(1.0, 2025, 2.0, 2021)


def test_log_linear_fit_recovers_exact_growth() -> None:
    history = {2015 + i: 100 * 1.25**i for i in range(6)}
    fit = methods.fit_log_linear(history)
    assert fit.rate == pytest.approx(0.25)
    assert fit.r2 == pytest.approx(1.0)
    assert fit.value(2021) == pytest.approx(100 * 1.25**6)


def test_log_linear_fit_agrees_with_numpy_on_noisy_data() -> None:
    history = {2015: 378.9, 2016: 514.9, 2017: 691.7, 2018: 962.8, 2020: 2091.3, 2021: 3229.0}
    slope, intercept = np.polyfit(list(history), [math.log(v) for v in history.values()], 1)
    fit = methods.fit_log_linear(history)
    assert fit.slope == pytest.approx(slope)
    assert fit.intercept == pytest.approx(intercept)
    predicted = np.polyval([slope, intercept], list(history))
    resid = np.log(list(history.values())) - predicted
    r2 = 1 - (resid**2).sum() / ((np.log(list(history.values())) - np.log(list(history.values())).mean()) ** 2).sum()
    assert fit.r2 == pytest.approx(r2)
    assert fit.n == 6


def test_trend_needs_four_points() -> None:
    with pytest.raises(ValueError, match="at least 4"):
        methods.fit_log_linear({2019: 1.0, 2020: 2.0, 2021: 3.0})


def test_mape() -> None:
    assert methods.mape({2020: 100.0, 2021: 200.0}, {2020: 110.0, 2021: 150.0}) == pytest.approx((0.1 + 0.25) / 2)
