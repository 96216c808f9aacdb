"""Build the whole warehouse without Dagster (tests, benchmarks, `reportctl add-source` validation)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.lib.ingest.catalog import load_catalogs
from pipeline.lib.ingest.manifest import load_manifest
from pipeline.lib.ingest.tables import IngestResult, ensure_schemas, ingest_table
from pipeline.lib.warehouse.core import build_core


def build_warehouse(con: duckdb.DuckDBPyConnection, sources_dir: Path) -> dict[str, IngestResult]:
    """Catalogues, every manifest table, then the core model; raises SourceError on the first bad table."""
    ensure_schemas(con)
    load_catalogs(con, sources_dir)
    specs = load_manifest(sources_dir)
    results = {s.id: ingest_table(con, s, sources_dir) for s in specs}
    build_core(con, specs)
    return results
