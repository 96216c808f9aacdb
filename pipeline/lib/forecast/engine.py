"""The forecast engine: projections per assumption, aggregates, headline claims, sensitivity, backtest and
forecast-vs-actual across vintages. Reads core.* and raw.forecast_*; writes forecast.* in one transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

import duckdb
import pandas as pd

from pipeline.lib.db import transaction
from pipeline.lib.errors import Problem, SourceError
from pipeline.lib.forecast import methods
from pipeline.lib.forecast.inputs import Assumption, Claim, read_aggregates, read_assumptions, read_claims

SENSITIVITY_PP = (-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5)
BACKTEST_MIN_POINTS = 5
BACKTEST_MIN_TRAIN = 3
BACKTEST_QUANTITIES = ("money", "compute", "count", "energy", "carbon")


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


def history(
    con: duckdb.DuckDBPyConnection,
    series_id: str,
    geography: str = "CN",
    segment: str = "total",
    as_of: dt.date | None = None,
) -> dict[int, float]:
    """Actual (non-outlook) values by year, each from the latest vintage published on or before `as_of`."""
    sql = (
        "SELECT year, value FROM core.observations WHERE series_id = ? AND geography = ? AND segment = ? "
        "AND NOT is_outlook"
    )
    params: list = [series_id, geography, segment]
    if as_of is not None:
        sql += " AND vintage <= ?"
        params.append(as_of)
    sql += " QUALIFY row_number() OVER (PARTITION BY year ORDER BY vintage DESC) = 1"
    return {int(y): float(v) for y, v in con.execute(sql, params).fetchall()}


def rate_for(a: Assumption, hist: dict[int, float]) -> tuple[float, int, float, methods.TrendFit | None]:
    """(annual rate, base year, base value, fit) for an assumption on a history."""
    base_year = max(hist)
    base_value = hist[base_year]
    if a.method == "cagr":
        return a.rate, base_year, base_value, None
    if a.method == "target":
        return methods.implied_rate(base_value, base_year, a.target_value, a.target_year), base_year, base_value, None
    fit = methods.fit_log_linear(hist)
    return fit.rate, base_year, base_value, fit


def project(a: Assumption, hist: dict[int, float], rate_shift: float = 0.0) -> list[Projection]:
    """Project `a` on `hist` from its last actual to its horizon (trend = fitted rate anchored on the last
    actual; target = the constant rate that reaches the target)."""
    rate, base_year, base_value, fit = rate_for(a, hist)
    years = list(range(base_year + 1, a.horizon + 1))
    values = methods.compound_growth(base_value, base_year, rate + rate_shift, years)
    return [
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
            rate + rate_shift,
            fit.r2 if fit else None,
            fit.n if fit else None,
        )
        for y, v in values.items()
    ]


def _assumption_problems(assumptions: list[Assumption], hists: dict[tuple, dict[int, float]]) -> list[Problem]:
    where = "sources/forecast_assumptions.csv"
    problems = []
    for a in assumptions:
        hist = hists[(a.series_id, a.geography, a.segment)]
        if not hist:
            problems.append(
                Problem(
                    where,
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
                    where,
                    f"assumption {a.assumption_id!r}: target year {a.target_year} is not "
                    f"after the base year {base_year}",
                    a.row,
                    "target_year",
                )
            )
        if a.horizon <= base_year:
            problems.append(
                Problem(
                    where,
                    f"assumption {a.assumption_id!r}: horizon {a.horizon} is not after the base year {base_year}",
                    a.row,
                    "horizon",
                )
            )
        if a.method == "trend" and len(hist) < 4:
            problems.append(
                Problem(
                    where,
                    f"assumption {a.assumption_id!r}: trend needs 4 actual points, {a.series_id} has {len(hist)}",
                    a.row,
                    "method",
                )
            )
    return problems


def _value_at(projections: list[Projection], hists: dict, series_id: str, scenario: str, year: int) -> float | None:
    for p in projections:
        if p.series_id == series_id and p.scenario == scenario and p.year == year and p.geography == "CN":
            return p.value
    return hists.get((series_id, "CN", "total"), {}).get(year)


def evaluate_claims(claims: list[Claim], aggregates: dict, projections: list[Projection], hists: dict) -> list[dict]:
    """Compare the base scenario with each published claim; returns one row per claim with pass/fail."""
    rows = []
    for c in claims:
        members = aggregates[c.target]["members"] if c.target in aggregates else [c.target]
        parts = [_value_at(projections, hists, m, "base", c.year) for m in members]
        ours = sum(parts) if all(p is not None for p in parts) else None
        start = c.from_year or max(max(hists.get((m, "CN", "total"), {0: 0})) for m in members)
        starts = [_value_at(projections, hists, m, "base", start) for m in members]
        base = sum(starts) if all(s is not None for s in starts) else None
        cagr = methods.implied_rate(base, start, ours, c.year) if ours and base and c.year > start else None
        if ours is None:
            passed, gap = False, None
        elif c.comparator == ">=":
            passed, gap = ours >= c.value * (1 - 1e-9), ours / c.value - 1
        elif c.comparator == "<=":
            passed, gap = ours <= c.value * (1 + 1e-9), ours / c.value - 1
        elif c.comparator == "≈":
            gap = ours / c.value - 1
            passed = abs(gap) <= c.tolerance
        elif c.comparator == "cagr>=":
            passed, gap = cagr is not None and cagr >= c.value - 1e-9, (cagr or 0) - c.value
        else:
            gap = (cagr or 0) - c.value
            passed = cagr is not None and abs(gap) <= c.tolerance
        rows.append(
            {
                "claim_id": c.claim_id,
                "target": c.target,
                "year": c.year,
                "comparator": c.comparator,
                "claimed": c.value,
                "tolerance": c.tolerance,
                "ours": ours,
                "from_year": start,
                "from_value": base,
                "implied_cagr": cagr,
                "gap": gap,
                "passed": passed,
                "text_zh": c.text_zh,
                "text_en": c.text_en,
                "source": c.source,
            }
        )
    return rows


def sensitivity(assumptions: list[Assumption], aggregates: dict, claims: list[Claim], hists: dict) -> list[dict]:
    """Value of each claimed target in its claim year when every base growth rate moves by ±1..5 pp."""
    base = {a.series_id: a for a in assumptions if a.scenario == "base" and a.geography == "CN"}
    rows = []
    for c in claims:
        if c.comparator.startswith("cagr"):
            continue
        members = aggregates[c.target]["members"] if c.target in aggregates else [c.target]
        if not all(m in base for m in members):
            continue
        for pp in SENSITIVITY_PP:
            total = 0.0
            for m in members:
                a = base[m]
                proj = project(a, hists[(m, a.geography, a.segment)], pp / 100)
                total += next(p.value for p in proj if p.year == c.year)
            rows.append(
                {
                    "target": c.target,
                    "claim_id": c.claim_id,
                    "year": c.year,
                    "delta_pp": pp,
                    "value": total,
                    "claimed": c.value,
                }
            )
    return rows


def backtest(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Hold back the last 1 and 2 actuals of every series with ≥5 points; MAPE of each method on them."""
    groups = con.execute(f"""
        SELECT series_id, geography, segment FROM core.observations_latest
        WHERE NOT is_outlook AND quantity IN ({", ".join("'" + q + "'" for q in BACKTEST_QUANTITIES)})
        GROUP BY ALL HAVING count(DISTINCT year) >= {BACKTEST_MIN_POINTS} ORDER BY ALL""").fetchall()
    rows = []
    for series_id, geo, seg in groups:
        hist = history(con, series_id, geo, seg)
        years = sorted(hist)
        for hold in (1, 2):
            train = {y: hist[y] for y in years[:-hold]}
            test = {y: hist[y] for y in years[-hold:]}
            if len(train) < BACKTEST_MIN_TRAIN:
                continue
            last = max(train)
            candidates = {"naive": 0.0, "cagr": methods.historical_cagr(train)}
            if len(train) >= 4:
                candidates["trend"] = methods.fit_log_linear(train).rate
            for method, rate in candidates.items():
                fc = methods.compound_growth(train[last], last, rate, list(test))
                rows.append(
                    {
                        "series_id": series_id,
                        "geography": geo,
                        "segment": seg,
                        "holdout_years": hold,
                        "train_from": years[0],
                        "train_to": last,
                        "method": method,
                        "rate": rate,
                        "mape": methods.mape(test, fc),
                        "n_train": len(train),
                    }
                )
    return rows


