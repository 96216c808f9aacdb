"""Ingest layer: one asset per source table (raw.<id> + tidy.<id>), plus the series/label catalogue.

Assets are generated from sources/manifest.yaml when Dagster loads the code (the manifest is read, the
database is not opened). The file's sha256 is the asset's data version.
"""

from __future__ import annotations

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline.config import sources_dir
from pipeline.defs.failures import reported_as_failure
from pipeline.defs.resources import WRITER_POOL
from pipeline.lib.catalog import load_catalogs
from pipeline.lib.errors import SourceError
from pipeline.lib.ingest import ensure_schemas, ingest_table
from pipeline.lib.manifest import TableSpec, load_manifest
from pipeline.lib.tidy import q

CATALOG_KEY = dg.AssetKey(["raw", "catalog"])


def manifest_specs() -> list[TableSpec]:
    """The manifest's entries, or none when it is broken (the ingest assets then report the error)."""
    try:
        return load_manifest(sources_dir())
    except SourceError:
        return []


def table_key(table_id: str) -> dg.AssetKey:
    """Asset key of a source table's ingest asset."""
    return dg.AssetKey(["raw", table_id])


@dg.asset(key=CATALOG_KEY, group_name="ingest", kinds={"duckdb", "csv"}, pool=WRITER_POOL,
          owners=["team:analysts"],
          description="Series catalogue (sources/series.csv) and bilingual labels (sources/labels.csv).")
def catalog(duckdb: DuckDBResource) -> dg.MaterializeResult:
    """Load the catalogues the ingest assets map names against."""
    with reported_as_failure(), duckdb.get_connection() as con:
        ensure_schemas(con)
        n_series, n_labels = load_catalogs(con, sources_dir())
    return dg.MaterializeResult(metadata={"series": n_series, "labels": n_labels})


def _preview(con, table: str, limit: int = 8) -> str:
    frame = con.execute(f"SELECT * EXCLUDE (_file, _sha256, _loaded_at) FROM {table} LIMIT {limit}").df()
    return frame.to_markdown(index=False)


def make_ingest_asset(spec: TableSpec) -> dg.AssetsDefinition:
    """The ingest asset of one manifest entry."""

    @dg.asset(
        key=table_key(spec.id), group_name="ingest", deps=[CATALOG_KEY], pool=WRITER_POOL,
        kinds={"duckdb", spec.file.rsplit(".", 1)[-1].lower()}, owners=["team:analysts"],
        description=f"{spec.title_en} / {spec.title_zh}. {spec.publisher}, {spec.published}, {spec.reference}. "
                    f"File sources/{spec.file} → raw.{spec.id}" + (f" and tidy.{spec.id}." if
                                                                   spec.kind == "observations" else "."),
        metadata={"file": f"sources/{spec.file}", "publisher": spec.publisher, "reference": spec.reference,
                  "status": spec.status, "published": spec.published.isoformat()},
    )
    def _ingest(duckdb: DuckDBResource) -> dg.MaterializeResult:
        with reported_as_failure():
            current = {s.id: s for s in load_manifest(sources_dir())}
            if spec.id not in current:
                raise dg.Failure(description=f"manifest entry {spec.id!r} was removed; reload the code location")
            with duckdb.get_connection() as con:
                result = ingest_table(con, current[spec.id], sources_dir())
                preview = _preview(con, f"raw.{q(spec.id)}")
        return dg.MaterializeResult(
            data_version=dg.DataVersion(result.sha256),
            metadata={"sha256": result.sha256, "raw_rows": result.raw_rows, "tidy_rows": result.tidy_rows,
                      "loaded_at": result.loaded_at, "preview": dg.MetadataValue.md(preview)},
        )

    return _ingest


ingest_assets = [make_ingest_asset(s) for s in manifest_specs()]
