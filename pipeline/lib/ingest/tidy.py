"""Turn a raw table (as received, all text) into tidy rows: one number per series × geography × segment × year.

Everything row-wise runs as DuckDB SQL, so a 10-million-row table never enters Python; Python only looks at
headers, distinct unit strings and the few rows that carry a formula.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb

from pipeline.lib.db import Params, ident
from pipeline.lib.errors import Problem, SourceError
from pipeline.lib.ingest.columns import Column, classify
from pipeline.lib.ingest.formula import evaluate
from pipeline.lib.ingest.labels import split_label
from pipeline.lib.ingest.manifest import STATUSES, TableSpec
from pipeline.lib.ingest.units import UnknownUnitError, parse_unit
from pipeline.lib.ingest.years import ACCEPTED_FORMS, YEAR_LABEL, marker_status_sql

YEAR_MIN, YEAR_MAX = 1940, 2035
NEGATIVE_OK = ("growth", "other")
UNIT_FITS: dict[str, tuple[str, ...]] = {"growth": ("share",), "share": ("share",), "other": ()}
PROVENANCE = ("_row", "_file", "_sha256", "_loaded_at")
FULLWIDTH = ("０１２３４５６７８９．，－％～＋", "0123456789.,-%~+")
NUMBER = r"[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?"  # 3229, 322.9, 5.149E+02 (a spreadsheet's scientific notation)
NUMBER_PATTERN = (
    r"^(约|近|已超过|已超|超过|超|不低于|不少于|逾|大于|小于|>=|<=|>|≥|<|≤|~|≈)?"
    rf"([-+]?{NUMBER})(?:(?:-|–|—|~|至|到)({NUMBER}))?(以上|以下|余|多|\+)?%?$"
)
# What a spreadsheet user does not see around a cell's text: spaces, tabs, line breaks, no-break and ideographic
# spaces (DuckDB's trim() alone only strips spaces).
BLANKS = " \t\r\n\u00a0\u3000"
TIDY_COLUMNS = (
    "source_id",
    "src_row",
    "src_col",
    "series_id",
    "geography",
    "segment",
    "year",
    "value_orig",
    "low_orig",
    "high_orig",
    "value_text",
    "qualifier",
    "unit_text",
    "quantity",
    "canonical_unit",
    "factor",
    "currency",
    "status",
    "source_note",
    "note",
    "formula",
    "derived_from",
)


def resolve_columns(
    spec: TableSpec, label: str, headers: list[str], series_header: Callable[[str], Column | None] | None = None
) -> list[Column]:
    """Classify every header; a header no role knows may name a series (`series_header`); unknown headers are an
    error naming the column."""
    cols, problems = [], []
    for h in headers:
        col = classify(h, spec.columns)
        if col is None and series_header is not None:
            col = series_header(h)
        if col is None:
            problems.append(
                Problem(
                    label,
                    "column header not recognised; use a known role name "
                    "(see sources/README.md) or map it under `columns:` in the manifest "
                    "(role `ignore` to skip it)",
                    row=1,
                    column=h,
                )
            )
        elif col.role not in (
            *(
                "series",
                "geography",
                "segment",
                "year",
                "value",
                "unit",
                "status",
                "source",
                "note",
                "formula",
                "derived_from",
                "ignore",
            ),
            "year_column",
            "series_column",
        ):
            problems.append(Problem(label, f"manifest maps this column to unknown role {col.role!r}", row=1, column=h))
        else:
            cols.append(col)
    if problems:
        raise SourceError(problems)
    roles = [c.role for c in cols]
    values = [c for c in cols if c.role in VALUE_ROLES]
    if not values:
        raise SourceError(
            Problem(
                label,
                "no value column: expected a `value`/`数值`/`规模（单位）` column or year columns such as `2021年`",
                row=1,
            )
        )
    if "value" in roles and "year" not in roles:
        raise SourceError(Problem(label, "long layout needs a `year`/`年份` column next to the value column", row=1))
    if "series_column" in roles and "year" not in roles:
        raise SourceError(Problem(label, "columns named after series need a `year`/`年份` column", row=1))
    if len({r for r in roles if r in VALUE_ROLES}) > 1:
        raise SourceError(Problem(label, "mixes value, year and series columns; use one layout", row=1))
    for role in ("series", "geography", "segment", "year", "value", "unit", "status"):
        if roles.count(role) > 1:
            dup = [c.header for c in cols if c.role == role][1]
            raise SourceError(Problem(label, f"a second {role!r} column", row=1, column=dup))
    return cols


DIMENSIONS = ("series", "geography", "segment")
IGNORE = "ignore"  # a `rows:` target: the row is kept in raw.<id> only (a total, a subtotal)
TOTAL_WORDS = ("合计", "总计", "小计", "总和", "total", "subtotal", "sum")


def _trim(expr: str, p: Params) -> str:
    """SQL for `expr` without surrounding blanks (BLANKS)."""
    return f"trim({expr}, {p(BLANKS)})"


def _cell(expr: str, p: Params) -> str:
    """SQL for a text cell: trimmed, '' → NULL."""
    return f"nullif({_trim(expr, p)}, '')"


def _text(col: Column | None, p: Params, default: str | None = None, table: str = "") -> str:
    """SQL (over the raw table, optionally qualified by its alias `table`) for a column's text, or the manifest
    default when the table has no such column."""
    return _cell(f"{table}.{ident(col.header)}" if table else ident(col.header), p) if col else p.text(default)


def _by_role(cols: list[Column]) -> dict[str, Column]:
    return {c.role: c for c in cols if c.role not in ("year_column", "ignore")}


def _dimension_sql(spec: TableSpec, cols: list[Column], dim: str, p: Params, table: str = "") -> str:
    """SQL (over the raw table, alias `table`) for the text of a series/geography/segment, as the checks report
    it."""
    return f"coalesce({_text(_by_role(cols).get(dim), p, table=table)}, {p.text(getattr(spec, dim))})"


VALUE_ROLES = ("value", "year_column", "series_column")


def _value_columns(cols: list[Column]) -> list[Column]:
    return [c for c in cols if c.role in VALUE_ROLES]


def _long_select(spec: TableSpec, raw: str, cols: list[Column], p: Params) -> str:
    """One row per non-empty value cell (a long table has one value column, a wide one a column per year).

    Series, geography and segment stay as the raw cells (`<dim>_cell`, NULL without such a column): they are
    looked up through `_codes`, which maps each distinct cell to its code."""
    by_role = _by_role(cols)

    def text(role: str, default: str | None = None) -> str:
        return _text(by_role.get(role), p, default)

    parts = []
    series_col = by_role.get("series")
    label_join = (
        f" LEFT JOIN _label_parts ON _label_parts._lp_cell = {raw}.{ident(series_col.header)}" if series_col else ""
    )
    label_unit, label_geo = ("_label_parts._lp_unit", "_label_parts._lp_geo") if series_col else ("NULL", "NULL")
    for vc in _value_columns(cols):
        cells = ", ".join(
            f"{ident(by_role[d].header) if d in by_role else 'NULL::VARCHAR'} AS {d}_cell" for d in DIMENSIONS
        )
        year_expr = p.text(str(vc.year)) if vc.role == "year_column" else text("year")
        parts.append(
            f"SELECT _row AS src_row, {p.text(vc.header)} AS src_col, {cells}, {year_expr} AS year_text, "
            f"{p.text(vc.year_status)} AS year_mark, {_trim(ident(vc.header), p)} AS value_text, "
            f"coalesce({text('unit')}, {p.text(vc.unit)}, {label_unit}, {p.text(spec.unit)}) AS unit_text, "
            f"{label_unit}::VARCHAR AS label_unit, {p.text(vc.unit)} AS header_unit, "
            f"{label_geo}::VARCHAR AS label_geo, {p.text(vc.series)} AS fixed_series, "
            f"{p.text(vc.geography)} AS fixed_geo, "
            f"coalesce({text('status')}, {p.text(spec.status)}) AS status, {text('source')} AS source_note, "
            f"{text('note')} AS note, {text('formula')} AS formula, {text('derived_from')} AS derived_from "
            f"FROM {raw}{label_join}"
        )
    return " UNION ALL ".join(parts)


def _collect(
    con: duckdb.DuckDBPyConnection, sql: str, make: Callable[[tuple], Problem], params: dict[str, object]
) -> list[Problem]:
    return [make(r) for r in con.execute(sql + " LIMIT 20", params).fetchall()]


def _series_header_reader(con: duckdb.DuckDBPyConnection) -> Callable[[str], Column | None]:
    """A reader of headers that name a series (with geography and unit): `中国云计算市场规模（亿元）` → a series
    column of cloud_market, CN, 亿元."""
    aliases = {
        d: dict(con.execute("SELECT alias, code FROM _aliases WHERE dimension = ?", [d]).fetchall())
        for d in ("series", "geography")
    }

    def read(header: str) -> Column | None:
        parts = split_label(header.strip(), aliases["geography"])
        code = aliases["series"].get(parts.name.lower())
        return (
            None
            if code is None
            else Column(header, "series_column", parts.unit, series=code, geography=parts.geography)
        )

    return read


def _build_label_parts(con: duckdb.DuckDBPyConnection, cols: list[Column], raw: str) -> None:
    """TEMP table `_label_parts`: each distinct series cell that is not a series name or alias as it stands but
    carries a unit and/or a geography (`中国云计算市场规模（亿元）`, see `labels.split_label`), with what it says and
    the series its remaining name resolves to (NULL if none: the unknown-series check then names it)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _label_parts (_lp_cell VARCHAR, _lp_unit VARCHAR, _lp_geo VARCHAR, "
        "_lp_series VARCHAR, _lp_name VARCHAR, _lp_geo_word VARCHAR)"
    )
    series_col = _by_role(cols).get("series")
    if series_col is None:
        return
    aliases = {
        d: dict(con.execute("SELECT alias, code FROM _aliases WHERE dimension = ?", [d]).fetchall())
        for d in ("series", "geography")
    }
    rows = []
    p = Params()
    for (cell,) in con.execute(
        f"SELECT DISTINCT {ident(series_col.header)} FROM {raw} WHERE {_cell(ident(series_col.header), p)} IS NOT NULL",
        p.values,
    ).fetchall():
        if cell.strip().lower() in aliases["series"]:
            continue
        parts = split_label(cell.strip(), aliases["geography"])
        if parts.unit or parts.geography:
            rows.append(
                (
                    cell,
                    parts.unit,
                    parts.geography,
                    aliases["series"].get(parts.name.lower()),
                    parts.name,
                    parts.geography_word,
                )
            )
    if rows:
        con.executemany("INSERT INTO _label_parts VALUES (?, ?, ?, ?, ?, ?)", rows)


