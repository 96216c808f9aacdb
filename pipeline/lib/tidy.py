"""Turn a raw table (as received, all text) into tidy rows: one number per series × geography × segment × year.

Everything row-wise runs as DuckDB SQL, so a 10-million-row table never enters Python; Python only looks at
headers, distinct unit strings and the few rows that carry a formula.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from pipeline.lib.columns import Column, classify
from pipeline.lib.errors import Problem, SourceError
from pipeline.lib.formula import evaluate
from pipeline.lib.manifest import STATUSES, TableSpec
from pipeline.lib.units import UnknownUnitError, parse_unit

YEAR_MIN, YEAR_MAX = 1940, 2035
NEGATIVE_OK = ("growth", "other")
UNIT_FITS: dict[str, tuple[str, ...]] = {"growth": ("share",), "share": ("share",), "other": ()}
PROVENANCE = ("_row", "_file", "_sha256", "_loaded_at")
FULLWIDTH = ("０１２３４５６７８９．，－％～＋", "0123456789.,-%~+")
NUMBER_PATTERN = (r"^(约|近|超过|超|不低于|不少于|逾|大于|小于|>=|<=|>|≥|<|≤|~|≈)?"
                  r"([-+]?[0-9]*\.?[0-9]+)(?:(?:-|–|—|~|至|到)([0-9]*\.?[0-9]+))?(以上|以下|余|多|\+)?%?$")
TIDY_COLUMNS = ("source_id", "src_row", "src_col", "series_id", "geography", "segment", "year", "value_orig",
                "low_orig", "high_orig", "value_text", "qualifier", "unit_text", "quantity", "canonical_unit",
                "factor", "currency", "status", "source_note", "note", "formula")


def q(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: object) -> str:
    """An SQL literal for a str/int/None."""
    if value is None:
        return "NULL"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def resolve_columns(spec: TableSpec, label: str, headers: list[str]) -> list[Column]:
    """Classify every header; unknown headers are an error naming the column."""
    cols, problems = [], []
    for h in headers:
        col = classify(h, spec.columns)
        if col is None:
            problems.append(Problem(label, "column header not recognised; use a known role name "
                                    "(see sources/README.md) or map it under `columns:` in the manifest "
                                    "(role `ignore` to skip it)", row=1, column=h))
        elif col.role not in (*("series", "geography", "segment", "year", "value", "unit", "status", "source",
                                "note", "formula", "ignore"), "year_column"):
            problems.append(Problem(label, f"manifest maps this column to unknown role {col.role!r}", row=1,
                                    column=h))
        else:
            cols.append(col)
    if problems:
        raise SourceError(problems)
    roles = [c.role for c in cols]
    values = [c for c in cols if c.role in ("value", "year_column")]
    if not values:
        raise SourceError(Problem(label, "no value column: expected a `value`/`数值`/`规模（单位）` column or "
                                  "year columns such as `2021年`", row=1))
    if "value" in roles and "year" not in roles:
        raise SourceError(Problem(label, "long layout needs a `year`/`年份` column next to the value column",
                                  row=1))
    if "value" in roles and "year_column" in roles:
        raise SourceError(Problem(label, "mixes a value column with year columns; use one layout", row=1))
    for role in ("series", "geography", "segment", "year", "value", "unit", "status"):
        if roles.count(role) > 1:
            dup = [c.header for c in cols if c.role == role][1]
            raise SourceError(Problem(label, f"a second {role!r} column", row=1, column=dup))
    return cols


def _long_select(spec: TableSpec, raw: str, cols: list[Column]) -> str:
    by_role = {c.role: c for c in cols if c.role not in ("year_column", "ignore")}

    def text(role: str, default: object = None) -> str:
        c = by_role.get(role)
        return f"nullif(trim({q(c.header)}), '')" if c else lit(default)

    parts = []
    for vc in (c for c in cols if c.role in ("value", "year_column")):
        unit_fallback = vc.unit or spec.unit
        unit_expr = f"coalesce({text('unit')}, {lit(unit_fallback)})"
        unit_col = by_role["unit"].header if "unit" in by_role else vc.header
        year_expr = lit(str(vc.year)) if vc.role == "year_column" else text("year")
        year_col = vc.header if vc.role == "year_column" else by_role["year"].header
        parts.append(
            f"SELECT _row AS src_row, {lit(vc.header)} AS src_col, "
            f"coalesce({text('series')}, {lit(spec.series)}) AS series_raw, "
            f"coalesce({text('geography')}, {lit(spec.geography)}) AS geography_raw, "
            f"coalesce({text('segment')}, {lit(spec.segment)}) AS segment_raw, "
            f"{year_expr} AS year_text, {lit(year_col)} AS year_col, "
            f"trim({q(vc.header)}) AS value_text, {unit_expr} AS unit_text, {lit(unit_col)} AS unit_col, "
            f"coalesce({text('status')}, {lit(spec.status)}) AS status, {text('source')} AS source_note, "
            f"{text('note')} AS note, {text('formula')} AS formula FROM {raw}"
        )
    return " UNION ALL ".join(parts)


def _collect(con: duckdb.DuckDBPyConnection, sql: str, make: Callable[[tuple], Problem]) -> list[Problem]:
    return [make(r) for r in con.execute(sql + " LIMIT 20").fetchall()]


def _register_units(con: duckdb.DuckDBPyConnection, label: str) -> list[Problem]:
    rows = con.execute("SELECT unit_text, min(src_row), arg_min(unit_col, src_row) FROM _tidy_stage "
                       "WHERE value_text IS NOT NULL OR formula IS NOT NULL GROUP BY unit_text").fetchall()
    problems, parsed = [], []
    for text, row, col in rows:
        if text is None:
            problems.append(Problem(label, "no unit: give a unit column, a unit in the header such as "
                                    "`规模（亿元）`, or `unit:` in the manifest", row=row, column=col))
            continue
        try:
            u = parse_unit(text)
        except UnknownUnitError as exc:
            problems.append(Problem(label, str(exc), row=row, column=col))
            continue
        parsed.append((text, u.quantity, u.canonical, u.factor, u.currency))
    con.execute("CREATE OR REPLACE TEMP TABLE _units (unit_text VARCHAR, quantity VARCHAR, canonical VARCHAR, "
                "factor DOUBLE, currency VARCHAR)")
    if parsed:
        con.executemany("INSERT INTO _units VALUES (?, ?, ?, ?, ?)", parsed)
    return problems


def _apply_formulas(con: duckdb.DuckDBPyConnection, label: str) -> list[Problem]:
    rows = con.execute("SELECT rowid, src_row, formula, value_orig FROM _tidy_parsed "
                       "WHERE formula IS NOT NULL").fetchall()
    problems = []
    for rowid, src_row, formula, value in rows:
        try:
            result = evaluate(formula)
        except ValueError as exc:
            problems.append(Problem(label, str(exc), row=src_row, column="formula"))
            continue
        if value is None:
            con.execute("UPDATE _tidy_parsed SET value_orig = ?, low_orig = ?, high_orig = ? WHERE rowid = ?",
                        [result, result, result, rowid])
        elif abs(result - value) > 0.005 * max(abs(result), 1e-12):
            problems.append(Problem(label, f"value {value:g} disagrees with its formula {formula} = {result:g}",
                                    row=src_row, column="formula"))
    return problems


def build_tidy(con: duckdb.DuckDBPyConnection, spec: TableSpec, label: str, raw: str, target: str) -> int:
    """CREATE OR REPLACE `target` with the tidy rows of `raw`; raise SourceError before writing if anything
    is wrong. Returns the number of tidy rows."""
    headers = [r[0] for r in con.execute(f"DESCRIBE {raw}").fetchall() if r[0] not in PROVENANCE]
    cols = resolve_columns(spec, label, headers)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _tidy_stage AS SELECT * FROM ({_long_select(spec, raw, cols)}) "
                "WHERE value_text IS NOT NULL AND value_text <> '' OR formula IS NOT NULL")
    problems = _register_units(con, label)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _tidy_parsed AS
        WITH cleaned AS (
            SELECT *, replace(replace(translate(value_text, {lit(FULLWIDTH[0])}, {lit(FULLWIDTH[1])}), ',', ''),
                              ' ', '') AS vt
            FROM _tidy_stage),
        parsed AS (
            SELECT *, regexp_extract(vt, {lit(NUMBER_PATTERN)}, ['qual', 'lo', 'hi', 'suffix']) AS p,
                   TRY_CAST(regexp_extract(translate(year_text, {lit(FULLWIDTH[0])}, {lit(FULLWIDTH[1])}),
                            '^((19|20)[0-9]{{2}})', 1) AS INTEGER) AS year
            FROM cleaned)
        SELECT src_row, src_col, year_col, unit_col, series_raw, geography_raw, segment_raw, year, value_text,
               vt, nullif(concat(p.qual, p.suffix), '') AS qualifier,
               CASE WHEN p.hi <> '' THEN (p.lo::DOUBLE + p.hi::DOUBLE) / 2
                    WHEN p.lo <> '' THEN p.lo::DOUBLE END AS value_orig,
               CASE WHEN p.lo <> '' THEN p.lo::DOUBLE END AS low_orig,
               CASE WHEN p.hi <> '' THEN p.hi::DOUBLE WHEN p.lo <> '' THEN p.lo::DOUBLE END AS high_orig,
               unit_text, status, source_note, note, formula
        FROM parsed""")
    problems += _collect(
        con, "SELECT src_row, src_col, value_text FROM _tidy_parsed WHERE vt <> '' AND value_orig IS NULL",
        lambda r: Problem(label, f"not a number: {r[2]!r} (expected e.g. 3,229 / 约100 / 200-300)", r[0], r[1]))
    problems += _collect(
        con, f"SELECT src_row, year_col, year FROM _tidy_parsed WHERE year IS NULL OR year NOT BETWEEN "
        f"{YEAR_MIN} AND {YEAR_MAX}",
        lambda r: Problem(label, f"missing or implausible year (expected {YEAR_MIN}-{YEAR_MAX})", r[0], r[1]))
    problems += _collect(
        con, f"SELECT src_row, status FROM _tidy_parsed WHERE status NOT IN ({', '.join(map(lit, STATUSES))})",
        lambda r: Problem(label, f"status {r[1]!r} is not one of {', '.join(STATUSES)}", r[0], "status"))
    for dim, column in (("series", "series"), ("geography", "geography"), ("segment", "segment")):
        problems += _collect(
            con, f"SELECT t.src_row, t.{dim if dim != 'series' else 'series'}_raw FROM _tidy_parsed t "
            f"ANTI JOIN _aliases a ON a.dimension = {lit(dim)} AND a.alias = lower(trim(t.{dim}_raw))",
            lambda r, d=dim, c=column: Problem(
                label, f"unknown {d} {r[1]!r}: add it to sources/{'series' if d == 'series' else 'labels'}.csv "
                f"(or as an alias)" if r[1] else f"no {d}: give a {d} column or `{d}:` in the manifest",
                r[0], c))
    problems += _apply_formulas(con, label)
    if problems:
        raise SourceError(problems)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _tidy_final AS
        SELECT {lit(spec.id)} AS source_id, t.src_row, t.src_col, s.code AS series_id, g.code AS geography,
               sg.code AS segment, t.year, t.value_orig, t.low_orig, t.high_orig, t.value_text, t.qualifier,
               t.unit_text, u.quantity, u.canonical AS canonical_unit, u.factor, u.currency, t.status,
               t.source_note, t.note, t.formula, c.quantity AS series_quantity
        FROM _tidy_parsed t
        JOIN _aliases s ON s.dimension = 'series' AND s.alias = lower(trim(t.series_raw))
        JOIN _aliases g ON g.dimension = 'geography' AND g.alias = lower(trim(t.geography_raw))
        JOIN _aliases sg ON sg.dimension = 'segment' AND sg.alias = lower(trim(t.segment_raw))
        JOIN _units u ON u.unit_text = t.unit_text
        LEFT JOIN raw.series_catalog c ON c.series_id = s.code""")
    problems += _collect(
        con, f"SELECT src_row, src_col, series_id, value_orig FROM _tidy_final WHERE value_orig < 0 AND "
        f"coalesce(series_quantity, '') NOT IN ({', '.join(map(lit, NEGATIVE_OK))})",
        lambda r: Problem(label, f"negative value {r[3]:g} for {r[2]} (sizes cannot be negative)", r[0], r[1]))
    for series_id, series_q, unit_q, unit_text, row, col in con.execute(
            "SELECT series_id, series_quantity, quantity, unit_text, min(src_row), arg_min(src_col, src_row) "
            "FROM _tidy_final GROUP BY ALL").fetchall():
        fits = UNIT_FITS.get(series_q, (series_q,))
        if fits and unit_q not in fits:
            problems.append(Problem(label, f"unit {unit_text!r} ({unit_q}) does not fit series {series_id} "
                                    f"({series_q})", row, col))
    problems += _collect(
        con, "SELECT list(src_row ORDER BY src_row), any_value(src_col), series_id, geography, segment, year "
        "FROM _tidy_final GROUP BY series_id, geography, segment, year HAVING count(*) > 1",
        lambda r: Problem(label, f"duplicate key {r[2]}/{r[3]}/{r[4]}/{r[5]} (also in rows "
                          f"{', '.join(map(str, r[0][1:]))})", r[0][0], r[1]))
    if problems:
        raise SourceError(problems)
    con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT {', '.join(TIDY_COLUMNS)} FROM _tidy_final "
                "ORDER BY src_row, src_col")
    return con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
