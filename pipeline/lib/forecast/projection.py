"""Projections of every assumption: growth-rate methods on a series' own history, driven methods on the projection
of another series (same scenario). Problems name the assumption's row."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.lib.errors import Problem, SourceError
from pipeline.lib.forecast import methods
from pipeline.lib.forecast.history import SeriesKey
from pipeline.lib.forecast.inputs import ASSUMPTIONS, DRIVEN_METHODS, Assumption

WHERE = f"sources/{ASSUMPTIONS}.csv"


@dataclass(frozen=True)
class Projection:
    """One projected point and how it was made."""

    assumption_id: str
    series_id: str
    geography: str
    segment: str
    scenario: str
    year: int
    value: float
    method: str
    base_year: int
    base_value: float
    rate: float
    fit_r2: float | None
    fit_points: int | None
    fitted_method: str | None = None
    driver: str | None = None


@dataclass
class Projector:
    """Projects assumptions on histories; `choices` holds the backtest's method for series using `best`."""

    assumptions: list[Assumption]
    hists: dict[SeriesKey, dict[int, float]]
    aggregates: dict[str, list[str]]
    choices: dict[SeriesKey, str]
    shift: float = 0.0
    _done: dict[tuple[str, str], dict[int, float]] = field(default_factory=dict)
    _busy: set[tuple[str, str]] = field(default_factory=set)
    out: list[Projection] = field(default_factory=list)

    def _assumption(self, series_id: str, scenario: str) -> Assumption | None:
        return next(
            (
                a
                for a in self.assumptions
                if a.series_id == series_id and a.scenario == scenario and a.geography == "CN"
            ),
            None,
        )

    def path(self, name: str, scenario: str, user: Assumption) -> dict[int, float]:
        """Actual and projected values by year of a series or an aggregate (sum of members) in `scenario`."""
        members = self.aggregates.get(name, [name])
        paths = []
        for m in members:
            a = self._assumption(m, scenario)
            if a is None:
                raise SourceError(
                    Problem(
                        WHERE,
                        f"{user.assumption_id!r} is driven by {m!r}, which has no {scenario} assumption",
                        user.row,
                        "driver",
                    )
                )
            paths.append({**self.hists[(m, "CN", "total")], **self.project(a)})
        common = set.intersection(*(set(p) for p in paths))
        return {y: sum(p[y] for p in paths) for y in sorted(common)}

    def rate_for(self, a: Assumption, hist: dict[int, float]) -> tuple[float, methods.TrendFit | None, str | None]:
        """(annual rate, trend fit, method the backtest chose) of a growth-rate assumption."""
        method = self.choices.get((a.series_id, a.geography, a.segment)) if a.method == "best" else a.method
        if a.method == "best" and method is None:
            raise SourceError(
                Problem(
                    WHERE,
                    f"{a.assumption_id!r}: method best needs a backtest of {a.series_id} (at least 5 actual points)",
                    a.row,
                    "method",
                )
            )
        fitted = method if a.method == "best" else None
        base_year = max(hist)
        if method == "cagr":
            return a.rate, None, fitted
        if method == "naive":
            return 0.0, None, fitted
        if method == "hist_cagr":
            if len(hist) < 2:
                raise SourceError(
                    Problem(WHERE, f"{a.assumption_id!r}: hist_cagr needs 2 actual points", a.row, "method")
                )
            return methods.historical_cagr(hist), None, fitted
        if method == "target":
            return methods.implied_rate(hist[base_year], base_year, a.target_value, a.target_year), None, fitted
        fit = methods.fit_log_linear(hist)
        return fit.rate, fit, fitted

    def project(self, a: Assumption) -> dict[int, float]:
        """Values by year from the year after the last actual to the horizon; records the Projection rows."""
        key = (a.assumption_id, a.scenario)
        if key in self._done:
            return self._done[key]
        if key in self._busy:
            raise SourceError(Problem(WHERE, f"{a.assumption_id!r}: its drivers lead back to it", a.row, "driver"))
        self._busy.add(key)
        hist = self.hists[(a.series_id, a.geography, a.segment)]
        base_year = max(hist)
        base_value = hist[base_year]
        years = list(range(base_year + 1, a.horizon + 1))
        fit, fitted = None, None
        if a.method in DRIVEN_METHODS:
            values = self._driven(a, base_year, base_value, years)
        else:
            rate, fit, fitted = self.rate_for(a, hist)
            values = methods.compound_growth(base_value, base_year, rate + self.shift, years)
        for y, v in values.items():
            rate = (v / base_value) ** (1 / (y - base_year)) - 1 if base_value > 0 and v > 0 else float("nan")
            self.out.append(
                Projection(
                    a.assumption_id,
                    a.series_id,
                    a.geography,
                    a.segment,
                    a.scenario,
                    y,
                    v,
                    a.method,
                    base_year,
                    base_value,
                    rate,
                    fit.r2 if fit else None,
                    fit.n if fit else None,
                    fitted,
                    a.driver,
                )
            )
        self._busy.discard(key)
        self._done[key] = values
        return values

    def _driven(self, a: Assumption, base_year: int, base_value: float, years: list[int]) -> dict[int, float]:
        driver = self.path(a.driver, a.scenario, a)
        missing = [y for y in (base_year, *years) if y not in driver]
        if a.method == "driver":
            if missing:
                raise SourceError(
                    Problem(
                        WHERE, f"{a.assumption_id!r}: driver {a.driver!r} has no value for {missing}", a.row, "driver"
                    )
                )
            return {y: base_value * driver[y] / driver[base_year] for y in years}
        share = self.path(a.share_series, a.scenario, a)
        missing += [y for y in years if y not in share]
        if [y for y in missing if y != base_year]:
            raise SourceError(
                Problem(
                    WHERE,
                    f"{a.assumption_id!r}: {a.driver!r} or {a.share_series!r} has no value for {sorted(set(missing))}",
                    a.row,
                    "driver",
                )
            )
        return {y: share[y] / 100 * driver[y] for y in years}


def project_all(
    assumptions: list[Assumption],
    hists: dict[SeriesKey, dict[int, float]],
    aggregates: dict[str, list[str]],
    choices: dict[SeriesKey, str],
    shift: float = 0.0,
    only: set[str] | None = None,
) -> list[Projection]:
    """Every assumption's projection (or those of the series in `only` and what drives them); `shift` moves every
    growth-rate method's rate (driven ones follow)."""
    projector = Projector(assumptions, hists, aggregates, choices, shift)
    for a in assumptions:
        if only is None or a.series_id in only:
            projector.project(a)
    return sorted(projector.out, key=lambda p: (p.series_id, p.scenario, p.year))