def forecast_vs_actual(con: duckdb.DuckDBPyConnection, assumptions: list[Assumption]) -> list[dict]:
    """For every vintage of a base-scenario series, the forecast made with data as of that vintage vs the actual
    a later vintage brought for the same year."""
    rows = []
    for a in (a for a in assumptions if a.scenario == "base"):
        vintages = [
            v
            for (v,) in con.execute(
                "SELECT DISTINCT vintage FROM core.observations WHERE series_id = ? AND geography = ? AND segment = ? "
                "ORDER BY vintage",
                [a.series_id, a.geography, a.segment],
            ).fetchall()
        ]
        for i, v in enumerate(vintages[:-1]):
            hist_then = history(con, a.series_id, a.geography, a.segment, as_of=v)
            if not hist_then:
                continue
            try:
                fc = {p.year: p.value for p in project(a, hist_then)}
            except ValueError:
                continue
            for later in vintages[i + 1 :]:
                for year, actual in con.execute(
                    "SELECT year, value FROM core.observations WHERE series_id = ? AND geography = ? AND "
                    "segment = ? AND vintage = ? AND NOT is_outlook",
                    [a.series_id, a.geography, a.segment, later],
                ).fetchall():
                    if year in fc and year > max(hist_then):
                        rows.append(
                            {
                                "series_id": a.series_id,
                                "geography": a.geography,
                                "segment": a.segment,
                                "year": year,
                                "forecast_vintage": v,
                                "forecast": fc[year],
                                "actual_vintage": later,
                                "actual": actual,
                                "error_pct": (fc[year] - actual) / actual * 100,
                                "method": a.method,
                            }
                        )
    return rows


