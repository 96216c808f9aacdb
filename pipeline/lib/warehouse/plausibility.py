"""Plausibility on intake: values a table cannot mean, caught before they reach the report.

Three rules over `core.observations`, by the series' quantity in `sources/series.csv`:
- magnitude: a value outside its quantity's bounds (a money value above 1,000万亿元 is more than the world's
  GDP: a unit or digit error, e.g. 亿元 cells typed in yuan);
- yearly change: a level (money, compute, count, energy, carbon) moving more than ×MAX_YEARLY_RATIO a year
  against the neighbouring year of the same series (latest vintages, across tables);
- revision: a newer vintage more than ×MAX_REVISION_RATIO away from the previous vintage's value for the same
  year.

A value out of bounds is refused unless its table's manifest entry accepts it under `accept_outliers` with a
reason; accepted values are kept in `core.accepted_outliers` (and listed in the edition's changelog). The
bounds are validation thresholds, not report numbers: docs/add-a-source.md explains them.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipeline.lib.errors import Problem
from pipeline.lib.ingest.manifest import OutlierAcceptance, TableSpec


@dataclass(frozen=True)
class Bounds:
    """Allowed range of one series quantity, in its canonical unit (None: unbounded on that side)."""

    quantity: str
    low: float | None
    high: float | None
    unit: str
    why: str


BOUNDS = (
    Bounds("money", 0.0, 1e15, "CNY", "1,000万亿元 / RMB 1,000 tn, more than the world's GDP"),
    Bounds("compute", 0.0, 1e6, "EFLOPS", "1,000,000 EFLOPS, ~20x the largest 2030 outlook (56 ZFLOPS)"),
    Bounds("operations", 0.0, 1e21, "ops/s", "1e21 operations per second, ~1,000x the fastest computer"),
    Bounds("count", 0.0, 1e13, "count", "10 trillion, more than anything these reports count"),
    Bounds("energy", 0.0, 1e14, "kWh", "100,000亿千瓦时, more than the world's electricity use"),
    Bounds("carbon", 0.0, 1e11, "t", "1,000亿吨, more than the world's yearly emissions"),
    Bounds("training", 0.0, 1e9, "PF-days", "1e9 PF-days, ~4,000x the largest published training run"),
    Bounds("chip", 0.0, 1e7, "TOPS", "10 million TOPS on one chip"),
    Bounds("duration", 0.0, 200.0, "years", "200 years"),
    Bounds("ratio", 0.0, 1e5, "x", "a multiple of 100,000"),
    Bounds("share", 0.0, 1000.0, "%", "1,000%"),
    Bounds("growth", -100.0, 10000.0, "%", "growth of 10,000% (and falls beyond -100%)"),
)
LEVEL_QUANTITIES = ("money", "compute", "count", "energy", "carbon")
MAX_YEARLY_RATIO = 5.0
MAX_REVISION_RATIO = 3.0
LIMIT = 20


@dataclass(frozen=True)
class Flagged:
    """One observation outside the bounds, where it sits in its source, and why."""

    source_id: str
    src_row: int
    src_col: str
    series_id: str
    geography: str
    segment: str
    year: int
    value: float
    why: str


def _bounds_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _bounds (quantity VARCHAR, low DOUBLE, high DOUBLE, unit VARCHAR, why VARCHAR)"
    )
    con.executemany(
        "INSERT INTO _bounds VALUES (?, ?, ?, ?, ?)", [(b.quantity, b.low, b.high, b.unit, b.why) for b in BOUNDS]
    )


def _cell(value_text: str | None, unit: str | None) -> str:
    return f"{value_text!r} {unit or ''}".strip()


def _magnitude(con: duckdb.DuckDBPyConnection) -> list[Flagged]:
    rows = con.execute(
        """
        SELECT o.source_id, o.src_row, o.src_col, o.series_id, o.geography, o.segment, o.year, o.value,
               o.value_text, o.unit_orig, coalesce(o.value_low, o.value), coalesce(o.value_high, o.value),
               b.low, b.high, b.unit, b.why
        FROM core.observations o JOIN raw.series_catalog s USING (series_id) JOIN _bounds b ON b.quantity = s.quantity
        WHERE coalesce(o.value_low, o.value) < b.low OR coalesce(o.value_high, o.value) > b.high
        ORDER BY o.source_id, o.src_row, o.src_col LIMIT ?""",
        [LIMIT],
    ).fetchall()
    out = []
    for r in rows:
        series, geo, year, text, unit, low_v, high_v, low, high, canon, why = (*r[3:5], r[6], *r[8:])
        above = high_v > high
        side = f"above the bound for {series}'s kind of value ({why})" if above else f"below {low:,.6g} {canon}"
        shown = high_v if above else low_v
        out.append(Flagged(*r[:8], f"{series} {geo} {year} = {_cell(text, unit)} ({shown:,.6g} {canon}) is {side}"))
    return out


def _yearly_change(con: duckdb.DuckDBPyConnection) -> list[tuple[Flagged, Flagged]]:
    """Pairs (earlier, later) of neighbouring years whose ratio per year exceeds MAX_YEARLY_RATIO."""
    levels = ", ".join(f"'{q}'" for q in LEVEL_QUANTITIES)
    rows = con.execute(
        f"""
        WITH latest AS (
            SELECT o.* FROM core.observations o JOIN raw.series_catalog s USING (series_id)
            WHERE s.quantity IN ({levels}) AND o.value > 0
            QUALIFY row_number() OVER (PARTITION BY series_id, geography, segment, year ORDER BY vintage DESC) = 1),
        pairs AS (
            SELECT *, lag(struct_pack(source_id, src_row, src_col, year, value, value_text, unit_orig)) OVER (
                PARTITION BY series_id, geography, segment ORDER BY year) AS prev FROM latest)
        SELECT series_id, geography, segment, prev.source_id, prev.src_row, prev.src_col, prev.year, prev.value,
               prev.value_text, prev.unit_orig, source_id, src_row, src_col, year, value, value_text, unit_orig
        FROM pairs
        WHERE prev IS NOT NULL
          AND pow(greatest(value / prev.value, prev.value / value), 1.0 / (year - prev.year)) > ?
        ORDER BY series_id, geography, segment, year LIMIT ?""",
        [MAX_YEARLY_RATIO, LIMIT],
    ).fetchall()
    out = []
    for series, geo, seg, psid, prow, pcol, pyear, pvalue, ptext, punit, sid, row, col, year, value, text, unit in rows:
        ratio = value / pvalue
        change = f"{ratio:,.4g}x" if ratio >= 1 else f"1/{1 / ratio:,.4g}"
        why = (
            f"{series} {geo} {year} = {_cell(text, unit)} is {change} the {pyear} value {_cell(ptext, punit)}"
            f" (more than x{MAX_YEARLY_RATIO:g} a year)"
        )
        out.append(
            (
                Flagged(psid, prow, pcol, series, geo, seg, pyear, pvalue, why),
                Flagged(sid, row, col, series, geo, seg, year, value, why),
            )
        )
    return out


def _revisions(con: duckdb.DuckDBPyConnection) -> list[Flagged]:
    """Newer vintages more than MAX_REVISION_RATIO away from the previous vintage of the same year."""
    rows = con.execute(
        """
        WITH v AS (
            SELECT *, lag(struct_pack(source_id, value, value_text, unit_orig, vintage)) OVER (
                PARTITION BY series_id, geography, segment, year ORDER BY vintage) AS prev
            FROM core.observations WHERE value > 0)
        SELECT source_id, src_row, src_col, series_id, geography, segment, year, value, value_text, unit_orig,
               prev.source_id, prev.value_text, prev.unit_orig, prev.vintage
        FROM v WHERE prev IS NOT NULL AND prev.value > 0 AND greatest(value / prev.value, prev.value / value) > ?
        ORDER BY source_id, src_row, src_col LIMIT ?""",
        [MAX_REVISION_RATIO, LIMIT],
    ).fetchall()
    out = []
    for r in rows:
        (series, geo, year), (text, unit, psid, ptext, punit, pvintage) = (*r[3:5], r[6]), r[8:]
        why = (
            f"{series} {geo} {year} = {_cell(text, unit)} revises {_cell(ptext, punit)} of {psid} ({pvintage}) "
            f"by more than x{MAX_REVISION_RATIO:g}"
        )
        out.append(Flagged(*r[:8], why))
    return out


@dataclass(frozen=True)
class AcceptedOutlier:
    """A value out of bounds that its entry accepted, with the entry's reason and the rule it broke."""

    source_id: str
    series_id: str
    geography: str
    segment: str
    year: int
    value: float
    reason: str
    rule: str