def _build_lookups(con: duckdb.DuckDBPyConnection, spec: TableSpec, cols: list[Column], raw: str) -> None:
    """TEMP tables `_codes` (dimension, cell → code) and `_units` (unit text → parsed unit), from the distinct
    cells of the raw table: the per-row work in the tidy pass is then a hash lookup of the cell as it is.

    A cell or unit that does not resolve is left out, so its rows get a NULL code or unit and the checks name
    them (only rows with a value count, as before)."""
    by_role = _by_role(cols)
    p = Params()
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _codes AS "
        + " UNION ALL ".join(
            f"SELECT {(dim := p.text(d))} AS dimension, c.cell, a.code FROM ("
            + (
                f"SELECT DISTINCT {ident(by_role[d].header)} AS cell FROM {raw}"
                if d in by_role
                else "SELECT NULL::VARCHAR AS cell"
            )
            + f") c JOIN _aliases a ON a.dimension = {dim} "
            f"AND a.alias = lower(trim(coalesce({_cell('c.cell', p)}, {p.text(getattr(spec, d))})))"
            for d in DIMENSIONS
        ),
        p.values,
    )
    con.execute(
        "INSERT INTO _codes SELECT 'series', _lp_cell, _lp_series FROM _label_parts WHERE _lp_series IS NOT NULL"
    )
    if "series" in by_role:  # the entry's own row labels (`rows:`), for this table only, before any alias
        mapped = [
            (cell, spec.rows[cell.strip()])
            for (cell,) in con.execute(f"SELECT DISTINCT {ident(by_role['series'].header)} FROM {raw}").fetchall()
            if cell is not None and spec.rows.get(cell.strip(), IGNORE) != IGNORE
        ]
        known = {code for (code,) in con.execute("SELECT series_id FROM raw.series_catalog").fetchall()}
        if wrong := sorted({target for _, target in mapped} - known):
            raise SourceError(
                Problem(
                    f"sources/{spec.file}",
                    f"`rows:` of entry {spec.id!r} maps to unknown series "
                    f"{', '.join(map(repr, wrong))}; use a series_id of sources/series.csv or "
                    "`ignore`",
                    column="rows",
                )
            )
        if mapped:
            con.executemany("DELETE FROM _codes WHERE dimension = 'series' AND cell = ?", [[c] for c, _ in mapped])
            con.executemany("INSERT INTO _codes VALUES ('series', ?, ?)", mapped)
    label_units = {u for (u,) in con.execute("SELECT DISTINCT _lp_unit FROM _label_parts").fetchall()}
    fallbacks = sorted(({vc.unit or spec.unit for vc in _value_columns(cols)} | label_units) - {None})
    if "unit" in by_role:
        p = Params()
        texts = [
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT coalesce({_cell('c.cell', p)}, f.fallback) FROM "
                f"(SELECT DISTINCT {ident(by_role['unit'].header)} AS cell FROM {raw}) c, "
                f"(SELECT unnest({p(fallbacks)}::VARCHAR[]) AS fallback UNION ALL SELECT NULL) f",
                p.values,
            ).fetchall()
        ]
    else:
        texts = fallbacks
    parsed = []
    for text in texts:
        if text is None:
            continue
        try:
            u = parse_unit(text)
        except UnknownUnitError:
            continue
        parsed.append((text, u.quantity, u.canonical, u.factor, u.currency))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _units (unit_text VARCHAR, quantity VARCHAR, canonical VARCHAR, "
        "factor DOUBLE, currency VARCHAR)"
    )
    if parsed:
        con.executemany("INSERT INTO _units VALUES (?, ?, ?, ?, ?)", parsed)


