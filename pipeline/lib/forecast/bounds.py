"""Plausibility bounds on the forecasts (sources/forecast_bounds.csv): a part not above its whole, shares within
0-100% and summing to at most 100%, average growth inside a range per kind of quantity. Every projection of every
scenario is checked; a violation names the bound, the series, scenario, year and both numbers."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.lib.forecast.history import SeriesKey
from pipeline.lib.forecast.inputs import BOUNDS, Bound
from pipeline.lib.forecast.projection import Projection

WHERE = f"sources/{BOUNDS}.csv"
SCALE = {"money": ((1e12, "万亿元"), (1e8, "亿元")), "count": ((1e4, "万"),), "energy": ((1e8, "亿千瓦时"),)}


@dataclass(frozen=True)
class Violation:
    """One number that breaks a bound."""

    bound_id: str
    series_id: str
    scenario: str
    year: int
    value: float
    limit: float
    message: str


def show(value: float, quantity: str | None) -> str:
    """A number an analyst reads at a glance: 216.3万亿元, 2,324万, 81.2%."""
    if quantity == "share":
        return f"{value:.1f}%"
    for factor, unit in SCALE.get(quantity or "", ()):
        if abs(value) >= factor:
            return f"{value / factor:,.1f}{unit}"
    return f"{value:,.4g}"


def _broken_limit(value: float, b: Bound) -> float | None:
    """The limit of `b` that `value` breaks (low or high), or None when it lies inside."""
    if b.low is not None and value < b.low:
        return b.low
    if b.high is not None and value > b.high:
        return b.high
    return None


def _interval(b: Bound, pattern: str) -> str:
    """`[low, high]` with an open end shown as … (e.g. `[-30%, 60%]`, `[…, 100]`)."""
    return "[" + ", ".join("…" if v is None else format(v, pattern) for v in (b.low, b.high)) + "]"


def check_bounds(
    bounds: list[Bound],
    projections: list[Projection],
    hists: dict[SeriesKey, dict[int, float]],
    quantity_of: dict[str, str],
    share_years: dict[str, dict[int, list[tuple[str, float]]]],
) -> list[Violation]:
    """Every violation of every bound; `share_years` holds, per series checked by `shares_sum`, the actual shares
    of each year as (geography, value)."""
    scenario_value = {(p.series_id, p.scenario, p.year): p.value for p in projections if p.geography == "CN"}

    def at(series_id: str, scenario: str, year: int) -> float | None:
        for s in (scenario, "base"):
            if (series_id, s, year) in scenario_value:
                return scenario_value[(series_id, s, year)]
        return hists.get((series_id, "CN", "total"), {}).get(year)

    out: list[Violation] = []
    for b in bounds:
        label = f"bound {b.bound_id!r} ({WHERE}, row {b.row})"
        if b.kind == "not_above":
            q = quantity_of.get(b.series_id)
            for p in (p for p in projections if p.series_id == b.series_id):
                whole = at(b.other_series_id, p.scenario, p.year)
                if whole is None:
                    message = (
                        f"{label}: {b.other_series_id} has no {p.year} value to check {p.series_id} "
                        f"({p.scenario}) against; give it an assumption up to {p.year}"
                    )
                elif p.value > whole:
                    message = (
                        f"{label}: {p.series_id} ({p.scenario}) {p.year} = {show(p.value, q)} is above "
                        f"{b.other_series_id} {p.year} = {show(whole, q)}"
                    )
                else:
                    continue
                limit = float("nan") if whole is None else whole
                out.append(Violation(b.bound_id, p.series_id, p.scenario, p.year, p.value, limit, message))
        elif b.kind == "range":
            points = [(p.scenario, p.year, p.value) for p in projections if p.series_id == b.series_id]
            points += [("actual", y, v) for (s, _g, _seg), h in hists.items() if s == b.series_id for y, v in h.items()]
            for scenario, year, value in points:
                if (limit := _broken_limit(value, b)) is not None:
                    message = f"{label}: {b.series_id} ({scenario}) {year} = {value:,.4g} outside {_interval(b, 'g')}"
                    out.append(Violation(b.bound_id, b.series_id, scenario, year, value, limit, message))
        elif b.kind == "shares_sum":
            for year, parts in sorted(share_years.get(b.series_id, {}).items()):
                total = sum(v for _g, v in parts)
                if b.high is not None and total > b.high:
                    listed = ", ".join(f"{g} {v:g}" for g, v in parts)
                    message = f"{label}: {b.series_id} {year} adds up to {total:g} ({listed}), above {b.high:g}"
                    out.append(Violation(b.bound_id, b.series_id, "actual", year, total, b.high, message))
        else:
            for p in projections:
                if not (p.series_id == b.series_id or (b.quantity and quantity_of.get(p.series_id) == b.quantity)):
                    continue
                if (limit := _broken_limit(p.rate, b)) is not None:
                    message = (
                        f"{label}: {p.series_id} ({p.scenario}) grows {p.rate:.1%} a year from {p.base_year} to "
                        f"{p.year}, outside {_interval(b, '.0%')}"
                    )
                    out.append(Violation(b.bound_id, p.series_id, p.scenario, p.year, p.rate, limit, message))
    return out