@dataclass(frozen=True)
class Verdict:
    """What the intake rules found: refused values (as problems) and accepted ones."""

    problems: list[Problem]
    accepted: list[AcceptedOutlier]


def _acceptance(flag: Flagged, accepts: dict[str, tuple[OutlierAcceptance, ...]]) -> OutlierAcceptance | None:
    return next(
        (
            a
            for a in accepts.get(flag.source_id, ())
            if a.matches(flag.series_id, flag.geography, flag.segment, flag.year)
        ),
        None,
    )


def _hint(flag: Flagged) -> str:
    return (
        f"check the unit and the digits; if the value is right, accept it in the table's manifest entry: "
        f"`accept_outliers: [{{series: {flag.series_id}, year: {flag.year}, reason: ...}}]`"
    )


def judge(con: duckdb.DuckDBPyConnection, specs: list[TableSpec]) -> Verdict:
    """Apply the three rules to core.observations; acceptances come from the entries' `accept_outliers`, and an
    acceptance that matches nothing is a problem too."""
    verdict = _judge(
        con, {s.id: f"sources/{s.file}" for s in specs}, {s.id: s.accept_outliers for s in specs if s.accept_outliers}
    )
    used = {(a.source_id, a.series_id, a.year) for a in verdict.accepted}
    for spec in specs:
        for acceptance in spec.accept_outliers:
            if (spec.id, acceptance.series, acceptance.year) not in used:
                verdict.problems.append(
                    Problem(
                        "sources/manifest.yaml",
                        f"entry {spec.id!r}: accept_outliers item for {acceptance.series} "
                        f"{acceptance.year} matches no value outside the intake bounds; remove it",
                        column="accept_outliers",
                    )
                )
    return verdict