def _unit_problems(
    con: duckdb.DuckDBPyConnection, label: str, table: str, order: Order, unit_col: dict[str, str]
) -> list[Problem]:
    """Every unit text of a valued row that is missing or unknown, at its first row."""
    problems = []
    for text, row, src_col in con.execute(
        f"SELECT unit_text, min(src_row), arg_min(src_col, {order.first}) FROM {table} WHERE quantity IS NULL "
        f"GROUP BY unit_text ORDER BY min({order.first})",
        order.params,
    ).fetchall():
        if text is None:
            problems.append(
                Problem(
                    label,
                    "no unit: give a unit column, a unit in the header such as "
                    "`规模（亿元）`, or `unit:` in the manifest",
                    row=row,
                    column=unit_col[src_col],
                )
            )
            continue
        try:
            parse_unit(text)
        except UnknownUnitError as exc:
            problems.append(Problem(label, str(exc), row=row, column=unit_col[src_col]))
    return problems


def _unit_conflicts(con: duckdb.DuckDBPyConnection, label: str, stage: Stage) -> list[Problem]:
    """A row label and a column header that state different units for the same cells, once per pair."""
    problems = []
    for label_unit, header_unit, row, col in con.execute(
        f"{stage.sql} SELECT label_unit, header_unit, min(src_row), arg_min(src_col, src_row) FROM _tidy_stage "
        "WHERE label_unit IS NOT NULL AND header_unit IS NOT NULL GROUP BY ALL ORDER BY 3",
        stage.params,
    ).fetchall():
        try:
            a, b = parse_unit(label_unit), parse_unit(header_unit)
        except UnknownUnitError:
            continue  # named by the unknown-unit check
        if (a.canonical, a.factor, a.currency) != (b.canonical, b.factor, b.currency):
            problems.append(
                Problem(
                    label,
                    f"the row label gives the unit {label_unit!r} but the column header "
                    f"{header_unit!r}; keep the unit in one place",
                    row,
                    col,
                )
            )
    return problems


