"""Ingest layer: one asset per source table (raw.<id> + tidy.<id>), plus the series/label catalogue.

Assets are generated from sources/manifest.yaml when Dagster loads the code (the manifest is read, the
database is not opened). The file's sha256 is the asset's data version.
"""

from __future__ import annotations

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline.config import sources_dir
from pipeline.defs.checks_util import result_from
from pipeline.defs.failures import reported_as_failure
from pipeline.defs.resources import WRITER_POOL
from pipeline.lib.catalog import load_catalogs
from pipeline.lib.checks import TABLE_CHECKS
from pipeline.lib.errors import SourceError
from pipeline.lib.ingest import ensure_schemas, ingest_table
from pipeline.lib.inputs import file_sha256, source_hashes
from pipeline.lib.manifest import TableSpec, load_manifest
from pipeline.lib.tidy import q

CATALOG_KEY = dg.AssetKey(["raw", "catalog"])
CATALOG_SOURCE_KEY = dg.AssetKey(["sources", "catalog"])


def manifest_specs() -> list[TableSpec]:
    """The manifest's entries, or none when it is broken (the ingest assets then report the error)."""
    try:
        return load_manifest(sources_dir())
    except SourceError:
        return []


def table_key(table_id: str) -> dg.AssetKey:
    """Asset key of a source table's ingest asset."""
    return dg.AssetKey(["raw", table_id])


def source_key(table_id: str) -> dg.AssetKey:
    """Asset key of the file in sources/ behind a table (an observable source asset)."""
    return dg.AssetKey(["sources", table_id])


def catalog_version(hashes: dict[str, str]) -> str:
    """Data version of the catalogue: its two files' hashes combined."""
    return "-".join(hashes[k][:16] for k in sorted(hashes) if k.startswith("catalog:"))


@dg.observable_source_asset(key=CATALOG_SOURCE_KEY, group_name="sources",
                            description="sources/series.csv and sources/labels.csv (data version = file hashes).")
def catalog_files() -> dg.DataVersion:
    """Observe the catalogue files' content hashes."""
    return dg.DataVersion(catalog_version(source_hashes(sources_dir())))


def make_source_asset(spec: TableSpec) -> dg.SourceAsset:
    """The observable source asset of one file (data version = its sha256)."""

    @dg.observable_source_asset(key=source_key(spec.id), group_name="sources",
                                description=f"sources/{spec.file} (data version = sha256 of the file).",
                                metadata={"file": f"sources/{spec.file}"})
    def _observe() -> dg.DataVersion:
        return dg.DataVersion(file_sha256(spec.path(sources_dir())))

    return _observe


@dg.asset(key=CATALOG_KEY, group_name="ingest", kinds={"duckdb", "csv"}, pool=WRITER_POOL, deps=[CATALOG_SOURCE_KEY],
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


def table_check_specs(spec: TableSpec) -> list[dg.AssetCheckSpec]:
    """The blocking checks evaluated right after ingesting an observations table."""
    if spec.kind != "observations":
        return []
    return [dg.AssetCheckSpec(name, asset=table_key(spec.id), blocking=True, description=fn.__doc__)
            for name, fn in TABLE_CHECKS.items()]


def make_ingest_asset(spec: TableSpec) -> dg.AssetsDefinition:
    """The ingest asset of one manifest entry; its checks run in the same step, on the same connection (one step
    per check would cost Dagster ~50 ms each, 150 times)."""

    @dg.asset(
        check_specs=table_check_specs(spec),
        key=table_key(spec.id), group_name="ingest", deps=[CATALOG_KEY, source_key(spec.id)], pool=WRITER_POOL,
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
                checks = [result_from(fn(con, spec.id), check_name=name)
                          for name, fn in TABLE_CHECKS.items()] if spec.kind == "observations" else []
        return dg.MaterializeResult(
            check_results=checks,
            data_version=dg.DataVersion(result.sha256),
            metadata={"sha256": result.sha256, "raw_rows": result.raw_rows, "tidy_rows": result.tidy_rows,
                      "loaded_at": result.loaded_at, "preview": dg.MetadataValue.md(preview)},
        )

    return _ingest


ingest_assets = [make_ingest_asset(s) for s in manifest_specs()]
source_assets = [make_source_asset(s) for s in manifest_specs()]
