"""Data checks as plain functions: each returns a list of problems (empty = passed).

Ingestion already refuses bad input; these re-verify what is in the warehouse, so a check turns red if a
table was changed behind the pipeline's back or the code regresses. Dagster wraps them as blocking checks.
"""

from __future__ import annotations

import duckdb

from pipeline.lib.db import table_name
from pipeline.lib.ingest.formula import evaluate
from pipeline.lib.ingest.tidy import NEGATIVE_OK, TIDY_COLUMNS, YEAR_MAX, YEAR_MIN
from pipeline.lib.ingest.units import UnknownUnitError, parse_unit
from pipeline.lib.warehouse import plausibility

ADDITIVE = ("money", "compute", "count", "energy", "carbon")
TOTAL_TOLERANCE = 0.01


def _first_rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    """The first 20 rows of `sql` (what a check lists)."""
    return con.execute(sql + " LIMIT 20", params or []).fetchall()


def tidy_schema(con: duckdb.DuckDBPyConnection, table_id: str) -> list[str]:
    """tidy.<id> exists and has exactly the tidy columns."""
    cols = [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "'tidy' AND table_name = ? ORDER BY ordinal_position",
            [table_id],
        ).fetchall()
    ]
    if not cols:
        return [f"tidy.{table_id} does not exist"]
    if tuple(cols) != TIDY_COLUMNS:
        return [f"tidy.{table_id} columns {cols} differ from {list(TIDY_COLUMNS)}"]
    return []


def known_units(con: duckdb.DuckDBPyConnection, table_id: str) -> list[str]:
    """Every unit string parses and its canonical unit was recorded."""
    out = []
    for text, row in con.execute(
        f"SELECT unit_text, min(src_row) FROM {table_name('tidy', table_id)} GROUP BY 1"
    ).fetchall():
        try:
            parse_unit(text or "")
        except UnknownUnitError as exc:
            out.append(f"row {row}: {exc}")
    out += [
        f"row {r[0]}: unit {r[1]!r} has no canonical unit"
        for r in _first_rows(
            con,
            f"SELECT src_row, unit_text FROM {table_name('tidy', table_id)} "
            "WHERE canonical_unit IS NULL OR factor IS NULL",
        )
    ]
    return out


def plausible_years(con: duckdb.DuckDBPyConnection, table_id: str) -> list[str]:
    """Years within the plausible range."""
    return [
        f"row {r[0]}: year {r[1]} outside {YEAR_MIN}-{YEAR_MAX}"
        for r in _first_rows(
            con,
            f"SELECT src_row, year FROM {table_name('tidy', table_id)} WHERE year IS NULL OR year NOT BETWEEN ? AND ?",
            [YEAR_MIN, YEAR_MAX],
        )
    ]


def unique_keys(con: duckdb.DuckDBPyConnection, table_id: str) -> list[str]:
    """No two rows share series × geography × segment × year."""
    return [
        f"rows {r[4]}: duplicate key {r[0]}/{r[1]}/{r[2]}/{r[3]}"
        for r in _first_rows(
            con,
            f"SELECT series_id, geography, segment, year, list(src_row) FROM {table_name('tidy', table_id)} "
            "GROUP BY ALL HAVING count(*) > 1",
        )
    ]


def no_negative_sizes(con: duckdb.DuckDBPyConnection, table_id: str) -> list[str]:
    """Sizes (everything but growth rates and 'other') are not negative."""
    return [
        f"row {r[0]}: negative value {r[1]:g} for {r[2]}"
        for r in _first_rows(
            con,
            f"SELECT t.src_row, t.value_orig, t.series_id FROM {table_name('tidy', table_id)} t "
            "LEFT JOIN raw.series_catalog c ON c.series_id = t.series_id "
            "WHERE t.value_orig < 0 AND NOT list_contains(?, coalesce(c.quantity, ''))",
            [list(NEGATIVE_OK)],
        )
    ]


