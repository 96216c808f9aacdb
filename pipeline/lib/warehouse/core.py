"""Build the tidy core model from the per-table tidy rows, in one transaction.

core.observations  one row per series × geography × segment × year × vintage, value in canonical units;
                   is_outlook marks values that are not actuals: years after the table's publication year (published
                   forecasts) and years a table marks as estimate or forecast (2022E, 2025F)
core.series        bilingual series catalogue          core.labels   bilingual names of geographies/segments
core.sources       one row per source table: citation, status, file and manifest-entry hashes, load time
core.fx_rates      CNY per unit of foreign currency per currency × year: the annual average of that year (series
                   fx_rate), or the cross rate (CNY per EUR) ÷ (currency per EUR) of the ECB's euro rates (fx_per_eur)
core.observations_latest   the latest vintage of each observation (a table, rebuilt with the others)
core.accepted_outliers     values outside the intake bounds that their manifest entry accepted, with the reason
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from pipeline.lib.db import table_name, transaction
from pipeline.lib.errors import Problem, SourceError
from pipeline.lib.ingest.manifest import NOT_ACTUAL_STATUSES, TableSpec
from pipeline.lib.ingest.tables import INGEST_LOG, ensure_schemas
from pipeline.lib.ingest.tidy import repeated_hash
from pipeline.lib.warehouse import plausibility

FX_SERIES = "fx_rate"  # CNY per unit of the segment's currency, annual average of the row's year
EUR_SERIES = "fx_per_eur"  # units of the segment's currency per euro (the ECB's reference rates)
RATE_SERIES = (FX_SERIES, EUR_SERIES)  # rates themselves: never converted
PUBLISHED_RMB_SUFFIX = "_rmb"  # series `<s>_rmb`: the RMB amount the publisher itself gives for a row of `<s>`
ANNUAL, CROSS, PUBLISHED = "annual_average", "cross_rate_eur", "published_rmb"  # core.observations.fx_basis


def _sources_rows(con: duckdb.DuckDBPyConnection, specs: list[TableSpec]) -> list[tuple]:
    logged = dict(con.execute(f"SELECT source_id, entry_sha256 FROM {INGEST_LOG}").fetchall())
    rows = []
    for s in specs:
        prov = con.execute(
            f"SELECT any_value(_sha256), any_value(_loaded_at)::VARCHAR, count(*) FROM {table_name('raw', s.id)}"
        ).fetchone()
        rows.append(
            (
                s.id,
                s.dataset_id,
                s.file,
                s.kind,
                s.publisher,
                s.title_zh,
                s.title_en,
                s.published,
                s.reference,
                s.measure,
                s.status,
                s.url,
                s.note,
                prov[0],
                logged.get(s.id),
                prov[1],
                prov[2],
            )
        )
    return rows


def loaded_tables(con: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    """Names of the tables present in a schema."""
    return {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [schema]
        ).fetchall()
    }


def build_core(con: duckdb.DuckDBPyConnection, specs: list[TableSpec]) -> dict[str, int]:
    """Rebuild every core table from raw/tidy; raise SourceError (and change nothing) on a problem."""
    ensure_schemas(con)  # the ingest log of a warehouse from before it existed
    raw_tables, tidy_tables = loaded_tables(con, "raw"), loaded_tables(con, "tidy")
    missing = [s.id for s in specs if s.id not in raw_tables]
    if missing:
        raise SourceError(
            [
                Problem(f"sources/{s.file}", f"table {s.id!r} has not been ingested yet")
                for s in specs
                if s.id in missing
            ]
        )
    obs_specs = [s for s in specs if s.kind == "observations" and s.id in tidy_tables]

    with transaction(con):
        _collect_tidy(con, obs_specs)
        files = {s.id: f"sources/{s.file}" for s in specs}
        problems = _build_fx_rates(con, files)
        problems += _published_rmb(con, files)
        problems += _missing_rates(con, files)
        con.execute(
            """
            CREATE OR REPLACE TABLE core.observations AS
            SELECT t.series_id, t.geography, t.segment, t.year,
                   CASE WHEN p.value IS NOT NULL THEN p.value
                        ELSE t.value_orig * t.factor * coalesce(f.cny_per_unit, 1.0) END AS value,
                   CASE WHEN p.value IS NOT NULL THEN p.value_low
                        ELSE t.low_orig * t.factor * coalesce(f.cny_per_unit, 1.0) END AS value_low,
                   CASE WHEN p.value IS NOT NULL THEN p.value_high
                        ELSE t.high_orig * t.factor * coalesce(f.cny_per_unit, 1.0) END AS value_high,
                   CASE WHEN t.series_id IN (?, ?) THEN coalesce(t.currency, t.canonical_unit)
                        ELSE t.canonical_unit END AS unit,
                   t.quantity,
                   t.value_orig, t.unit_text AS unit_orig, t.currency AS currency_orig, t.value_text, t.qualifier,
                   t.source_id, t.status, t.vintage,
                   t.year > year(t.vintage) OR list_contains(?, t.status) AS is_outlook,
                   t.src_row, t.src_col, t.source_note, t.note, t.formula, t.derived_from,
                   CASE WHEN p.value IS NOT NULL THEN p.value / (t.value_orig * t.factor)
                        ELSE f.cny_per_unit END AS fx_rate,
                   CASE WHEN p.value IS NULL THEN f.year END AS fx_year,
                   coalesce(p.rmb_source_id, f.source_id) AS fx_source_id,
                   CASE WHEN p.value IS NOT NULL THEN ? ELSE f.basis END AS fx_basis
            FROM _all_tidy t
            LEFT JOIN _published_rmb p USING (series_id, geography, segment, year, source_id)
            LEFT JOIN core.fx_rates f ON f.currency = t.currency AND f.year = t.year AND t.currency <> 'CNY'
                AND t.series_id NOT IN (?, ?) AND p.value IS NULL
            ORDER BY t.series_id, t.geography, t.segment, t.year, t.vintage""",
            [*RATE_SERIES, list(NOT_ACTUAL_STATUSES), PUBLISHED, *RATE_SERIES],
        )
        dups = (
            con.execute("""
            SELECT series_id, geography, segment, year, vintage, list(source_id || ' row ' || src_row)
            FROM core.observations GROUP BY ALL HAVING count(*) > 1 LIMIT 20""").fetchall()
            if repeated_hash(con, "core.observations", "series_id, geography, segment, year, vintage")
            else []
        )
        problems += [
            Problem(
                "core.observations",
                f"{s}/{g}/{sg}/{y} vintage {v} appears more than once: "
                f"{', '.join(w)}; give the newer table a later `published` date or drop a row",
            )
            for s, g, sg, y, v, w in dups
        ]
        if problems:
            raise SourceError(problems)
        # A table, not a view: the report reads it with ~200 small queries, each of which re-ran the window.
        if con.execute(
            "SELECT count(*) FROM duckdb_views() WHERE schema_name = 'core' AND view_name = 'observations_latest'"
        ).fetchone()[0]:
            con.execute("DROP VIEW core.observations_latest")  # warehouses built before it became a table
        con.execute("""CREATE OR REPLACE TABLE core.observations_latest AS
            SELECT * FROM core.observations
            QUALIFY row_number() OVER (PARTITION BY series_id, geography, segment, year ORDER BY vintage DESC) = 1
            ORDER BY series_id, geography, segment, year""")
        verdict = plausibility.judge(con, specs)
        if verdict.problems:
            raise SourceError(verdict.problems)
        plausibility.write_accepted(con, verdict.accepted)
        con.execute("CREATE OR REPLACE TABLE core.series AS SELECT * FROM raw.series_catalog ORDER BY series_id")
        con.execute("CREATE OR REPLACE TABLE core.labels AS SELECT * FROM raw.labels ORDER BY dimension, code")
        con.execute("""CREATE OR REPLACE TABLE core.sources (source_id VARCHAR PRIMARY KEY, dataset VARCHAR,
            file VARCHAR, kind VARCHAR, publisher VARCHAR, title_zh VARCHAR, title_en VARCHAR, published DATE,
            reference VARCHAR, measure VARCHAR, status VARCHAR, url VARCHAR, note VARCHAR, sha256 VARCHAR,
            entry_sha256 VARCHAR, loaded_at VARCHAR, raw_rows BIGINT)""")
        con.executemany("INSERT INTO core.sources VALUES (" + ", ".join("?" * 17) + ")", _sources_rows(con, specs))
        con.execute("DROP TABLE _all_tidy")
        con.execute("DROP TABLE _vintages")
        con.execute("DROP TABLE _published_rmb")
        counts = {
            t: con.execute(f"SELECT count(*) FROM core.{t}").fetchone()[0]
            for t in ("observations", "series", "sources", "labels", "fx_rates")
        }
    return counts


def _collect_tidy(con: duckdb.DuckDBPyConnection, specs: list[TableSpec]) -> None:
    """_all_tidy: the tidy rows of every observation table with its vintage (the table's `published` date), copied
    once, table by table. The statements below read it several times; a view over a UNION ALL of hundreds of tables
    would be re-planned by each of them and ran out of memory at 300 tables (docs/benchmarks.md)."""
    con.execute("CREATE OR REPLACE TEMP TABLE _vintages (source_id VARCHAR PRIMARY KEY, vintage DATE)")
    con.executemany("INSERT INTO _vintages VALUES (?, ?)", [(s.id, s.published) for s in specs])
    for i, spec in enumerate(specs):
        select = (
            f"SELECT t.*, v.vintage FROM {table_name('tidy', spec.id)} t JOIN _vintages v ON v.source_id = t.source_id"
        )
        if i == 0:
            con.execute(f"CREATE OR REPLACE TEMP TABLE _all_tidy AS {select}")
        else:
            con.execute(f"INSERT INTO _all_tidy BY NAME {select}")


def _build_fx_rates(con: duckdb.DuckDBPyConnection, files: dict[str, str]) -> list[Problem]:
    """core.fx_rates, CNY per unit by currency × year: the annual averages of series fx_rate (in 元), plus EUR and the
    cross rates from the ECB's euro rates (fx_per_eur): CNY per X = (CNY per EUR) ÷ (X per EUR) of the same year and
    table. A rate row in the wrong currency, or an X-per-EUR row without the CNY row of its year, is a problem."""
    problems = [
        Problem(files[sid], f"{what}; {accepted}", row, col)
        for sid, row, col, what, accepted in con.execute(
            """
            SELECT source_id, src_row, src_col,
                   series_id || ' ' || segment || ' ' || year || ' is in ' || coalesce(currency, unit_text),
                   CASE WHEN series_id = ? THEN 'write it in 元 (yuan per unit of ' || segment || ')'
                        ELSE 'write it in the currency of its segment (' || segment || ' per euro)' END
            FROM _all_tidy
            WHERE series_id = ? AND coalesce(currency, '') <> 'CNY'
               OR series_id = ? AND coalesce(currency, '') <> segment
            ORDER BY source_id, src_row""",
            [FX_SERIES, FX_SERIES, EUR_SERIES],
        ).fetchall()
    ]
    con.execute(
        """
        CREATE OR REPLACE TABLE core.fx_rates AS
        WITH eur AS (
            SELECT year, value_orig * factor AS cny_per_eur, source_id, vintage, status
            FROM _all_tidy WHERE series_id = ? AND segment = 'CNY'),
        rates AS (
            SELECT segment AS currency, year, value_orig * factor AS cny_per_unit, ? AS basis, source_id, vintage,
                   status
            FROM _all_tidy WHERE series_id = ? AND currency = 'CNY'
            UNION ALL
            SELECT 'EUR', year, cny_per_eur, ?, source_id, vintage, status FROM eur
            UNION ALL
            SELECT x.segment, x.year, e.cny_per_eur / (x.value_orig * x.factor), ?, x.source_id, x.vintage, x.status
            FROM _all_tidy x JOIN eur e ON e.year = x.year AND e.source_id = x.source_id
            WHERE x.series_id = ? AND x.segment NOT IN ('CNY', 'EUR') AND x.currency = x.segment)
        SELECT * FROM rates
        QUALIFY row_number() OVER (PARTITION BY currency, year ORDER BY basis = ? DESC, vintage DESC) = 1
        ORDER BY currency, year""",
        [EUR_SERIES, ANNUAL, FX_SERIES, ANNUAL, CROSS, EUR_SERIES, ANNUAL],
    )
    problems += [
        Problem(
            files[sid],
            f"{cur} per euro of {year} has no CNY per euro of {year} in the same table; add a CNY row "
            f"for {year} (yuan per euro) to it",
            row,
            col,
        )
        for sid, row, col, cur, year in con.execute(
            """
            SELECT x.source_id, x.src_row, x.src_col, x.segment, x.year FROM _all_tidy x
            WHERE x.series_id = ? AND x.segment <> 'CNY' AND NOT EXISTS (
                SELECT 1 FROM _all_tidy e WHERE e.series_id = ? AND e.segment = 'CNY' AND e.year = x.year
                AND e.source_id = x.source_id)
            ORDER BY x.source_id, x.src_row""",
            [EUR_SERIES, EUR_SERIES],
        ).fetchall()
    ]
    return problems


def _published_rmb(con: duckdb.DuckDBPyConnection, files: dict[str, str]) -> list[Problem]:
    """_published_rmb: per foreign-currency row of series `s`, the RMB amount its own table gives in series
    `s_rmb` (same geography, segment, year): that amount, not a rate, is the row's RMB value. An `s_rmb` row without
    a foreign-currency row of `s` to pair with, or not in yuan, is a problem."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _published_rmb AS
        SELECT f.series_id, f.geography, f.segment, f.year, f.source_id, r.source_id AS rmb_source_id,
               r.value_orig * r.factor AS value, r.low_orig * r.factor AS value_low,
               r.high_orig * r.factor AS value_high
        FROM _all_tidy r JOIN _all_tidy f
          ON r.series_id = f.series_id || ? AND f.geography = r.geography AND f.segment = r.segment
         AND f.year = r.year AND f.source_id = r.source_id
        WHERE f.currency IS NOT NULL AND f.currency <> 'CNY' AND r.currency = 'CNY'""",
        [PUBLISHED_RMB_SUFFIX],
    )
    return [
        Problem(
            files[sid],
            f"{series} {geo} {seg} {year} is an RMB equivalent ({series} = the publisher's RMB amount of a "
            f"foreign-currency row of {series.removesuffix(PUBLISHED_RMB_SUFFIX)}), but {unpaired}; accepted: an "
            f"amount in 元/亿元/万亿元 next to a row of {series.removesuffix(PUBLISHED_RMB_SUFFIX)} with the same "
            "geography, segment and year in a foreign currency",
            row,
            col,
        )
        for sid, row, col, series, geo, seg, year, unpaired in con.execute(
            """
            SELECT r.source_id, r.src_row, r.src_col, r.series_id, r.geography, r.segment, r.year,
                   CASE WHEN coalesce(r.currency, '') <> 'CNY' THEN 'it is not in yuan'
                        ELSE 'its table has no such row' END
            FROM _all_tidy r JOIN raw.series_catalog c ON r.series_id = c.series_id || ?
            WHERE NOT EXISTS (
                SELECT 1 FROM _published_rmb p WHERE p.series_id || ? = r.series_id AND p.geography = r.geography
                AND p.segment = r.segment AND p.year = r.year AND p.source_id = r.source_id)
            ORDER BY r.source_id, r.src_row""",
            [PUBLISHED_RMB_SUFFIX, PUBLISHED_RMB_SUFFIX],
        ).fetchall()
    ]


def _missing_rates(con: duckdb.DuckDBPyConnection, files: dict[str, str]) -> list[Problem]:
    """One problem per table × currency × year whose foreign amounts have neither a published RMB amount nor a rate
    of their year: it names the first such cell and the rate table to add the year to."""
    where = {
        cur: (files[sid], basis)
        for cur, sid, basis in con.execute(
            "SELECT currency, mode(source_id), mode(basis) FROM core.fx_rates GROUP BY currency"
        ).fetchall()
    }
    default = files.get("fx_rates", "sources/fx_rates.csv")
    problems = []
    for sid, row, col, cur, year, known in con.execute(
        """
        SELECT t.source_id, min(t.src_row), arg_min(t.src_col, t.src_row), t.currency, t.year,
               (SELECT string_agg(DISTINCT f.year::VARCHAR, ', ' ORDER BY f.year::VARCHAR) FROM core.fx_rates f
                WHERE f.currency = t.currency)
        FROM _all_tidy t
        WHERE t.currency IS NOT NULL AND t.currency <> 'CNY' AND t.series_id NOT IN (?, ?)
          AND NOT EXISTS (SELECT 1 FROM core.fx_rates f WHERE f.currency = t.currency AND f.year = t.year)
          AND NOT EXISTS (SELECT 1 FROM _published_rmb p WHERE p.series_id = t.series_id
              AND p.geography = t.geography AND p.segment = t.segment AND p.year = t.year AND p.source_id = t.source_id)
        GROUP BY t.source_id, t.currency, t.year ORDER BY t.source_id, t.year, t.currency""",
        list(RATE_SERIES),
    ).fetchall():
        file, basis = where.get(cur, (default, ANNUAL))
        add = (
            f"a {cur} row and a CNY row for {year} (units per euro; yuan per {cur} is derived from the two)"
            if basis == CROSS
            else f"a row for {cur} {year} (yuan per {cur}, annual average)"
        )
        problems.append(
            Problem(
                files[sid],
                f"amount in {cur} of {year}: no {cur} exchange rate for {year} "
                f"({'rates known for ' + known if known else 'no rate for ' + cur + ' at all'}); "
                f"add {add} to {file}, or give the publisher's own RMB amount in a row of series "
                f"<series>{PUBLISHED_RMB_SUFFIX}",
                row,
                col,
            )
        )
    return problems


def sources_dir_problems(sources_dir: Path, specs: list[TableSpec]) -> list[Problem]:
    """Every manifest entry has its file (inside sources/) and every file its entry."""
    from pipeline.lib.ingest.manifest import unlisted_files

    problems = []
    for s in specs:
        path = s.path(sources_dir)
        if not path.is_relative_to(sources_dir.resolve()):
            problems.append(Problem("sources/manifest.yaml", f"entry {s.id!r} points outside sources/", None, "file"))
        elif not path.is_file():
            problems.append(
                Problem("sources/manifest.yaml", f"entry {s.id!r}: file {s.file!r} is missing", None, "file")
            )
    problems += [
        Problem(f"sources/{f}", "file has no manifest entry; add one to sources/manifest.yaml")
        for f in unlisted_files(sources_dir, specs)
    ]
    problems += [
        Problem(
            f"sources/{link}",
            "is a symbolic link; keep the file itself in sources/ (links are never "
            "followed, so that nothing outside sources/ is read)",
        )
        for link in links_in(sources_dir)
    ]
    return problems


def links_in(folder: Path) -> list[str]:
    """Symbolic links anywhere under `folder` (files or folders; not followed), relative to it."""
    found = []
    for parent, dirs, files in os.walk(folder, followlinks=False):
        for name in sorted(dirs + files):
            path = Path(parent) / name
            if path.is_symlink():
                found.append(path.relative_to(folder).as_posix())
    return sorted(found)
