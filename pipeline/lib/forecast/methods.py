"""Forecast methods as plain functions: history and parameters in, projected points out."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class TrendFit:
    """A log-linear fit ln(value) = intercept + slope * year."""

    intercept: float
    slope: float
    r2: float
    n: int
    first_year: int
    last_year: int

    @property
    def rate(self) -> float:
        """The annual growth rate the slope implies."""
        return math.exp(self.slope) - 1

    def value(self, year: int) -> float:
        """The fitted value in `year`."""
        return math.exp(self.intercept + self.slope * year)


def compound_growth(base_value: float, base_year: int, rate: float, years: list[int]) -> dict[int, float]:
    """value(y) = base × (1 + rate)^(y − base_year), for each y in `years`."""
    if rate <= -1:
        raise ValueError(f"growth rate {rate:.1%} is -100% or lower")
    return {y: base_value * (1 + rate) ** (y - base_year) for y in years}


def implied_rate(base_value: float, base_year: int, target_value: float, target_year: int) -> float:
    """The constant annual rate that takes base_value in base_year to target_value in target_year."""
    if target_year <= base_year:
        raise ValueError(f"target year {target_year} is not after base year {base_year}")
    if base_value <= 0 or target_value <= 0:
        raise ValueError("base and target must be positive")
    return (target_value / base_value) ** (1 / (target_year - base_year)) - 1


def fit_log_linear(history: dict[int, float]) -> TrendFit:
    """Least-squares fit of ln(value) on year; needs at least 4 positive points."""
    points = sorted((y, v) for y, v in history.items() if v > 0)
    n = len(points)
    if n < 4:
        raise ValueError(f"a log-linear trend needs at least 4 points, got {n}")
    xs = [float(y) for y, _ in points]
    ys = [math.log(v) for _, v in points]
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = my - slope * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    r2 = 1 - ss_res / ss_tot if ss_tot > 0 else 1.0
    return TrendFit(intercept, slope, r2, n, points[0][0], points[-1][0])


def historical_cagr(history: dict[int, float]) -> float:
    """CAGR between the first and last points of `history`."""
    years = sorted(history)
    if len(years) < 2:
        raise ValueError("a CAGR needs at least 2 points")
    return implied_rate(history[years[0]], years[0], history[years[-1]], years[-1])


def mape(actual: dict[int, float], forecast: dict[int, float]) -> float:
    """Mean absolute percentage error over the years both hold."""
    years = [y for y in actual if y in forecast]
    if not years:
        raise ValueError("no overlapping years")
    return sum(abs(forecast[y] - actual[y]) / abs(actual[y]) for y in years) / len(years)
