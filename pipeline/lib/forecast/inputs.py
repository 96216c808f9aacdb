"""Forecast inputs as data: assumptions, aggregates and published claims (sources/forecast_*.csv).

They are ingested like every source table (raw.<id>); this module reads each row through its model (`rows`), checks
what needs the warehouse (known series, units, FX) and names the file, row and column of every problem, before any
forecast table is replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import duckdb

from pipeline.lib.db import records, table_name
from pipeline.lib.errors import Problem, SourceError
from pipeline.lib.forecast.rows import DRIVEN_METHODS, AggregateRow, AssumptionRow, BoundRow, ClaimRow
from pipeline.lib.ingest.tidy import PROVENANCE
from pipeline.lib.ingest.units import UnknownUnitError, parse_unit
from pipeline.lib.validation import InputModel, header_problems, validate

ASSUMPTIONS, AGGREGATES, CLAIMS = "forecast_assumptions", "forecast_aggregates", "forecast_claims"
BOUNDS = "forecast_bounds"
Row = TypeVar("Row", bound=InputModel)


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


def _read_rows(
    con: duckdb.DuckDBPyConnection, table: str, model: type[Row]
) -> tuple[list[tuple[int, Row]], list[Problem]]:
    """The rows of raw.<table> as `model` records with their line in the file, and the problems of the rows that are
    not; a header without a required column or with a column the model does not know is refused at once."""
    where = f"sources/{table}.csv"
    cur = con.execute(f"SELECT * FROM {table_name('raw', table)} ORDER BY _row")
    header = [d[0] for d in cur.description if d[0] not in PROVENANCE]
    if problems := header_problems(model, header, where):
        raise SourceError(problems)
    out: list[tuple[int, Row]] = []
    for r in records(cur):
        values = {k: (v.strip() if isinstance(v, str) else v) for k, v in r.items() if k not in PROVENANCE}
        record, bad = validate(model, values, where, r["_row"], noun="column")
        problems += bad
        if record is not None:
            out.append((r["_row"], record))
    return out, problems


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
    rows, problems = _read_rows(con, ASSUMPTIONS, AssumptionRow)
    out: list[Assumption] = []
    seen: set[tuple[str | None, str, str, str]] = set()
    for row, r in rows:
        n_before = len(problems)
        if r.series_id not in known_series:
            problems.append(
                Problem(where, f"assumption {r.assumption_id!r} names unknown series {r.series_id!r}", row, "series_id")
            )
        if r.method == "cagr" and r.rate_pct is None:
            problems.append(Problem(where, "method cagr needs rate_pct", row, "rate_pct"))
        target = _canonical(r.target_value, r.target_unit, problems, where, row, "target_unit", fx)
        if r.method == "target" and (target is None or r.target_year is None):
            problems.append(
                Problem(where, "method target needs target_value, target_unit and target_year", row, "target_value")
            )
        if r.method in DRIVEN_METHODS and r.driver is None:
            problems.append(Problem(where, f"method {r.method} needs a driver (a series or aggregate)", row, "driver"))
        if r.method == "share_of" and r.share_series not in known_series:
            problems.append(
                Problem(
                    where,
                    f"method share_of needs share_series, a known series (got {r.share_series!r})",
                    row,
                    "share_series",
                )
            )
        geo, seg = r.geography or "CN", r.segment or "total"
        key = (r.series_id, geo, seg, r.scenario)
        if key in seen:
            problems.append(Problem(where, f"second {r.scenario} assumption for {r.series_id}", row, "scenario"))
        seen.add(key)
        if len(problems) == n_before:
            out.append(
                Assumption(
                    r.assumption_id,
                    r.series_id,
                    geo,
                    seg,
                    r.scenario,
                    r.method,
                    None if r.rate_pct is None else r.rate_pct / 100,
                    target,
                    r.target_year,
                    r.horizon,
                    r.rationale_zh,
                    r.rationale_en,
                    r.source,
                    row,
                    r.driver,
                    r.share_series,
                )
            )
    if problems:
        raise SourceError(problems)
    return out


@dataclass(frozen=True)
class Aggregate:
    """A named sum of series (forecast_aggregates.csv): its members and its names."""

    members: list[str]
    name_zh: str | None
    name_en: str | None


def read_aggregates(con: duckdb.DuckDBPyConnection, known_series: set[str]) -> dict[str, Aggregate]:
    """{aggregate_id: Aggregate} from forecast_aggregates."""
    where = f"sources/{AGGREGATES}.csv"
    rows, problems = _read_rows(con, AGGREGATES, AggregateRow)
    out: dict[str, Aggregate] = {}
    for row, r in rows:
        if r.member_series_id not in known_series:
            problems.append(Problem(where, f"unknown member series {r.member_series_id!r}", row, "member_series_id"))
        agg = out.setdefault(r.aggregate_id, Aggregate([], r.name_zh, r.name_en))
        agg.members.append(r.member_series_id)
    if problems:
        raise SourceError(problems)
    return out


def read_claims(con: duckdb.DuckDBPyConnection, targets: set[str], fx: dict[str, float]) -> list[Claim]:
    """Parse and validate forecast_claims."""
    where = f"sources/{CLAIMS}.csv"
    rows, problems = _read_rows(con, CLAIMS, ClaimRow)
    out = []
    for row, r in rows:
        n_before = len(problems)
        if r.target not in targets:
            problems.append(
                Problem(
                    where,
                    f"claim target {r.target!r} is neither a series with assumptions nor an aggregate",
                    row,
                    "target",
                )
            )
        growth = r.comparator.startswith("cagr")
        if growth:
            value = None if r.value is None else r.value / 100
        else:
            value = _canonical(r.value, r.unit, problems, where, row, "unit", fx)
        if growth and r.from_year is None:
            problems.append(Problem(where, "a CAGR claim needs from_year", row, "from_year"))
        if len(problems) == n_before:
            out.append(
                Claim(
                    r.claim_id,
                    r.target,
                    r.geography or "CN",
                    r.year,
                    r.comparator,
                    value,
                    (r.tolerance_pct or 0.0) / 100,
                    r.from_year,
                    r.text_zh,
                    r.text_en,
                    r.source,
                    row,
                    None if r.stated_growth_pct is None else r.stated_growth_pct / 100,
                )
            )
    if problems:
        raise SourceError(problems)
    return out


def read_bounds(con: duckdb.DuckDBPyConnection, known_series: set[str], quantities: set[str]) -> list[Bound]:
    """Parse and validate forecast_bounds: what a projection may not do, each bound with its rationale and source."""
    where = f"sources/{BOUNDS}.csv"
    rows, problems = _read_rows(con, BOUNDS, BoundRow)
    out = []
    for row, r in rows:
        n_before = len(problems)
        kind, sid, qty, other = r.kind, r.series_id, r.quantity, r.other_series_id
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
        if kind in ("range", "shares_sum", "growth_range") and r.low is None and r.high is None:
            problems.append(Problem(where, f"{kind} needs low or high", row, "high"))
        if len(problems) == n_before:
            growth = kind == "growth_range"
            out.append(
                Bound(
                    r.bound_id,
                    kind,
                    sid,
                    qty,
                    other,
                    None if r.low is None else (r.low / 100 if growth else r.low),
                    None if r.high is None else (r.high / 100 if growth else r.high),
                    r.rationale_zh,
                    r.rationale_en,
                    r.source,
                    row,
                )
            )
    if problems:
        raise SourceError(problems)
    return out
