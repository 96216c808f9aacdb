"""Build the tidy core model from the per-table tidy rows, in one transaction.

core.observations  one row per series × geography × segment × year × vintage, value in canonical units;
                   is_outlook marks values that are not actuals: years after the table's publication year (published
                   forecasts) and years a table marks as estimate or forecast (2022E, 2025F)
core.series        bilingual series catalogue          core.labels   bilingual names of geographies/segments
core.sources       one row per source table: citation, status, file and manifest-entry hashes, load time
core.fx_rates      CNY per unit of foreign currency (latest vintage of series fx_rate)
core.observations_latest   the latest vintage of each observation (a table, rebuilt with the others)
core.accepted_outliers     values outside the intake bounds that their manifest entry accepted, with the reason
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from pipeline.lib.db import transaction
from pipeline.lib.errors import Problem, SourceError
from pipeline.lib.ingest.manifest import NOT_ACTUAL_STATUSES, TableSpec
from pipeline.lib.ingest.tables import INGEST_LOG, ensure_schemas
from pipeline.lib.ingest.tidy import lit, q, repeated_hash
from pipeline.lib.warehouse import plausibility

FX_SERIES = "fx_rate"


def _sources_rows(con: duckdb.DuckDBPyConnection, specs: list[TableSpec]) -> list[tuple]:
    logged = dict(con.execute(f"SELECT source_id, entry_sha256 FROM {INGEST_LOG}").fetchall())
    rows = []
    for s in specs:
        prov = con.execute(
            f"SELECT any_value(_sha256), any_value(_loaded_at)::VARCHAR, count(*) FROM raw.{q(s.id)}"
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

    def union(tables: list[TableSpec]) -> str:
        return " UNION ALL ".join(
            f"SELECT t.*, {lit(s.published.isoformat())}::DATE AS vintage FROM tidy.{q(s.id)} t" for s in tables
        )

    # The sorted CREATE of core.observations reads the biggest tidy table first: DuckDB 2.0.1 runs out of memory
    # under a memory limit when a sort's input is a UNION ALL whose first branch is smaller than a later one.
    sizes = dict(
        con.execute(
            "SELECT table_name, estimated_size FROM duckdb_tables() "
            "WHERE database_name = current_database() AND schema_name = 'tidy'"
        ).fetchall()
    )
    biggest_first = sorted(obs_specs, key=lambda s: -sizes.get(s.id, 0))
    with transaction(con):
        # a view, not a copy: every statement below reads the tidy tables directly
        con.execute("CREATE OR REPLACE TEMP VIEW _all_tidy AS " + union(obs_specs))
        con.execute(f"""
            CREATE OR REPLACE TABLE core.fx_rates AS
            SELECT segment AS currency, value_orig * factor AS cny_per_unit, year AS as_of_year, vintage,
                   source_id, status, formula
            FROM _all_tidy WHERE series_id = {lit(FX_SERIES)}
            QUALIFY row_number() OVER (PARTITION BY segment ORDER BY vintage DESC, year DESC) = 1""")
        no_fx = con.execute("""
            SELECT t.source_id, min(t.src_row), any_value(t.src_col), t.currency FROM _all_tidy t
            ANTI JOIN core.fx_rates f ON f.currency = t.currency
            WHERE t.currency IS NOT NULL AND t.currency <> 'CNY' GROUP BY t.source_id, t.currency""").fetchall()
        files = {s.id: f"sources/{s.file}" for s in specs}
        problems = [
            Problem(files[sid], f"no FX rate for {cur}: add a fx_rate row for {cur} to sources/fx_rates.csv", row, col)
            for sid, row, col, cur in no_fx
        ]
        not_actual = ", ".join(map(lit, NOT_ACTUAL_STATUSES))
        con.execute(f"""
            CREATE OR REPLACE TABLE core.observations AS
            SELECT t.series_id, t.geography, t.segment, t.year,
                   t.value_orig * t.factor * coalesce(f.cny_per_unit, 1.0) AS value,
                   t.low_orig * t.factor * coalesce(f.cny_per_unit, 1.0) AS value_low,
                   t.high_orig * t.factor * coalesce(f.cny_per_unit, 1.0) AS value_high,
                   t.canonical_unit AS unit, t.quantity,
                   t.value_orig, t.unit_text AS unit_orig, t.currency AS currency_orig, t.value_text, t.qualifier,
                   t.source_id, t.status, t.vintage,
                   t.year > year(t.vintage) OR t.status IN ({not_actual}) AS is_outlook,
                   t.src_row, t.src_col, t.source_note, t.note, t.formula, t.derived_from
            FROM ({union(biggest_first)}) t
            LEFT JOIN core.fx_rates f ON f.currency = t.currency AND t.currency <> 'CNY'
            ORDER BY t.series_id, t.geography, t.segment, t.year, t.vintage""")
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
        con.execute("DROP VIEW _all_tidy")
        counts = {
            t: con.execute(f"SELECT count(*) FROM core.{t}").fetchone()[0]
            for t in ("observations", "series", "sources", "labels", "fx_rates")
        }
    return counts


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
