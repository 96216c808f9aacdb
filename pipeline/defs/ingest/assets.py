"""Ingest layer: one asset per source table (raw.<id> + tidy.<id>), plus the series/label catalogue.

Assets are generated from sources/manifest.yaml when Dagster loads the code (the manifest is read, the
database is not opened). The file's sha256 is the asset's data version.
"""

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from pipeline.config import sources_dir
from pipeline.defs.checks_util import result_from
from pipeline.defs.failures import reported_as_failure
from pipeline.defs.resources import WRITER_POOL
from pipeline.defs.table_metadata import table_metadata
from pipeline.defs.versions import code_version
from pipeline.lib.db import table_name
from pipeline.lib.errors import SourceError
from pipeline.lib.ingest.catalog import load_catalogs
from pipeline.lib.ingest.inputs import table_of
from pipeline.lib.ingest.manifest import MANIFEST_FILE, TableSpec, load_manifest
from pipeline.lib.ingest.tables import ensure_schemas, ingest_table
from pipeline.lib.warehouse.checks import TABLE_CHECKS

CATALOG_KEY = dg.AssetKey(["raw", "catalog"])
CATALOG_SOURCE_KEY = dg.AssetKey(["sources", "catalog"])
CODE_VERSION = code_version("lib/ingest", "lib/warehouse/checks", "defs/ingest")
SOURCE_VERSION = "1"  # files in sources/: Dagster does not compute them


