"""Warehouse layer: core.observations, core.series and core.sources, rebuilt together in one transaction."""

from __future__ import annotations

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline.config import sources_dir
from pipeline.defs.checks_util import result_from
from pipeline.defs.failures import reported_as_failure
from pipeline.defs.ingest.assets import CATALOG_KEY, manifest_specs, table_key
from pipeline.defs.resources import WRITER_POOL
from pipeline.defs.table_metadata import table_metadata
from pipeline.lib.ingest.manifest import load_manifest
from pipeline.lib.warehouse import checks
from pipeline.lib.warehouse.core import build_core, sources_dir_problems

OBSERVATIONS = dg.AssetKey(["core", "observations"])
SERIES = dg.AssetKey(["core", "series"])
SOURCES = dg.AssetKey(["core", "sources"])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            OBSERVATIONS,
            group_name="warehouse",
            kinds={"duckdb"},
            owners=["team:analysts"],
            deps=[table_key(s.id) for s in manifest_specs()],
            description="Tidy facts: series × geography × segment × year × vintage, value in canonical "
            "units (CNY, EFLOPS, ...), with source id and status.",
        ),
        dg.AssetSpec(
            SERIES,
            group_name="warehouse",
            kinds={"duckdb"},
            deps=[CATALOG_KEY],
            description="Bilingual series catalogue.",
        ),
        dg.AssetSpec(
            SOURCES,
            group_name="warehouse",
            kinds={"duckdb"},
            deps=[table_key(s.id) for s in manifest_specs()],
            description="One row per source table: publisher, titles, date, figure/page, status, hash.",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(fn.__name__, asset=OBSERVATIONS, blocking=True, description=fn.__doc__)
        for fn in checks.CORE_CHECKS
    ]
    + [
        dg.AssetCheckSpec(
            "manifest_matches_files",
            asset=SOURCES,
            blocking=True,
            description="Every manifest entry has its file inside sources/, and every file its entry.",
        )
    ],
    pool=WRITER_POOL,
)
def core_model(duckdb: DuckDBResource):
    """Union the tidy tables, convert money to CNY through core.fx_rates, swap the core tables atomically; then
    run the blocking checks of the core model on the same connection."""
    with reported_as_failure(), duckdb.get_connection() as con:
        specs = load_manifest(sources_dir())
        counts = build_core(con, specs)
        by_series = con.execute("SELECT series_id, count(*) AS n FROM core.observations GROUP BY 1 ORDER BY 1").df()
        results = [result_from(fn(con), check_name=fn.__name__, asset_key=OBSERVATIONS) for fn in checks.CORE_CHECKS]
        tables = {key: table_metadata(con, "core", key.path[-1]) for key in (OBSERVATIONS, SERIES, SOURCES)}
    results.append(
        result_from(
            [str(p) for p in sources_dir_problems(sources_dir(), specs)],
            check_name="manifest_matches_files",
            asset_key=SOURCES,
        )
    )
    yield dg.MaterializeResult(
        asset_key=OBSERVATIONS,
        metadata={
            "rows": counts["observations"],
            "fx_rates": counts["fx_rates"],
            "rows_by_series": dg.MetadataValue.md(by_series.to_markdown(index=False)),
            **tables[OBSERVATIONS],
        },
    )
    yield dg.MaterializeResult(asset_key=SERIES, metadata={"rows": counts["series"], **tables[SERIES]})
    yield dg.MaterializeResult(asset_key=SOURCES, metadata={"rows": counts["sources"], **tables[SOURCES]})
    yield from results
