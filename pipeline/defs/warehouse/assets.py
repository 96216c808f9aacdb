"""Warehouse layer: core.observations, core.series and core.sources, rebuilt together in one transaction, plus one
asset per dataset (its rows in core.observations) so that each chart and the forecasts depend on exactly the
datasets they read."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from pipeline.config import sources_dir
from pipeline.defs.checks_util import result_from
from pipeline.defs.failures import reported_as_failure
from pipeline.defs.ingest.assets import CATALOG_KEY, manifest_specs, table_key
from pipeline.defs.resources import WRITER_POOL
from pipeline.defs.table_metadata import table_metadata
from pipeline.defs.versions import code_version, content_version
from pipeline.lib.ingest.manifest import TableSpec, load_manifest
from pipeline.lib.warehouse import checks
from pipeline.lib.warehouse.core import EUR_SERIES, FX_SERIES, build_core, sources_dir_problems

OBSERVATIONS = dg.AssetKey(["core", "observations"])
SERIES = dg.AssetKey(["core", "series"])
SOURCES = dg.AssetKey(["core", "sources"])
CODE_VERSION = code_version("lib/warehouse", "lib/ingest/manifest", "defs/warehouse")
OWNERS = ["team:analysts"]
RECENT = "recent_vintages"


def dataset_key(dataset_id: str) -> dg.AssetKey:
    """Asset key of one dataset's rows in core.observations (all its vintages)."""
    return dg.AssetKey(["core", "dataset", dataset_id])


def datasets() -> dict[str, list[TableSpec]]:
    """{dataset id: its observation tables (vintages)} from the manifest."""
    out: dict[str, list[TableSpec]] = {}
    for spec in manifest_specs():
        if spec.kind == "observations":
            out.setdefault(spec.dataset_id, []).append(spec)
    return out


def fx_tables() -> list[str]:
    """Tables of exchange rates: every money value of another dataset is converted with them."""
    return [s.id for s in manifest_specs() if s.series in (FX_SERIES, EUR_SERIES)]


def dataset_spec(dataset_id: str, tables: list[TableSpec]) -> dg.AssetSpec:
    """One dataset's rows in core.observations: fed by its tables, the exchange rates and the catalogue."""
    first = tables[-1]
    return dg.AssetSpec(
        dataset_key(dataset_id),
        group_name="core",
        kinds={"duckdb"},
        owners=OWNERS,
        code_version=CODE_VERSION,
        skippable=True,
        deps=sorted({table_key(t.id) for t in tables} | {table_key(t) for t in fx_tables()} | {CATALOG_KEY}, key=str),
        description=f"The rows of {first.title_en} / {first.title_zh} ({', '.join(t.id for t in tables)}) in "
        "core.observations, all vintages, in canonical units (money converted to CNY with core.fx_rates). Its data "
        "version is a hash of those rows, so a change elsewhere in the warehouse leaves it, and the charts and "
        "forecasts that read it, in sync.",
        metadata={"tables": ", ".join(t.id for t in tables)},
    )