def _apply_formulas(con: duckdb.DuckDBPyConnection, label: str, table: str, order: Order) -> list[Problem]:
    rows = con.execute(
        f"SELECT rowid, src_row, formula, value_orig FROM {table} WHERE formula IS NOT NULL ORDER BY {order.rows}",
        order.params,
    ).fetchall()
    problems = []
    for rowid, src_row, formula, value in rows:
        try:
            result = evaluate(formula)
        except ValueError as exc:
            problems.append(Problem(label, str(exc), row=src_row, column="formula"))
            continue
        if value is None:
            con.execute(
                f"UPDATE {table} SET value_orig = ?, low_orig = ?, high_orig = ? WHERE rowid = ?",
                [result, result, result, rowid],
            )
        elif abs(result - value) > 0.005 * max(abs(result), 1e-12):
            problems.append(
                Problem(
                    label,
                    f"value {value:g} disagrees with its formula {formula} = {result:g}",
                    row=src_row,
                    column="formula",
                )
            )
    return problems


def _unfullwidth(expr: str, p: Params) -> str:
    """`expr` with full-width digits and signs made ASCII; translate() only runs on text that has one."""
    return (
        f"CASE WHEN regexp_matches({expr}, {p('[' + FULLWIDTH[0] + ']')}) "
        f"THEN translate({expr}, {p(FULLWIDTH[0])}, {p(FULLWIDTH[1])}) ELSE {expr} END"
    )


