"""Load the series and label catalogues into the warehouse and build the alias lookup used by ingestion."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.lib.db import transaction
from pipeline.lib.errors import Problem, SourceError
from pipeline.lib.ingest.inputs import file_sha256
from pipeline.lib.ingest.manifest import LABELS_FILE, SERIES_FILE, read_catalog

SERIES_COLUMNS = ("series_id", "name_zh", "name_en", "quantity", "description_zh", "description_en", "aliases")
LABEL_COLUMNS = ("dimension", "code", "name_zh", "name_en", "aliases")
QUANTITIES = (
    "money",
    "compute",
    "operations",
    "count",
    "duration",
    "share",
    "growth",
    "energy",
    "carbon",
    "ratio",
    "training",
    "chip",
    "other",
)
DIMENSIONS = ("geography", "segment")


def _catalog_problems(series: list[dict[str, str]], labels: list[dict[str, str]]) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for i, row in enumerate(series, start=2):
        where = f"sources/{SERIES_FILE}"
        if not row["series_id"] or not row["name_zh"] or not row["name_en"]:
            problems.append(Problem(where, "series_id, name_zh and name_en are required", i))
        if row["quantity"] not in QUANTITIES:
            problems.append(Problem(where, f"quantity {row['quantity']!r} not one of {QUANTITIES}", i, "quantity"))
        if ("series", row["series_id"]) in seen:
            problems.append(Problem(where, f"duplicate series_id {row['series_id']!r}", i, "series_id"))
        seen.add(("series", row["series_id"]))
    for i, row in enumerate(labels, start=2):
        where = f"sources/{LABELS_FILE}"
        if row["dimension"] not in DIMENSIONS:
            problems.append(Problem(where, f"dimension {row['dimension']!r} not one of {DIMENSIONS}", i, "dimension"))
        if not row["code"] or not row["name_zh"] or not row["name_en"]:
            problems.append(Problem(where, "code, name_zh and name_en are required", i))
        if (row["dimension"], row["code"]) in seen:
            problems.append(Problem(where, f"duplicate code {row['code']!r}", i, "code"))
        seen.add((row["dimension"], row["code"]))
    return problems


def load_catalogs(con: duckdb.DuckDBPyConnection, sources_dir: Path) -> tuple[int, int]:
    """Validate series.csv and labels.csv and swap them into raw.series_catalog / raw.labels atomically."""
    series = read_catalog(sources_dir, SERIES_FILE, SERIES_COLUMNS)
    labels = read_catalog(sources_dir, LABELS_FILE, LABEL_COLUMNS)
    problems = _catalog_problems(series, labels)
    if problems:
        raise SourceError(problems)
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    with transaction(con):
        con.execute(
            "CREATE OR REPLACE TABLE raw.series_catalog (series_id VARCHAR PRIMARY KEY, name_zh VARCHAR, "
            "name_en VARCHAR, quantity VARCHAR, description_zh VARCHAR, description_en VARCHAR, "
            "aliases VARCHAR)"
        )
        con.executemany(
            "INSERT INTO raw.series_catalog VALUES (?, ?, ?, ?, ?, ?, ?)",
            [[r[c] for c in SERIES_COLUMNS] for r in series],
        )
        con.execute(
            "CREATE OR REPLACE TABLE raw.labels (dimension VARCHAR, code VARCHAR, name_zh VARCHAR, "
            "name_en VARCHAR, aliases VARCHAR, PRIMARY KEY (dimension, code))"
        )
        con.executemany(
            "INSERT INTO raw.labels VALUES (?, ?, ?, ?, ?)", [[r[c] for c in LABEL_COLUMNS] for r in labels]
        )
        con.execute("CREATE OR REPLACE TABLE raw.catalog_files (file VARCHAR, sha256 VARCHAR)")
        con.executemany(
            "INSERT INTO raw.catalog_files VALUES (?, ?)",
            [[name, file_sha256(sources_dir / name)] for name in (SERIES_FILE, LABELS_FILE)],
        )
    return len(series), len(labels)


def build_alias_table(con: duckdb.DuckDBPyConnection) -> None:
    """TEMP table _aliases(dimension, alias, code): every code, name and alias, lower-cased, → its code."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _aliases AS
        SELECT DISTINCT dimension, lower(trim(alias)) AS alias, code FROM (
            SELECT 'series' AS dimension, series_id AS code,
                   unnest(list_concat([series_id, name_zh, name_en], string_split(coalesce(aliases, ''), '|')))
                   AS alias
            FROM raw.series_catalog
            UNION ALL
            SELECT dimension, code, unnest(list_concat([code, name_zh, name_en],
                                                       string_split(coalesce(aliases, ''), '|'))) AS alias
            FROM raw.labels)
        WHERE trim(alias) <> ''""")
    clashes = con.execute(
        "SELECT dimension, alias, list(code) FROM _aliases GROUP BY ALL HAVING count(DISTINCT code) > 1 LIMIT 5"
    ).fetchall()
    if clashes:
        raise SourceError(
            [Problem("sources/labels.csv", f"{d} alias {a!r} points at several codes {c}") for d, a, c in clashes]
        )