def _source_ids(dataset_id: str) -> list[str]:
    return [t.id for t in datasets().get(dataset_id, [])]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            OBSERVATIONS,
            group_name="core",
            kinds={"duckdb"},
            owners=OWNERS,
            code_version=CODE_VERSION,
            skippable=True,
            deps=[table_key(s.id) for s in manifest_specs()],
            description="Tidy facts: series × geography × segment × year × vintage, value in canonical units (CNY, "
            "EFLOPS, ...), with source id and status; core.observations_latest keeps the latest vintage of each "
            "observation. The whole table, with the checks that span datasets; charts and forecasts depend on "
            "the core/dataset/* assets they read instead.",
        ),
        dg.AssetSpec(
            SERIES,
            group_name="core",
            kinds={"duckdb"},
            owners=OWNERS,
            code_version=CODE_VERSION,
            skippable=True,
            deps=[CATALOG_KEY],
            description="Bilingual series catalogue (core.series) and labels of geographies and segments "
            "(core.labels), from sources/series.csv and sources/labels.csv.",
        ),
        dg.AssetSpec(
            SOURCES,
            group_name="core",
            kinds={"duckdb"},
            owners=OWNERS,
            code_version=CODE_VERSION,
            skippable=True,
            deps=[table_key(s.id) for s in manifest_specs()],
            description="One row per source table: publisher, titles zh/en, date, figure/page reference, status, "
            "the sha256 of the file and of its manifest entry (an edition records both).",
        ),
        *(dataset_spec(d, tables) for d, tables in datasets().items()),
    ],
    check_specs=[
        dg.AssetCheckSpec(fn.__name__, asset=OBSERVATIONS, blocking=True, description=fn.__doc__)
        for fn in checks.CORE_CHECKS
    ]
    + [
        dg.AssetCheckSpec(RECENT, asset=OBSERVATIONS, blocking=False, description=checks.stale_series.__doc__),
        dg.AssetCheckSpec(
            "manifest_matches_files",
            asset=SOURCES,
            blocking=True,
            description="Every manifest entry has its file inside sources/, and every file its entry.",
        ),
    ],
    can_subset=True,
    pool=WRITER_POOL,
)
def core_model(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> Iterator[Any]:
    """Union the tidy tables, convert money to CNY through core.fx_rates, swap the core tables atomically; then
    run the checks of the core model on the same connection. Selecting only checks evaluates them on the current
    tables without rebuilding them."""
    selected, wanted = context.selected_asset_keys, context.selected_asset_check_keys
    with reported_as_failure(), duckdb.get_connection() as con:
        specs = load_manifest(sources_dir())
        if selected:
            counts = build_core(con, specs)
            yield from _materializations(con, selected, counts)
        yield from _checks(con, specs, wanted)


def _materializations(con: duckdb.DuckDBPyConnection, selected: Any, counts: dict[str, int]) -> Iterator[Any]:
    if OBSERVATIONS in selected:
        by_series = con.execute("SELECT series_id, count(*) AS n FROM core.observations GROUP BY 1 ORDER BY 1").df()
        yield dg.MaterializeResult(
            asset_key=OBSERVATIONS,
            data_version=content_version(con, "core", "observations"),
            metadata={
                "rows": counts["observations"],
                "fx_rates": counts["fx_rates"],
                "rows_by_series": dg.MetadataValue.md(by_series.to_markdown(index=False)),
                **table_metadata(con, "core", "observations"),
            },
        )
    if SERIES in selected:
        yield dg.MaterializeResult(
            asset_key=SERIES,
            data_version=dg.DataVersion(
                content_version(con, "core", "series").value + content_version(con, "core", "labels").value
            ),
            metadata={"rows": counts["series"], **table_metadata(con, "core", "series")},
        )
    if SOURCES in selected:
        yield dg.MaterializeResult(
            asset_key=SOURCES,
            data_version=content_version(con, "core", "sources", exclude=("loaded_at",)),
            metadata={"rows": counts["sources"], **table_metadata(con, "core", "sources")},
        )
    for dataset_id in datasets():
        key = dataset_key(dataset_id)
        if key in selected:
            where, params = "WHERE list_contains(?, source_id)", [_source_ids(dataset_id)]
            (rows,) = con.execute(f"SELECT count(*) FROM core.observations {where}", params).fetchone()
            yield dg.MaterializeResult(
                asset_key=key,
                data_version=content_version(con, "core", "observations", where=where, params=params),
                metadata={"dagster/row_count": int(rows), "dagster/table_name": "warehouse.core.observations"},
            )


def _checks(con: duckdb.DuckDBPyConnection, specs: list[TableSpec], wanted: Any) -> Iterator[dg.AssetCheckResult]:
    for fn in checks.CORE_CHECKS:
        if dg.AssetCheckKey(OBSERVATIONS, fn.__name__) in wanted:
            yield result_from(fn(con), check_name=fn.__name__, asset_key=OBSERVATIONS)
    if dg.AssetCheckKey(OBSERVATIONS, RECENT) in wanted:
        yield result_from(
            checks.stale_series(con), check_name=RECENT, asset_key=OBSERVATIONS, severity=dg.AssetCheckSeverity.WARN
        )
    if dg.AssetCheckKey(SOURCES, "manifest_matches_files") in wanted:
        yield result_from(
            [str(p) for p in sources_dir_problems(sources_dir(), specs)],
            check_name="manifest_matches_files",
            asset_key=SOURCES,
        )
