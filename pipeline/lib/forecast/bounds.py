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


def check_bounds(
    bounds: list[Bound],
    projections: list[Projection],
    hists: dict[SeriesKey, dict[int, float]],
    quantity_of: dict[str, str],
    share_years: dict[int, list[tuple[str, float]]],
) -> list[Violation]:
    """Every violation of every bound; `share_years` holds, per series checked by `shares_sum`, the actual shares
    of each year as (geography, value)."""
    out: list[Violation] = []
    scenario_value = {(p.series_id, p.scenario, p.year): p.value for p in projections if p.geography == "CN"}

    def at(series_id: str, scenario: str, year: int) -> float | None:
        for s in (scenario, "base"):
            if (series_id, s, year) in scenario_value:
                return scenario_value[(series_id, s, year)]
        return hists.get((series_id, "CN", "total"), {}).get(year)

    for b in bounds:
        label = f"bound {b.bound_id!r} ({WHERE}, row {b.row})"
        if b.kind == "not_above":
            for p in (p for p in projections if p.series_id == b.series_id):
                whole = at(b.other_series_id, p.scenario, p.year)
                q = quantity_of.get(b.series_id)
                if whole is None:
                    out.append(
                        Violation(
                            b.bound_id,
                            p.series_id,
                            p.scenario,
                            p.year,
                            p.value,
                            float("nan"),
                            f"{label}: {b.other_series_id} has no {p.year} value to check "
                            f"{p.series_id} ({p.scenario}) against; give it an assumption up to "
                            f"{p.year}",
                        )
                    )
                elif p.value > whole:
                    out.append(
                        Violation(
                            b.bound_id,
                            p.series_id,
                            p.scenario,
                            p.year,
                            p.value,
                            whole,
                            f"{label}: {p.series_id} ({p.scenario}) {p.year} = {show(p.value, q)} "
                            f"is above {b.other_series_id} {p.year} = {show(whole, q)}",
                        )
                    )
        elif b.kind == "range":
            points = [(p.scenario, p.year, p.value) for p in projections if p.series_id == b.series_id]
            points += [("actual", y, v) for (s, _g, _seg), h in hists.items() if s == b.series_id for y, v in h.items()]
            for scenario, year, value in points:
                if (b.low is not None and value < b.low) or (b.high is not None and value > b.high):
                    out.append(
                        Violation(
                            b.bound_id,
                            b.series_id,
                            scenario,
                            year,
                            value,
                            b.high if b.high is not None and value > b.high else b.low,
                            f"{label}: {b.series_id} ({scenario}) {year} = {value:,.4g} outside "
                            f"[{b.low:g}, {b.high:g}]",
                        )
                    )
        elif b.kind == "shares_sum":
            for year, parts in sorted(share_years.get(b.series_id, {}).items()):
                total = sum(v for _g, v in parts)
                if b.high is not None and total > b.high:
                    listed = ", ".join(f"{g} {v:g}" for g, v in parts)
                    out.append(
                        Violation(
                            b.bound_id,
                            b.series_id,
                            "actual",
                            year,
                            total,
                            b.high,
                            f"{label}: {b.series_id} {year} adds up to {total:g} ({listed}), above {b.high:g}",
                        )
                    )
        else:
            for p in projections:
                if not (p.series_id == b.series_id or (b.quantity and quantity_of.get(p.series_id) == b.quantity)):
                    continue
                if (b.low is not None and p.rate < b.low) or (b.high is not None and p.rate > b.high):
                    out.append(
                        Violation(
                            b.bound_id,
                            p.series_id,
                            p.scenario,
                            p.year,
                            p.rate,
                            b.high if b.high is not None and p.rate > b.high else b.low,
                            f"{label}: {p.series_id} ({p.scenario}) grows {p.rate:.1%} a year from "
                            f"{p.base_year} to {p.year}, outside [{b.low:.0%}, {b.high:.0%}]",
                        )
                    )
    return out