TABLE_CHECKS = {
    "schema": tidy_schema,
    "known_units": known_units,
    "plausible_years": plausible_years,
    "unique_keys": unique_keys,
    "no_negative_sizes": no_negative_sizes,
}


def totals_consistent(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Where a source gives both a total and ≥2 parts (e.g. global compute = basic + intelligent +
    supercomputing), the parts add up to the total within 1%."""
    rows = con.execute(
        """
        WITH parts AS (
            SELECT series_id, geography, year, vintage, sum(value) AS parts, count(*) AS n, list(segment) AS segs
            FROM core.observations WHERE segment <> 'total' AND list_contains($additive, quantity)
            GROUP BY ALL HAVING count(*) >= 2)
        SELECT o.series_id, o.geography, o.year, o.value, p.parts, p.segs FROM core.observations o
        JOIN parts p USING (series_id, geography, year, vintage)
        WHERE o.segment = 'total' AND abs(p.parts - o.value) > $tolerance * abs(o.value)""",
        {"additive": list(ADDITIVE), "tolerance": TOTAL_TOLERANCE},
    ).fetchall()
    return [
        f"{s}/{g}/{y}: parts {segs} add up to {parts:,.6g}, total is {total:,.6g}"
        for s, g, y, total, parts, segs in rows
    ]


def formulas_hold(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Derived rows' values equal their formulas; derived rows carry a formula or a note."""
    out = []
    for sid, row, formula, value in con.execute(
        "SELECT source_id, src_row, formula, value_orig FROM core.observations WHERE formula IS NOT NULL"
    ).fetchall():
        try:
            expected = evaluate(formula)
        except ValueError as exc:
            out.append(f"{sid} row {row}: {exc}")
            continue
        if abs(expected - value) > 0.005 * max(abs(expected), 1e-12):
            out.append(f"{sid} row {row}: value {value:g} but formula {formula} = {expected:g}")
    out += [
        f"{r[0]} row {r[1]}: derived value without a formula or note"
        for r in _first_rows(
            con,
            "SELECT source_id, src_row FROM core.observations WHERE status = 'derived' "
            "AND formula IS NULL AND note IS NULL",
        )
    ]
    return out


def every_row_sourced(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every observation points at a source table with a publisher and a reference, and has a status."""
    return [
        f"{r[0]}/{r[1]}/{r[2]}: source {r[3]!r} missing or without citation"
        for r in _first_rows(
            con,
            "SELECT o.series_id, o.geography, o.year, o.source_id FROM core.observations o "
            "LEFT JOIN core.sources s USING (source_id) WHERE s.publisher IS NULL OR s.reference IS NULL "
            "OR o.status IS NULL",
        )
    ]


def values_plausible(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every value within the intake bounds of its quantity (magnitude, yearly change, revision; see
    pipeline/lib/warehouse/plausibility.py), or accepted by its table's manifest entry with a reason."""
    return [str(p) for p in plausibility.recheck(con)]


CORE_CHECKS = (totals_consistent, formulas_hold, every_row_sourced, values_plausible)


STALE_AFTER_YEARS = 3


def stale_series(con: duckdb.DuckDBPyConnection, years: int = STALE_AFTER_YEARS) -> list[str]:
    """Series whose latest vintage is more than `years` years older than the newest vintage in the warehouse (a
    warning: the report still publishes them, dated)."""
    rows = _first_rows(
        con,
        "WITH v AS (SELECT series_id, max(vintage) AS latest FROM core.observations GROUP BY series_id) "
        "SELECT series_id, latest, (SELECT max(latest) FROM v) AS newest FROM v "
        "WHERE latest < (SELECT max(latest) FROM v) - to_years(?) ORDER BY series_id",
        [years],
    )
    return [f"{sid}: latest vintage {latest} (newest in the warehouse {newest})" for sid, latest, newest in rows]
