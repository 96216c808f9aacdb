"""Ingest one source table: stage, validate, then swap raw.<id> and tidy.<id> in one transaction.

If anything is wrong the transaction is rolled back, so the previous tables stay readable and unchanged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.lib.db import table_name, transaction
from pipeline.lib.errors import Problem, SourceError
from pipeline.lib.ingest.catalog import build_alias_table
from pipeline.lib.ingest.labels import unit_in_titles
from pipeline.lib.ingest.manifest import TableSpec
from pipeline.lib.ingest.readers import inspect_file, load_file
from pipeline.lib.ingest.tidy import build_tidy

SCHEMAS = ("raw", "tidy", "core", "forecast", "report")


@dataclass(frozen=True)
class IngestResult:
    """What one ingestion produced (for Dagster metadata and the CLI)."""

    table_id: str
    file: str
    sha256: str
    raw_rows: int
    tidy_rows: int
    loaded_at: str


INGEST_LOG = "raw._ingest_log"  # a leading underscore: no manifest id can take the name


def ensure_schemas(con: duckdb.DuckDBPyConnection) -> None:
    """Create the warehouse schemas (and the ingest log) if they do not exist yet."""
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {INGEST_LOG} (source_id VARCHAR PRIMARY KEY, sha256 VARCHAR, "
        "entry_sha256 VARCHAR, loaded_at VARCHAR)"
    )


def ingest_table(
    con: duckdb.DuckDBPyConnection, spec: TableSpec, sources_dir: Path, loaded_at: dt.datetime | None = None
) -> IngestResult:
    """Load `spec`'s file into raw.<id> (as received + provenance) and, for observation tables, tidy.<id>."""
    label = f"sources/{spec.file}"
    path = spec.path(sources_dir)
    if not path.is_relative_to(sources_dir.resolve()):
        raise SourceError(
            Problem(
                "sources/manifest.yaml", f"entry {spec.id!r}: file {spec.file!r} points outside sources/", column="file"
            )
        )
    if not path.is_file():
        raise SourceError(Problem(label, f"file named by manifest entry {spec.id!r} does not exist"))
    facts = inspect_file(path, label, spec.encoding)
    stamp = (loaded_at or dt.datetime.now(dt.UTC)).replace(microsecond=0).isoformat()
    ensure_schemas(con)
    with transaction(con):
        raw = table_name("raw", spec.id)
        provenance = [
            ("_file", spec.file, "VARCHAR"),
            ("_sha256", facts.sha256, "VARCHAR"),
            ("_loaded_at", stamp, "TIMESTAMPTZ"),
        ]
        loaded = load_file(con, path, label, raw, spec.encoding, spec.sheet, spec.header_rows, provenance)
        tidy_rows = 0
        if spec.kind == "observations":
            build_alias_table(con)
            if spec.unit is None and (title_unit := unit_in_titles(loaded.titles)):
                spec = spec.model_copy(update={"unit": title_unit})  # `单位：亿元` above the header: the default unit
            tidy_rows = build_tidy(con, spec, loaded.label, raw, table_name("tidy", spec.id))
        else:
            con.execute(f"DROP TABLE IF EXISTS {table_name('tidy', spec.id)}")
        raw_rows = con.execute(f"SELECT count(*) FROM {raw}").fetchone()[0]
        con.execute(
            f"INSERT OR REPLACE INTO {INGEST_LOG} VALUES (?, ?, ?, ?)",
            [spec.id, facts.sha256, spec.entry_sha256, stamp],
        )
    return IngestResult(spec.id, spec.file, facts.sha256, raw_rows, tidy_rows, stamp)
