"""The forecast engine: projections per assumption, claims evaluated against the independent base scenario,
plausibility bounds, sensitivity, a leak-free backtest and forecast-vs-actual across vintages. Reads core.* and
raw.forecast_*; writes forecast.* in one transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields

import duckdb
import pandas as pd

from pipeline.lib.db import table_name, transaction
from pipeline.lib.errors import Problem, SourceError
from pipeline.lib.forecast import backtest as bt
from pipeline.lib.forecast.bounds import Violation, check_bounds
from pipeline.lib.forecast.claims import ClaimResult, claim_messages, evaluate_claims
from pipeline.lib.forecast.history import Point, SeriesKey, history, history_points, values
from pipeline.lib.forecast.inputs import (
    ASSUMPTIONS,
    Assumption,
    Bound,
    Claim,
    read_aggregates,
    read_assumptions,
    read_bounds,
    read_claims,
)
from pipeline.lib.forecast.projection import Projection, project_all
from pipeline.lib.warehouse.core import RATE_SERIES

SENSITIVITY_PP = (-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5)
BACKTEST_QUANTITIES = ("money", "compute", "count", "energy", "carbon")
WHERE = f"sources/{ASSUMPTIONS}.csv"

__all__ = ["history", "run_forecasts", "claim_messages", "ForecastInputs"]


@dataclass(frozen=True)
class ForecastInputs:
    """Everything the engine reads, validated."""

    assumptions: list[Assumption]
    aggregates: dict[str, list[str]]
    names: dict[str, tuple[str, str]]
    claims: list[Claim]
    bounds: list[Bound]


def read_inputs(con: duckdb.DuckDBPyConnection) -> ForecastInputs:
    """Read and validate the forecast inputs; a claim-evaluated series may not have a base scenario that uses the
    claim's target or the claim's own stated growth."""
    known = dict(con.execute("SELECT series_id, quantity FROM core.series").fetchall())
    fx = dict(con.execute("SELECT currency, cny_per_unit FROM core.fx_rates").fetchall())
    assumptions = read_assumptions(con, set(known), fx)
    raw_aggregates = read_aggregates(con, set(known))
    aggregates = {k: v.members for k, v in raw_aggregates.items()}
    names = {k: (v.name_zh, v.name_en) for k, v in raw_aggregates.items()}
    claims = read_claims(con, {a.series_id for a in assumptions} | set(aggregates), fx)
    bounds = read_bounds(con, set(known), set(known.values()))
    problems = []
    for c in claims:
        for m in aggregates.get(c.target, [c.target]):
            for a in (a for a in assumptions if a.series_id == m and a.scenario == "base"):
                if a.method == "target":
                    problems.append(
                        Problem(
                            WHERE,
                            f"{a.assumption_id!r}: the base scenario of {m}, which claim {c.claim_id!r} "
                            "is evaluated against, may not use method target (it would reproduce the claim); "
                            "use its history (trend, hist_cagr, best), a driver or a sourced rate",
                            a.row,
                            "method",
                        )
                    )
                if a.method == "cagr" and c.stated_growth is not None and abs(a.rate - c.stated_growth) < 1e-9:
                    problems.append(
                        Problem(
                            WHERE,
                            f"{a.assumption_id!r}: the base rate {a.rate:.0%} is the growth claim "
                            f"{c.claim_id!r} itself assumes; the base must be independent of the claim",
                            a.row,
                            "rate_pct",
                        )
                    )
    if problems:
        raise SourceError(problems)
    return ForecastInputs(assumptions, aggregates, names, claims, bounds)


def _keys(inputs: ForecastInputs) -> set[SeriesKey]:
    keys = {(a.series_id, a.geography, a.segment) for a in inputs.assumptions}
    keys |= {(m, "CN", "total") for members in inputs.aggregates.values() for m in members}
    keys |= {(b.other_series_id, "CN", "total") for b in inputs.bounds if b.other_series_id}
    return keys


def _assumption_problems(assumptions: list[Assumption], hists: dict[SeriesKey, dict[int, float]]) -> list[Problem]:
    problems = []
    for a in assumptions:
        hist = hists[(a.series_id, a.geography, a.segment)]
        if not hist:
            problems.append(
                Problem(
                    WHERE,
                    f"assumption {a.assumption_id!r}: no actual value of {a.series_id} "
                    f"({a.geography}/{a.segment}) to start from",
                    a.row,
                    "series_id",
                )
            )
            continue
        base_year = max(hist)
        if a.method == "target" and a.target_year <= base_year:
            problems.append(
                Problem(
                    WHERE,
                    f"assumption {a.assumption_id!r}: target year {a.target_year} is not after the base "
                    f"year {base_year}",
                    a.row,
                    "target_year",
                )
            )
        if a.horizon <= base_year:
            problems.append(
                Problem(
                    WHERE,
                    f"assumption {a.assumption_id!r}: horizon {a.horizon} is not after the base year {base_year}",
                    a.row,
                    "horizon",
                )
            )
        if a.method == "trend" and len(hist) < 4:
            problems.append(
                Problem(
                    WHERE,
                    f"assumption {a.assumption_id!r}: trend needs 4 actual points, {a.series_id} has {len(hist)}",
                    a.row,
                    "method",
                )
            )
    return problems


def backtest_all(con: duckdb.DuckDBPyConnection, extra: set[SeriesKey]) -> tuple[list[bt.BacktestRow], dict]:
    """Rolling-origin backtest of every series with enough points (and of `extra`); rows and the chosen methods."""
    groups = {
        tuple(r)
        for r in con.execute(
            "SELECT series_id, geography, segment FROM core.observations_latest WHERE NOT is_outlook "
            "AND list_contains(?, quantity) AND NOT list_contains(?, series_id) "
            "GROUP BY ALL HAVING count(DISTINCT year) >= ?",
            [list(BACKTEST_QUANTITIES), list(RATE_SERIES), bt.MIN_POINTS],
        ).fetchall()
    } | extra
    rows: list[bt.BacktestRow] = []
    choices: dict[SeriesKey, str] = {}
    for key in sorted(groups):
        points = history_points(con, key)
        if len(points) < bt.MIN_POINTS:
            continue
        series_rows = bt.rolling_origin(key, points)
        rows += series_rows
        if (best := bt.best_method(series_rows)) is not None:
            choices[key] = best
    return rows, choices


def project_as_of(
    con: duckdb.DuckDBPyConnection,
    inputs: ForecastInputs,
    as_of: dt.date | None = None,
    shift: float = 0.0,
    focus: SeriesKey | None = None,
) -> tuple[list[Projection], dict[SeriesKey, dict[int, float]], list[bt.BacktestRow]]:
    """Projections from all data, or, with `focus` and `as_of`, as they stood for `focus` at that vintage: its own
    history published on or before `as_of`, every other series up to its base year only (no later information
    enters through a driver)."""
    points: dict[SeriesKey, dict[int, Point]] = {k: history_points(con, k) for k in _keys(inputs)}
    if focus is not None:
        points[focus] = history_points(con, focus, as_of)
        if points[focus]:
            cutoff = max(points[focus])
            points = {k: p if k == focus else {y: v for y, v in p.items() if y <= cutoff} for k, p in points.items()}
    hists = {k: values(p) for k, p in points.items()}
    checked = [a for a in inputs.assumptions if focus is None or (a.series_id, a.geography, a.segment) == focus]
    problems = _assumption_problems(checked, hists)
    if problems:
        raise SourceError(problems)
    rows, choices = [], {}
    for a in inputs.assumptions:
        key = (a.series_id, a.geography, a.segment)
        if a.method != "best" or key in choices or len(points[key]) < bt.MIN_POINTS:
            continue
        if (best := bt.best_method(bt.rolling_origin(key, points[key]))) is not None:
            choices[key] = best
    if focus is None:
        rows, _ = backtest_all(con, set())
    only = None if focus is None else {focus[0]}
    return project_all(inputs.assumptions, hists, inputs.aggregates, choices, shift, only), hists, rows


def sensitivity(con: duckdb.DuckDBPyConnection, inputs: ForecastInputs, results: list[ClaimResult]) -> list[dict]:
    """Value of each assessed claim's target in its claim year when every growth rate moves by ±1..5 pp."""
    shifted = {pp: project_as_of(con, inputs, shift=pp / 100)[0] for pp in SENSITIVITY_PP}
    rows = []
    for c in (r for r in results if r.ours is not None and not r.comparator.startswith("cagr")):
        members = inputs.aggregates.get(c.target, [c.target])
        for pp, projections in shifted.items():
            at = {p.series_id: p.value for p in projections if p.scenario == "base" and p.year == c.year}
            if all(m in at for m in members):
                rows.append(
                    {
                        "target": c.target,
                        "claim_id": c.claim_id,
                        "year": c.year,
                        "delta_pp": pp,
                        "value": sum(at[m] for m in members),
                        "claimed": c.claimed,
                    }
                )
    return rows