def _number_text(expr: str, p: Params) -> str:
    """The text the number pattern is matched against: ASCII digits, no thousands separators or spaces."""
    return f"replace(replace({_unfullwidth(expr, p)}, ',', ''), ' ', '')"


def _tidy_rows_sql(spec: TableSpec, p: Params) -> str:
    """SELECT of the tidy rows (TIDY_COLUMNS, in order) from the staged rows, parsed and looked up in one pass.

    The lookups are LEFT JOINs, so a row whose series/geography/segment/unit is unknown stays (with a NULL code)
    and the checks can name it. A plain ASCII number (most cells) skips the number pattern, and a plain
    four-digit year skips the full-width translation; both give what the general expression gives."""
    plain_year = "regexp_full_match(year_text, '(19|20)[0-9]{2}')"
    label = f"regexp_extract({_unfullwidth('year_text', p)}, {p('(?i)' + YEAR_LABEL)}, ['year', 'marker'])"
    year = (
        f"CASE WHEN {plain_year} THEN year_text::INTEGER ELSE TRY_CAST({label}.year AS INTEGER) END AS year, "
        f"CASE WHEN NOT {plain_year} THEN lower({label}.marker) END AS year_marker"
    )
    joins = "\n".join(
        f"LEFT JOIN _codes {d} ON {d}.dimension = {p(d)} AND {d}.cell IS NOT DISTINCT FROM t.{d}_cell"
        for d in DIMENSIONS
    )
    return f"""
        SELECT {p.text(spec.id)} AS source_id, t.src_row, t.src_col, coalesce(t.fixed_series, series.code) AS series_id,
               CASE WHEN t.fixed_geo IS NOT NULL THEN t.fixed_geo
                    WHEN t.geography_cell IS NULL AND t.label_geo IS NOT NULL THEN t.label_geo
                    ELSE geography.code END AS geography, segment.code AS segment, t.year,
               CASE WHEN t.plain THEN t.plain_value WHEN t.p.hi <> '' THEN (t.p.lo::DOUBLE + t.p.hi::DOUBLE) / 2
                    WHEN t.p.lo <> '' THEN t.p.lo::DOUBLE END AS value_orig,
               CASE WHEN t.plain THEN t.plain_value WHEN t.p.lo <> '' THEN t.p.lo::DOUBLE END AS low_orig,
               CASE WHEN t.plain THEN t.plain_value WHEN t.p.hi <> '' THEN t.p.hi::DOUBLE
                    WHEN t.p.lo <> '' THEN t.p.lo::DOUBLE END AS high_orig,
               t.value_text, CASE WHEN NOT t.plain THEN nullif(concat(t.p.qual, t.p.suffix), '') END AS qualifier,
               t.unit_text, u.quantity, u.canonical AS canonical_unit, u.factor, u.currency,
               coalesce(t.year_mark, {marker_status_sql("t.year_marker", p)}, t.status) AS status,
               t.source_note, t.note, t.formula, t.derived_from
        FROM (
            SELECT *, CASE WHEN plain THEN value_text::DOUBLE END AS plain_value,
                   CASE WHEN NOT plain THEN regexp_extract({_number_text("value_text", p)}, {p(NUMBER_PATTERN)},
                                                           ['qual', 'lo', 'hi', 'suffix']) END AS p
            FROM (SELECT *, regexp_full_match(value_text, '[0-9]*\\.?[0-9]+') AS plain, {year}
                  FROM _tidy_stage)) t
        {joins}
        LEFT JOIN _units u ON u.unit_text = t.unit_text"""