def manifest_specs() -> list[TableSpec]:
    """The manifest's entries, or none when it is broken (the ingest assets then report the error). Parsed once
    per version of the file: loading the definitions asks for them several times."""
    path = sources_dir() / MANIFEST_FILE
    try:
        stat = path.stat()
    except OSError:
        return []
    return list(_parsed_manifest(str(path.parent), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=4)
def _parsed_manifest(folder: str, _mtime_ns: int, _size: int) -> tuple[TableSpec, ...]:
    try:
        return tuple(load_manifest(Path(folder)))
    except SourceError:
        return ()


def table_key(table_id: str) -> dg.AssetKey:
    """Asset key of a source table's ingest asset."""
    return dg.AssetKey(["raw", table_id])


def input_keys(names: list[str]) -> list[dg.AssetKey]:
    """The ingest assets that changed inputs (table ids, entry:<id>, catalog:<file>) feed."""
    return sorted({CATALOG_KEY if (table := table_of(n)) is None else table_key(table) for n in names}, key=str)


def source_key(table_id: str) -> dg.AssetKey:
    """Asset key of the file in sources/ behind a table (an external asset)."""
    return dg.AssetKey(["sources", table_id])


def catalog_version(hashes: dict[str, str]) -> str:
    """Data version of the catalogue: its two files' hashes combined."""
    return "-".join(hashes[k][:16] for k in sorted(hashes) if k.startswith("catalog:"))


CATALOG_SOURCE = dg.AssetSpec(
    CATALOG_SOURCE_KEY,
    group_name="sources",
    owners=["team:analysts"],
    kinds={"csv", "file"},
    code_version=SOURCE_VERSION,
    description="sources/series.csv and sources/labels.csv, the series catalogue and bilingual labels the analysts "
    "maintain (data version = the files' hashes, recorded by `reportctl` and the sources sensor as observations, "
    "with the files' sizes and hashes as metadata).",
    metadata={"files": "sources/series.csv, sources/labels.csv"},
)


DATA_VERSION_TAG = "dagster/data_version"


def source_observations(changed: list[str], hashes: dict[str, str]) -> list[dg.AssetObservation]:
    """Observations of the source assets behind `changed` input names (table ids, catalog:<file>), carrying each
    file's hash as its data version, so the UI marks exactly what a changed file feeds as unsynced."""
    known = {s.id: s for s in manifest_specs()}
    events = [
        dg.AssetObservation(
            asset_key=source_key(name),
            tags={DATA_VERSION_TAG: hashes[name]},
            metadata=_file_metadata(known[name].file, hashes[name]),
        )
        for name in changed
        if name in known and hashes.get(name)
    ]
    if any(name.startswith("catalog:") for name in changed):
        files = {k.split(":", 1)[1]: h for k, h in hashes.items() if k.startswith("catalog:")}
        metadata = {f"{f}_{k}": v for f, h in sorted(files.items()) for k, v in _file_metadata(f, h).items()}
        events.append(
            dg.AssetObservation(
                asset_key=CATALOG_SOURCE_KEY, tags={DATA_VERSION_TAG: catalog_version(hashes)}, metadata=metadata
            )
        )
    return events


def _file_metadata(file: str, sha256: str) -> dict[str, object]:
    """Size and hash of a file in sources/ for an observation (size -1 when it is gone)."""
    try:
        size = (sources_dir() / file).stat().st_size
    except OSError:
        size = -1
    return {"size_bytes": size, "sha256": sha256, "path": dg.MetadataValue.path(f"sources/{file}")}


def source_spec(spec: TableSpec) -> dg.AssetSpec:
    """The file in sources/ behind a table: an external asset (Dagster does not produce it) whose data version,
    the file's sha256, `reportctl` and the sources sensor record as observations."""
    return dg.AssetSpec(
        source_key(spec.id),
        group_name="sources",
        owners=["team:analysts"],
        kinds={spec.file.rsplit(".", 1)[-1].lower(), "file"},
        code_version=SOURCE_VERSION,
        description=f"sources/{spec.file}: {spec.title_en} / {spec.title_zh} ({spec.publisher}, {spec.published}, "
        f"{spec.reference}), as the analysts received it. Data version = sha256 of the file, recorded with its "
        "size as an observation by `reportctl` and the sources sensor.",
        metadata={"file": f"sources/{spec.file}"},
    )


@dg.asset(
    key=CATALOG_KEY,
    group_name="raw",
    kinds={"duckdb", "csv"},
    pool=WRITER_POOL,
    deps=[CATALOG_SOURCE_KEY],
    owners=["team:analysts"],
    code_version=CODE_VERSION,
    description="Series catalogue (sources/series.csv) and bilingual labels (sources/labels.csv).",
)
def catalog(duckdb: DuckDBResource) -> dg.MaterializeResult:
    """Load the catalogues the ingest assets map names against."""
    with reported_as_failure(), duckdb.get_connection() as con:
        ensure_schemas(con)
        n_series, n_labels = load_catalogs(con, sources_dir())
    return dg.MaterializeResult(metadata={"series": n_series, "labels": n_labels})


def _preview(con: duckdb.DuckDBPyConnection, table: str, limit: int = 8) -> str:
    frame = con.execute(f"SELECT * EXCLUDE (_file, _sha256, _loaded_at) FROM {table} LIMIT ?", [limit]).df()
    return frame.astype(object).where(frame.notna(), "").to_markdown(index=False)  # empty cells, not "nan"


def table_check_specs(spec: TableSpec) -> list[dg.AssetCheckSpec]:
    """The blocking checks evaluated right after ingesting an observations table."""
    if spec.kind != "observations":
        return []
    return [
        dg.AssetCheckSpec(name, asset=table_key(spec.id), blocking=True, description=fn.__doc__)
        for name, fn in TABLE_CHECKS.items()
    ]


def ingest_spec(spec: TableSpec) -> dg.AssetSpec:
    """The asset of one manifest entry: raw.<id> (and tidy.<id>), fed by its file in sources/."""
    return dg.AssetSpec(
        table_key(spec.id),
        group_name="raw",
        deps=[CATALOG_KEY, source_key(spec.id)],
        skippable=True,
        code_version=CODE_VERSION,
        kinds={"duckdb", spec.file.rsplit(".", 1)[-1].lower()},
        owners=["team:analysts"],
        description=f"{spec.title_en} / {spec.title_zh}. {spec.publisher}, {spec.published}, {spec.reference}. "
        f"File sources/{spec.file} → raw.{spec.id}" + (f" and tidy.{spec.id}." if spec.kind == "observations" else "."),
        metadata={
            "file": f"sources/{spec.file}",
            "publisher": spec.publisher,
            "reference": spec.reference,
            "status": spec.status,
            "published": spec.published.isoformat(),
        },
    )


def _ingest_one(con: duckdb.DuckDBPyConnection, spec: TableSpec, check_keys: set[dg.AssetCheckKey]) -> Iterator[Any]:
    result = ingest_table(con, spec, sources_dir())
    preview = _preview(con, table_name("raw", spec.id))
    checks = (
        [
            result_from(fn(con, spec.id), check_name=name, asset_key=table_key(spec.id))
            for name, fn in TABLE_CHECKS.items()
            if dg.AssetCheckKey(table_key(spec.id), name) in check_keys
        ]
        if spec.kind == "observations"
        else []
    )
    yield dg.MaterializeResult(
        asset_key=table_key(spec.id),
        data_version=dg.DataVersion(result.sha256),
        metadata={
            "sha256": result.sha256,
            "raw_rows": result.raw_rows,
            "tidy_rows": result.tidy_rows,
            "loaded_at": result.loaded_at,
            "preview": dg.MetadataValue.md(preview),
            **table_metadata(con, "raw", spec.id),
        },
    )
    yield from checks


def _checks_alone(
    con: duckdb.DuckDBPyConnection, assets: set[dg.AssetKey], checks: set[dg.AssetCheckKey]
) -> Iterator[dg.AssetCheckResult]:
    """Checks selected without their table (e.g. "Execute" on one check): evaluated on the table as it is."""
    for check in sorted(checks, key=str):
        if check.asset_key not in assets and check.name in TABLE_CHECKS:
            table_id = check.asset_key.path[-1]
            yield result_from(TABLE_CHECKS[check.name](con, table_id), check_name=check.name, asset_key=check.asset_key)


@dg.multi_asset(
    name="ingest_tables",
    specs=[ingest_spec(s) for s in manifest_specs()],
    check_specs=[c for s in manifest_specs() for c in table_check_specs(s)],
    can_subset=True,
    pool=WRITER_POOL,
)
def ingest_tables(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    """Ingest each selected table, then run its blocking checks on the same connection. One asset per table,
    one step for all (a step per table cost ~0.2 s of Dagster and connection overhead each). Each table is
    swapped in its own transaction: a bad file fails the step, naming file, row and column, and keeps its last
    good tables, while the other tables still load."""
    with reported_as_failure():
        current = {s.id: s for s in load_manifest(sources_dir())}
    failures: list[str] = []
    with duckdb.get_connection() as con:
        yield from _checks_alone(con, context.selected_asset_keys, context.selected_asset_check_keys)
        for key in sorted(context.selected_asset_keys, key=str):
            spec = current.get(key.path[-1])
            if spec is None:
                failures.append(f"manifest entry {key.path[-1]!r} was removed; reload the code location")
                continue
            try:
                yield from _ingest_one(con, spec, set(context.selected_asset_check_keys))
            except SourceError as exc:
                failures.append(str(exc))
    if failures:
        raise dg.Failure(description="\n".join(failures))


source_assets = [CATALOG_SOURCE, *(source_spec(s) for s in manifest_specs())]