def forecast_vs_actual(con: duckdb.DuckDBPyConnection, inputs: ForecastInputs) -> list[dict]:
    """For every vintage of a base-scenario series, the forecast made from its history as published up to that
    vintage (its basis) against any actual a later vintage brought for a year after the basis."""
    rows = []
    made: dict[tuple[dt.date, SeriesKey], list[Projection] | None] = {}
    for a in (a for a in inputs.assumptions if a.scenario == "base"):
        key = (a.series_id, a.geography, a.segment)
        vintages = [
            v
            for (v,) in con.execute(
                "SELECT DISTINCT vintage FROM core.observations WHERE series_id = ? AND geography = ? AND segment = ? "
                "ORDER BY vintage",
                list(key),
            ).fetchall()
        ]
        for i, v in enumerate(vintages[:-1]):
            if (v, key) not in made:
                try:
                    made[(v, key)] = project_as_of(con, inputs, as_of=v, focus=key)[0]
                except (SourceError, ValueError):
                    made[(v, key)] = None
            if made[(v, key)] is None:
                continue
            forecast = {p.year: p for p in made[(v, key)] if p.assumption_id == a.assumption_id}
            if not forecast:
                continue
            last_actual = min(forecast.values(), key=lambda p: p.year).base_year
            for later in vintages[i + 1 :]:
                for year, actual in con.execute(
                    "SELECT year, value FROM core.observations WHERE series_id = ? AND geography = ? AND "
                    "segment = ? AND vintage = ? AND NOT is_outlook",
                    [*key, later],
                ).fetchall():
                    if year in forecast and year > last_actual:
                        rows.append(
                            {
                                "series_id": a.series_id,
                                "geography": a.geography,
                                "segment": a.segment,
                                "year": year,
                                "forecast_vintage": v,
                                "forecast": forecast[year].value,
                                "actual_vintage": later,
                                "actual": actual,
                                "error_pct": (forecast[year].value - actual) / actual * 100,
                                "method": a.method,
                            }
                        )
    return rows