@contextmanager
def _unordered_inserts(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Let DuckDB write the next table in any row order (`preserve_insertion_order = false`, restored after).

    An order-preserving parallel insert leaves part-filled row groups that the next checkpoint rewrites in
    full; nothing reads the tidy rows in table order (the checks below sort what they report)."""
    before = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0]
    con.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        con.execute(f"SET preserve_insertion_order = {str(bool(before)).lower()}")


def _unknown_dimension(
    con: duckdb.DuckDBPyConnection, spec: TableSpec, cols: list[Column], label: str, raw: str, table: str, dim: str
) -> list[Problem]:
    """One problem per series/geography/segment text that matched no code (however many value columns its row
    has), at its first row: texts missing altogether first, then unknown texts, with what the label was read as
    and the alias that would make it known."""
    code = "series_id" if dim == "series" else dim
    if not con.execute(f"SELECT count(*) FROM {table} WHERE {code} IS NULL").fetchone()[0]:
        return []
    p = Params()
    rows = con.execute(
        f"SELECT text, min(src_row) FROM (SELECT t.src_row, {_dimension_sql(spec, cols, dim, p, 'r')} AS text "
        f"FROM {table} t JOIN {raw} r ON r._row = t.src_row WHERE t.{code} IS NULL) "
        "GROUP BY text ORDER BY text IS NOT NULL, min(src_row) LIMIT 20",
        p.values,
    ).fetchall()
    column = _by_role(cols)[dim].header if dim in _by_role(cols) else dim
    return [
        Problem(
            label,
            _unknown_text_message(con, dim, text)
            if text
            else f"no {dim}: give a {dim} column or `{dim}:` in the manifest",
            row,
            column,
        )
        for text, row in rows
    ]


def _unknown_text_message(con: duckdb.DuckDBPyConnection, dim: str, text: str) -> str:
    """What an unknown label was read as, and the alias to add (with the closest known name, if any)."""
    import difflib

    parts = (
        con.execute(
            "SELECT _lp_name, _lp_geo_word, _lp_geo, _lp_unit FROM _label_parts WHERE _lp_cell = ?", [text]
        ).fetchone()
        if dim == "series"
        else None
    )
    name = parts[0] if parts else text.strip()
    read_as = ""
    if parts:
        bits = (
            [f"series name {name!r}"]
            + ([f"geography {parts[1]} = {parts[2]}"] if parts[2] else [])
            + ([f"unit {parts[3]}"] if parts[3] else [])
        )
        read_as = f" (read as {', '.join(bits)})"
    known = dict(con.execute("SELECT alias, code FROM _aliases WHERE dimension = ?", [dim]).fetchall())
    close = difflib.get_close_matches(name.lower(), list(known), n=1, cutoff=0.6)
    hint = f", probably {known[close[0]]} (known as {close[0]!r})" if close else ""
    catalogue = "series.csv" if dim == "series" else "labels.csv"
    if dim == "series" and any(word in name.lower() for word in TOTAL_WORDS):
        return (
            f"unknown series {text!r}: a total row? map it in the entry, for this table only: "
            f"`rows: {{{name}: ignore}}` (kept in raw only) or `rows: {{{name}: <series id>}}`"
        )
    return (
        f"unknown {dim} {text!r}{read_as}: add {name!r} to the `aliases` of its {dim} in sources/{catalogue} "
        f"(`|`-separated){hint}, or add the {dim} itself; or map it for this table only: "
        f"`rows: {{{name}: <{dim} id>}}`"
        if dim == "series"
        else f"unknown {dim} {text!r}: add {name!r} to sources/{catalogue} (a code, or the `aliases` of one){hint}"
    )


def _year_problems(
    con: duckdb.DuckDBPyConnection, label: str, raw: str, table: str, order: Order, year_col: dict[str, str]
) -> list[Problem]:
    """Rows whose year is missing, not a year label, or outside YEAR_MIN-YEAR_MAX, with the text found."""
    problems = []
    for row, src_col, year in con.execute(
        f"SELECT src_row, src_col, year FROM {table} WHERE year IS NULL OR year NOT BETWEEN $year_min AND "
        f"$year_max ORDER BY {order.rows} LIMIT 20",
        {"year_min": YEAR_MIN, "year_max": YEAR_MAX, **order.params},
    ).fetchall():
        header = year_col[src_col]
        found = con.execute(f"SELECT {ident(header)} FROM {raw} WHERE _row = ?", [row]).fetchone()
        text = (found[0] or "").strip() if found else ""
        what = (
            f"year {text!r} is not understood"
            if year is None and text
            else "no year"
            if year is None
            else f"year {year} is outside {YEAR_MIN}-{YEAR_MAX}"
        )
        problems.append(Problem(label, f"{what}; expected {ACCEPTED_FORMS}", row, header))
    return problems


@dataclass(frozen=True)
class Stage:
    """The staged rows (`_long_select` over the raw table) as a `WITH _tidy_stage AS (…)` clause and its
    parameters (named `$s…`): the tidy pass and the unit check read them."""

    sql: str
    params: dict[str, object]


def _stage(spec: TableSpec, raw: str, cols: list[Column]) -> Stage:
    """Value cells that hold something (or a formula), without the rows the entry ignores (`rows: {…: ignore}`)."""
    p = Params("s")
    ignored = [label_text for label_text, target in spec.rows.items() if target == IGNORE]
    skip = f" AND NOT list_contains({p(ignored)}::VARCHAR[], coalesce(trim(series_cell), ''))" if ignored else ""
    return Stage(
        f"WITH _tidy_stage AS (SELECT * FROM ({_long_select(spec, raw, cols, p)}) "
        f"WHERE (value_text IS NOT NULL AND value_text <> '' OR formula IS NOT NULL){skip})",
        p.values,
    )


@dataclass(frozen=True)
class Order:
    """How checks list rows: `rows` sorts them as they are staged (value column by value column, then file row);
    the minimum of `first` is a group's first row in the file (on a tie, the leftmost value column). A wide
    table's value columns are the parameter `$value_cols`."""

    rows: str
    first: str
    params: dict[str, object]

    @classmethod
    def of(cls, values: list[Column]) -> Order:
        if len(values) == 1:
            return cls("src_row", "src_row", {})
        position = "list_position($value_cols::VARCHAR[], src_col)"
        return cls(f"{position}, src_row", f"[src_row, {position}]", {"value_cols": [vc.header for vc in values]})


def build_tidy(con: duckdb.DuckDBPyConnection, spec: TableSpec, label: str, raw: str, target: str) -> int:
    """CREATE OR REPLACE `target` with the tidy rows of `raw`; raise SourceError if anything is wrong. The caller
    runs this inside a transaction and rolls it back on an error, so `target` then keeps its previous rows.
    Returns the number of tidy rows.

    The rows are parsed, looked up and written once, and every check is an SQL query over the written rows.
    A long table (one value column) is written straight into `target`; a wide one goes through a temporary table
    so that `target` is written in (src_row, src_col) order. Problems are listed in the order the rows are
    staged (value column by value column, then file row)."""
    headers = [r[0] for r in con.execute(f"DESCRIBE {raw}").fetchall() if r[0] not in PROVENANCE]
    cols = resolve_columns(spec, label, headers, _series_header_reader(con))
    values = _value_columns(cols)
    by_role = _by_role(cols)
    year_col = {vc.header: vc.header if vc.role == "year_column" else by_role["year"].header for vc in values}
    unit_col = {vc.header: by_role["unit"].header if "unit" in by_role else vc.header for vc in values}
    _build_label_parts(con, cols, raw)
    stage = _stage(spec, raw, cols)
    _build_lookups(con, spec, cols, raw)
    table = target if len(values) == 1 else "_tidy_rows"
    order = Order.of(values)
    with _unordered_inserts(con):
        rows = Params("r")
        con.execute(
            f"CREATE OR REPLACE {'' if table == target else 'TEMP '}TABLE {table} AS {stage.sql} "
            f"{_tidy_rows_sql(spec, rows)}",
            stage.params | rows.values,
        )
    problems = _unit_conflicts(con, label, stage)
    problems += _unit_problems(con, label, table, order, unit_col)
    number = Params()
    problems += _collect(
        con,
        f"SELECT src_row, src_col, value_text FROM {table} WHERE value_orig IS NULL AND value_text IS NOT NULL "
        f"AND {_number_text('value_text', number)} <> '' ORDER BY {order.rows}",
        lambda r: Problem(label, f"not a number: {r[2]!r} (expected e.g. 3,229 / 约100 / 200-300)", r[0], r[1]),
        number.values | order.params,
    )
    problems += _year_problems(con, label, raw, table, order, year_col)
    problems += _collect(
        con,
        f"SELECT src_row, status FROM {table} WHERE NOT list_contains($statuses, status) ORDER BY {order.rows}",
        lambda r: Problem(label, f"status {r[1]!r} is not one of {', '.join(STATUSES)}", r[0], "status"),
        {"statuses": list(STATUSES), **order.params},
    )
    for dim in DIMENSIONS:
        problems += _unknown_dimension(con, spec, cols, label, raw, table, dim)
    problems += _apply_formulas(con, label, table, order)
    if problems:
        raise SourceError(problems)
    problems += _collect(
        con,
        f"SELECT t.src_row, t.src_col, t.series_id, t.value_orig FROM {table} t "
        "LEFT JOIN raw.series_catalog c ON c.series_id = t.series_id WHERE t.value_orig < 0 AND "
        f"NOT list_contains($negative_ok, coalesce(c.quantity, '')) ORDER BY {order.rows}",
        lambda r: Problem(label, f"negative value {r[3]:g} for {r[2]} (sizes cannot be negative)", r[0], r[1]),
        {"negative_ok": list(NEGATIVE_OK), **order.params},
    )
    for series_id, series_q, unit_q, unit_text, row, col in con.execute(
        "SELECT t.series_id, c.quantity, t.quantity, t.unit_text, t.row, t.col FROM ("
        f"SELECT series_id, quantity, unit_text, min(src_row) AS row, arg_min(src_col, {order.first}) AS col "
        f"FROM {table} GROUP BY ALL) t LEFT JOIN raw.series_catalog c ON c.series_id = t.series_id",
        order.params,
    ).fetchall():
        fits = UNIT_FITS.get(series_q, (series_q,))
        if fits and unit_q not in fits:
            problems.append(
                Problem(label, f"unit {unit_text!r} ({unit_q}) does not fit series {series_id} ({series_q})", row, col)
            )
    problems += _duplicates(con, label, table, order)
    if problems:
        raise SourceError(problems)
    if table != target:
        con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {table} ORDER BY src_row, src_col")
        con.execute(f"DROP TABLE {table}")
    return con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]