def recheck(con: duckdb.DuckDBPyConnection) -> list[Problem]:
    """The rules again over a built warehouse, with the acceptances it recorded (core.accepted_outliers)."""
    files = dict(con.execute("SELECT source_id, 'sources/' || file FROM core.sources").fetchall())
    accepts: dict[str, list[OutlierAcceptance]] = {}
    has_table = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'core' AND table_name = 'accepted_outliers'"
    ).fetchone()[0]
    if has_table:
        for sid, series, geo, seg, year, reason in con.execute(
            "SELECT source_id, series_id, geography, segment, year, reason FROM core.accepted_outliers"
        ).fetchall():
            accepts.setdefault(sid, []).append(
                OutlierAcceptance(series=series, year=year, reason=reason, geography=geo, segment=seg)
            )
    return _judge(con, files, {k: tuple(v) for k, v in accepts.items()}).problems


def _judge(
    con: duckdb.DuckDBPyConnection, files: dict[str, str], accepts: dict[str, tuple[OutlierAcceptance, ...]]
) -> Verdict:
    _bounds_table(con)
    problems: list[Problem] = []
    accepted: list[AcceptedOutlier] = []
    seen: set[tuple[str, int, str]] = set()  # cells already judged: one message per cell

    def consider(flags: list[Flagged], rule: str, blamed: Flagged) -> None:
        cells = {(f.source_id, f.src_row, f.src_col) for f in flags}
        if cells & seen:
            return
        seen.update(cells)
        for flag in flags:
            acceptance = _acceptance(flag, accepts)
            if acceptance is not None:
                accepted.append(
                    AcceptedOutlier(
                        flag.source_id,
                        flag.series_id,
                        flag.geography,
                        flag.segment,
                        flag.year,
                        flag.value,
                        acceptance.reason,
                        rule,
                    )
                )
                return
        problems.append(
            Problem(
                files.get(blamed.source_id, blamed.source_id),
                f"{blamed.why}; {_hint(blamed)}",
                blamed.src_row,
                blamed.src_col,
            )
        )

    for flag in _magnitude(con):
        consider([flag], "magnitude", flag)
    for earlier, later in _yearly_change(con):
        consider([later, earlier], "yearly change", later)
    for flag in _revisions(con):
        consider([flag], "revision", flag)
    con.execute("DROP TABLE _bounds")
    return Verdict(problems, sorted(set(accepted), key=lambda a: (a.source_id, a.series_id, a.year, a.rule)))


def write_accepted(con: duckdb.DuckDBPyConnection, accepted: list[AcceptedOutlier]) -> None:
    """core.accepted_outliers: the values out of bounds that an entry accepted, with its reason."""
    con.execute(
        "CREATE OR REPLACE TABLE core.accepted_outliers (source_id VARCHAR, series_id VARCHAR, "
        "geography VARCHAR, segment VARCHAR, year INTEGER, value DOUBLE, reason VARCHAR, rule VARCHAR)"
    )
    if accepted:
        con.executemany(
            "INSERT INTO core.accepted_outliers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(a.source_id, a.series_id, a.geography, a.segment, a.year, a.value, a.reason, a.rule) for a in accepted],
        )