def _write(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict], columns: list[str]) -> None:
    frame = pd.DataFrame(rows, columns=columns)
    con.register("_frame", frame)
    target = table_name("forecast", name)
    con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM _frame")  # noqa: S608 (a quoted identifier)
    con.unregister("_frame")


def _columns(record: type) -> list[str]:
    return [f.name for f in fields(record)]


def _share_years(con: duckdb.DuckDBPyConnection, bounds: list[Bound]) -> dict[str, dict[int, list[tuple[str, float]]]]:
    out: dict[str, dict[int, list[tuple[str, float]]]] = {}
    for b in (b for b in bounds if b.kind == "shares_sum"):
        for year, geo, value in con.execute(
            "SELECT year, geography, value FROM core.observations_latest WHERE series_id = ? AND segment = 'total' "
            "AND NOT is_outlook AND geography <> 'GLOBAL' ORDER BY year, geography",
            [b.series_id],
        ).fetchall():
            out.setdefault(b.series_id, {}).setdefault(int(year), []).append((geo, float(value)))
    return out


def run_forecasts(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict]]:
    """Validate the inputs, compute every forecast table and swap them in one transaction. Bound violations are
    written to forecast.violations (the blocking check reads them), not raised."""
    inputs = read_inputs(con)
    projections, hists, backtest_rows = project_as_of(con, inputs)
    results = evaluate_claims(inputs.claims, inputs.aggregates, projections, hists)
    quantity_of = dict(con.execute("SELECT series_id, quantity FROM core.series").fetchall())
    violations = check_bounds(inputs.bounds, projections, hists, quantity_of, _share_years(con, inputs.bounds))
    tables = {
        "assumptions": [asdict(a) for a in inputs.assumptions],
        "projections": [asdict(p) for p in projections],
        "headlines": [asdict(r) for r in results],
        "sensitivity": sensitivity(con, inputs, results),
        "backtest": [asdict(r) for r in backtest_rows],
        "forecast_vs_actual": forecast_vs_actual(con, inputs),
        "aggregates": [
            {"aggregate_id": k, "member_series_id": m, "name_zh": inputs.names[k][0], "name_en": inputs.names[k][1]}
            for k, members in inputs.aggregates.items()
            for m in members
        ],
        "bounds": [asdict(b) for b in inputs.bounds],
        "violations": [asdict(v) for v in violations],
    }
    columns = {
        "assumptions": _columns(Assumption),
        "projections": _columns(Projection),
        "headlines": _columns(ClaimResult),
        "sensitivity": ["target", "claim_id", "year", "delta_pp", "value", "claimed"],
        "backtest": _columns(bt.BacktestRow),
        "forecast_vs_actual": [
            "series_id",
            "geography",
            "segment",
            "year",
            "forecast_vintage",
            "forecast",
            "actual_vintage",
            "actual",
            "error_pct",
            "method",
        ],
        "aggregates": ["aggregate_id", "member_series_id", "name_zh", "name_en"],
        "bounds": _columns(Bound),
        "violations": _columns(Violation),
    }
    con.execute("CREATE SCHEMA IF NOT EXISTS forecast")
    with transaction(con):
        for name, rows in tables.items():
            _write(con, name, rows, columns[name])
    return tables


def implausible(tables: dict[str, list[dict]]) -> list[str]:
    """The bound violations of a forecast run, one message each (empty = plausible)."""
    return [v["message"] for v in tables["violations"]]