def _duplicates(con: duckdb.DuckDBPyConnection, label: str, table: str, order: Order) -> list[Problem]:
    """Rows sharing series × geography × segment × year. Sorting one 64-bit hash per row first shows whether any
    key can repeat (cheaper than grouping by the four keys; a hash collision only costs the exact query)."""
    key = "series_id, geography, segment, year"
    if not repeated_hash(con, table, key):
        return []
    return _collect(
        con,
        f"SELECT list(src_row ORDER BY src_row), arg_min(src_col, {order.first}), {key} FROM {table} "
        f"GROUP BY {key} HAVING count(*) > 1 ORDER BY min({order.first})",
        lambda r: Problem(
            label,
            f"duplicate key {r[2]}/{r[3]}/{r[4]}/{r[5]} (also in rows {', '.join(map(str, r[0][1:]))})",
            r[0][0],
            r[1],
        ),
        order.params,
    )


def repeated_hash(con: duckdb.DuckDBPyConnection, table: str, key: str) -> bool:
    """Whether two rows of `table` share hash(`key`): False proves the key unique (equal keys hash equal)."""
    return (
        con.execute(
            f"SELECT count(*) FROM (SELECT h, lag(h) OVER (ORDER BY h) AS previous FROM "
            f"(SELECT hash({key}) AS h FROM {table})) WHERE h = previous"
        ).fetchone()[0]
        > 0
    )
