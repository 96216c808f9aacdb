"""Forecast inputs as data: assumptions, aggregates and published claims (sources/forecast_*.csv).

They are ingested like every source table (raw.<id>); this module reads and validates them, naming the file,
row and column of every problem, before any forecast table is replaced.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipeline.lib.errors import Problem, SourceError
from pipeline.lib.ingest.units import UnknownUnitError, parse_unit

ASSUMPTIONS, AGGREGATES, CLAIMS = "forecast_assumptions", "forecast_aggregates", "forecast_claims"
BOUNDS = "forecast_bounds"
SCENARIOS = ("low", "base", "high")
HISTORY_METHODS = ("trend", "hist_cagr", "best")
DRIVEN_METHODS = ("driver", "share_of")
METHODS = ("cagr", *HISTORY_METHODS, *DRIVEN_METHODS, "target")
COMPARATORS = (">=", "<=", "≈", "cagr>=", "cagr≈")
BOUND_KINDS = ("not_above", "range", "shares_sum", "growth_range")
RATE_MIN, RATE_MAX = -100.0, 200.0


@dataclass(frozen=True)
class Assumption:
    """One row of forecast_assumptions.csv: how one series is projected in one scenario."""

    assumption_id: str
    series_id: str
    geography: str
    segment: str
    scenario: str
    method: str
    rate: float | None
    target_value: float | None
    target_year: int | None
    horizon: int
    rationale_zh: str
    rationale_en: str
    source: str
    row: int
    driver: str | None = None
    share_series: str | None = None


@dataclass(frozen=True)
class Claim:
    """One published claim, evaluated against the base scenario (never reproduced by construction)."""

    claim_id: str
    target: str
    geography: str
    year: int
    comparator: str
    value: float
    tolerance: float
    from_year: int | None
    text_zh: str
    text_en: str
    source: str
    row: int
    stated_growth: float | None = None


@dataclass(frozen=True)
class Bound:
    """One plausibility bound every projection (and, for shares, every actual) must respect."""

    bound_id: str
    kind: str
    series_id: str | None
    quantity: str | None
    other_series_id: str | None
    low: float | None
    high: float | None
    rationale_zh: str
    rationale_en: str
    source: str
    row: int


def _rows(con: duckdb.DuckDBPyConnection, table: str, required: tuple[str, ...]) -> list[dict[str, str]]:
    cur = con.execute(f"SELECT * FROM raw.{table} ORDER BY _row")
    names = [d[0] for d in cur.description]
    missing = [c for c in required if c not in names]
    if missing:
        raise SourceError(Problem(f"sources/{table}.csv", f"missing column(s) {missing}", 1))
    return [
        {k: (v.strip() if isinstance(v, str) else v) for k, v in zip(names, r, strict=True)} for r in cur.fetchall()
    ]


def _number(text: str | None, problems: list[Problem], where: str, row: int, column: str) -> float | None:
    if text in (None, ""):
        return None
    try:
        return float(str(text).replace(",", ""))
    except ValueError:
        problems.append(Problem(where, f"not a number: {text!r}", row, column))
        return None


def _year(text: str | None, problems: list[Problem], where: str, row: int, column: str) -> int | None:
    value = _number(text, problems, where, row, column)
    if value is None:
        return None
    if not value.is_integer() or not 1940 <= value <= 2060:
        problems.append(Problem(where, f"implausible year {text!r}", row, column))
        return None
    return int(value)


def _canonical(
    value: float | None,
    unit: str | None,
    problems: list[Problem],
    where: str,
    row: int,
    column: str,
    fx: dict[str, float],
) -> float | None:
    if value is None:
        return None
    if not unit:
        problems.append(Problem(where, "a value needs its unit", row, column))
        return None
    try:
        u = parse_unit(unit)
    except UnknownUnitError as exc:
        problems.append(Problem(where, str(exc), row, column))
        return None
    rate = 1.0 if u.currency in (None, "CNY") else fx.get(u.currency)
    if rate is None:
        problems.append(Problem(where, f"no FX rate for {u.currency}", row, column))
        return None
    return value * u.factor * rate


def read_assumptions(con: duckdb.DuckDBPyConnection, known_series: set[str], fx: dict[str, float]) -> list[Assumption]:
    """Parse and validate forecast_assumptions; raise SourceError listing every bad row."""
    where = f"sources/{ASSUMPTIONS}.csv"
    rows = _rows(
        con,
        ASSUMPTIONS,
        (
            "assumption_id",
            "series_id",
            "scenario",
            "method",
            "rate_pct",
            "target_value",
            "target_unit",
            "target_year",
            "horizon",
            "rationale_zh",
            "rationale_en",
            "source",
        ),
    )
    problems: list[Problem] = []
    out: list[Assumption] = []
    seen: set[tuple[str, str, str, str]] = set()
    for r in rows:
        row = r["_row"]
        n_before = len(problems)
        if r["series_id"] not in known_series:
            problems.append(
                Problem(
                    where,
                    f"assumption {r['assumption_id']!r} names unknown series {r['series_id']!r}",
                    row,
                    "series_id",
                )
            )
        if r["scenario"] not in SCENARIOS:
            problems.append(Problem(where, f"scenario {r['scenario']!r} not one of {SCENARIOS}", row, "scenario"))
        if r["method"] not in METHODS:
            problems.append(Problem(where, f"method {r['method']!r} not one of {METHODS}", row, "method"))
        rate = _number(r["rate_pct"], problems, where, row, "rate_pct")
        if rate is not None and not RATE_MIN < rate <= RATE_MAX:
            problems.append(
                Problem(where, f"growth rate {rate:g}% outside ({RATE_MIN:g}%, {RATE_MAX:g}%]", row, "rate_pct")
            )
        if r["method"] == "cagr" and rate is None:
            problems.append(Problem(where, "method cagr needs rate_pct", row, "rate_pct"))
        target = _canonical(
            _number(r["target_value"], problems, where, row, "target_value"),
            r["target_unit"],
            problems,
            where,
            row,
            "target_unit",
            fx,
        )
        target_year = _year(r["target_year"], problems, where, row, "target_year")
        if r["method"] == "target" and (target is None or target_year is None):
            problems.append(
                Problem(where, "method target needs target_value, target_unit and target_year", row, "target_value")
            )
        driver, share_series = r.get("driver") or None, r.get("share_series") or None
        if r["method"] in DRIVEN_METHODS and driver is None:
            problems.append(
                Problem(where, f"method {r['method']} needs a driver (a series or aggregate)", row, "driver")
            )
        if r["method"] == "share_of" and share_series not in known_series:
            problems.append(
                Problem(
                    where,
                    f"method share_of needs share_series, a known series (got {share_series!r})",
                    row,
                    "share_series",
                )
            )
        horizon = _year(r["horizon"], problems, where, row, "horizon")
        if horizon is None and not any(p.row == row and p.column == "horizon" for p in problems):
            problems.append(Problem(where, "horizon (last projected year) is required", row, "horizon"))
        geo, seg = r.get("geography") or "CN", r.get("segment") or "total"
        key = (r["series_id"], geo, seg, r["scenario"])
        if key in seen:
            problems.append(Problem(where, f"second {r['scenario']} assumption for {r['series_id']}", row, "scenario"))
        seen.add(key)
        if len(problems) == n_before:
            out.append(
                Assumption(
                    r["assumption_id"],
                    r["series_id"],
                    geo,
                    seg,
                    r["scenario"],
                    r["method"],
                    None if rate is None else rate / 100,
                    target,
                    target_year,
                    horizon,
                    r["rationale_zh"],
                    r["rationale_en"],
                    r["source"],
                    row,
                    driver,
                    share_series,
                )
            )
    if problems:
        raise SourceError(problems)
    return out


def read_aggregates(con: duckdb.DuckDBPyConnection, known_series: set[str]) -> dict[str, dict]:
    """{aggregate_id: {'members': [...], 'name_zh':..., 'name_en':...}} from forecast_aggregates."""
    where = f"sources/{AGGREGATES}.csv"
    rows = _rows(con, AGGREGATES, ("aggregate_id", "member_series_id", "name_zh", "name_en"))
    problems, out = [], {}
    for r in rows:
        if r["member_series_id"] not in known_series:
            problems.append(
                Problem(where, f"unknown member series {r['member_series_id']!r}", r["_row"], "member_series_id")
            )
        agg = out.setdefault(r["aggregate_id"], {"members": [], "name_zh": r["name_zh"], "name_en": r["name_en"]})
        agg["members"].append(r["member_series_id"])
    if problems:
        raise SourceError(problems)
    return out


def read_claims(con: duckdb.DuckDBPyConnection, targets: set[str], fx: dict[str, float]) -> list[Claim]:
    """Parse and validate forecast_claims."""
    where = f"sources/{CLAIMS}.csv"
    rows = _rows(
        con,
        CLAIMS,
        (
            "claim_id",
            "target",
            "year",
            "comparator",
            "value",
            "unit",
            "tolerance_pct",
            "from_year",
            "text_zh",
            "text_en",
            "source",
        ),
    )
    problems: list[Problem] = []
    out = []
    for r in rows:
        row, n_before = r["_row"], len(problems)
        if r["target"] not in targets:
            problems.append(
                Problem(
                    where,
                    f"claim target {r['target']!r} is neither a series with assumptions nor an aggregate",
                    row,
                    "target",
                )
            )
        if r["comparator"] not in COMPARATORS:
            problems.append(
                Problem(where, f"comparator {r['comparator']!r} not one of {COMPARATORS}", row, "comparator")
            )
        year = _year(r["year"], problems, where, row, "year")
        from_year = _year(r["from_year"], problems, where, row, "from_year")
        raw_value = _number(r["value"], problems, where, row, "value")
        value = (
            (raw_value / 100 if raw_value is not None else None)
            if r["comparator"].startswith("cagr")
            else _canonical(raw_value, r["unit"], problems, where, row, "unit", fx)
        )
        tol = _number(r["tolerance_pct"], problems, where, row, "tolerance_pct") or 0.0
        stated = _number(r.get("stated_growth_pct"), problems, where, row, "stated_growth_pct")
        if r["comparator"].startswith("cagr") and from_year is None:
            problems.append(Problem(where, "a CAGR claim needs from_year", row, "from_year"))
        if len(problems) == n_before:
            out.append(
                Claim(
                    r["claim_id"],
                    r["target"],
                    r.get("geography") or "CN",
                    year,
                    r["comparator"],
                    value,
                    tol / 100,
                    from_year,
                    r["text_zh"],
                    r["text_en"],
                    r["source"],
                    row,
                    None if stated is None else stated / 100,
                )
            )
    if problems:
        raise SourceError(problems)
    return out


def read_bounds(con: duckdb.DuckDBPyConnection, known_series: set[str], quantities: set[str]) -> list[Bound]:
    """Parse and validate forecast_bounds: what a projection may not do, each bound with its rationale and source."""
    where = f"sources/{BOUNDS}.csv"
    rows = _rows(
        con,
        BOUNDS,
        (
            "bound_id",
            "kind",
            "series_id",
            "quantity",
            "other_series_id",
            "low",
            "high",
            "rationale_zh",
            "rationale_en",
            "source",
        ),
    )
    problems: list[Problem] = []
    out = []
    for r in rows:
        row, n_before = r["_row"], len(problems)
        kind, sid, qty, other = r["kind"], r["series_id"] or None, r["quantity"] or None, r["other_series_id"] or None
        if kind not in BOUND_KINDS:
            problems.append(Problem(where, f"kind {kind!r} not one of {BOUND_KINDS}", row, "kind"))
        if (sid is None) == (qty is None):
            problems.append(Problem(where, "give either series_id or quantity", row, "series_id"))
        if sid is not None and sid not in known_series:
            problems.append(Problem(where, f"unknown series {sid!r}", row, "series_id"))
        if qty is not None and qty not in quantities:
            problems.append(Problem(where, f"unknown quantity {qty!r} (one of {sorted(quantities)})", row, "quantity"))
        if kind == "not_above" and other not in known_series:
            problems.append(
                Problem(
                    where, f"not_above needs other_series_id, a known series (got {other!r})", row, "other_series_id"
                )
            )
        low = _number(r["low"], problems, where, row, "low")
        high = _number(r["high"], problems, where, row, "high")
        if kind in ("range", "shares_sum", "growth_range") and low is None and high is None:
            problems.append(Problem(where, f"{kind} needs low or high", row, "high"))
        if not r["source"]:
            problems.append(Problem(where, "every bound names its source", row, "source"))
        if len(problems) == n_before:
            growth = kind == "growth_range"
            out.append(
                Bound(
                    r["bound_id"],
                    kind,
                    sid,
                    qty,
                    other,
                    None if low is None else (low / 100 if growth else low),
                    None if high is None else (high / 100 if growth else high),
                    r["rationale_zh"],
                    r["rationale_en"],
                    r["source"],
                    row,
                )
            )
    if problems:
        raise SourceError(problems)
    return out