def _write(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict], columns: list[str]) -> None:
    frame = pd.DataFrame(rows, columns=columns)
    con.register("_frame", frame)
    con.execute(f"CREATE OR REPLACE TABLE forecast.{name} AS SELECT * FROM _frame")
    con.unregister("_frame")


def run_forecasts(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict]]:
    """Validate the inputs, compute every forecast table and swap them in one transaction."""
    known = {s for (s,) in con.execute("SELECT series_id FROM core.series").fetchall()}
    fx = dict(con.execute("SELECT currency, cny_per_unit FROM core.fx_rates").fetchall())
    assumptions = read_assumptions(con, known, fx)
    aggregates = read_aggregates(con, known)
    targets = {a.series_id for a in assumptions} | set(aggregates)
    claims = read_claims(con, targets, fx)
    keys = {(a.series_id, a.geography, a.segment) for a in assumptions}
    keys |= {(m, "CN", "total") for agg in aggregates.values() for m in agg["members"]}
    hists = {k: history(con, *k) for k in keys}
    problems = _assumption_problems(assumptions, hists)
    if problems:
        raise SourceError(problems)
    projections = [p for a in assumptions for p in project(a, hists[(a.series_id, a.geography, a.segment)])]
    tables = {
        "assumptions": [asdict(a) for a in assumptions],
        "projections": [asdict(p) for p in projections],
        "headlines": evaluate_claims(claims, aggregates, projections, hists),
        "sensitivity": sensitivity(assumptions, aggregates, claims, hists),
        "backtest": backtest(con),
        "forecast_vs_actual": forecast_vs_actual(con, assumptions),
        "aggregates": [
            {"aggregate_id": k, "member_series_id": m, "name_zh": v["name_zh"], "name_en": v["name_en"]}
            for k, v in aggregates.items()
            for m in v["members"]
        ],
    }
    columns = {
        "assumptions": list(Assumption.__dataclass_fields__),
        "projections": list(Projection.__dataclass_fields__),
        "headlines": [
            "claim_id",
            "target",
            "year",
            "comparator",
            "claimed",
            "tolerance",
            "ours",
            "from_year",
            "from_value",
            "implied_cagr",
            "gap",
            "passed",
            "text_zh",
            "text_en",
            "source",
        ],
        "sensitivity": ["target", "claim_id", "year", "delta_pp", "value", "claimed"],
        "backtest": [
            "series_id",
            "geography",
            "segment",
            "holdout_years",
            "train_from",
            "train_to",
            "method",
            "rate",
            "mape",
            "n_train",
        ],
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
    }
    con.execute("CREATE SCHEMA IF NOT EXISTS forecast")
    with transaction(con):
        for name, rows in tables.items():
            _write(con, name, rows, columns[name])
    return tables


def failed_claims(headlines: list[dict]) -> list[str]:
    """Human-readable messages for the claims the base scenario does not reproduce."""
    out = []
    for h in headlines:
        if h["passed"]:
            continue
        if h["ours"] is None:
            out.append(f"{h['claim_id']} ({h['text_en']}): no base-scenario value for {h['year']}")
        elif h["comparator"].startswith("cagr"):
            out.append(
                f"{h['claim_id']} ({h['text_en']}): implied CAGR {h['implied_cagr']:.1%} vs claimed "
                f"{h['claimed']:.1%} ({h['gap'] * 100:+.1f} pp)"
            )
        else:
            out.append(
                f"{h['claim_id']} ({h['text_en']}): base scenario gives {h['ours']:,.4g} vs claimed "
                f"{h['comparator']} {h['claimed']:,.4g} ({h['gap']:+.1%})"
            )
    return out
