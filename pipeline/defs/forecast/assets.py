"""Forecast layer: assumptions → projections, headline claims, sensitivity, backtest, forecast vs actual."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from pipeline.defs.checks_util import result_from
from pipeline.defs.failures import reported_as_failure
from pipeline.defs.ingest.assets import table_key
from pipeline.defs.resources import WRITER_POOL
from pipeline.defs.table_metadata import table_metadata
from pipeline.defs.versions import code_version, content_version
from pipeline.defs.warehouse.assets import SERIES, dataset_key, datasets, fx_tables
from pipeline.lib.forecast.inputs import AGGREGATES, ASSUMPTIONS, BOUNDS, CLAIMS

if TYPE_CHECKING:
    from pipeline.lib.report.records import Headline

# The core datasets holding the series the engine projects, backtests and compares with later vintages (the members
# of aggregates and the drivers included), and those only the plausibility bounds read (shares that must sum to at
# most 100%). tests/test_figure_inputs.py compares both with the series the forecast tables hold.
PROJECTED_DATASETS = (
    "caam_2021_annual",
    "caam_2022_annual",
    "caict_digital_economy_2023",
    "fig11_market_history_derived",
    "fig11_market_size",
    "fig12_core_related_industry",
    "gdp_caict_basis",
    "text_data_centre",
    "text_digital_economy",
    "text_nev_auto",
)
BOUND_DATASETS = ("fig09_global_compute_by_region", "fig10_compute_by_type_2021")
CODE_VERSION = code_version("lib/forecast", "defs/forecast")

TABLES = {
    "assumptions": "Validated assumptions per series and scenario (method, rate or target, rationale, source).",
    "projections": "Series × year × scenario: value, method, base year, rate, fit statistics, assumption id.",
    "headlines": "Each published claim evaluated against the independent base scenario: verdict, gap, the growth "
    "the claim needs and the growth the history shows.",
    "sensitivity": "Claimed targets in their claim year with every base growth rate moved by ±1..5 pp.",
    "backtest": "Rolling-origin MAPE of each method and horizon (series with ≥5 actual points; no training point "
    "derived from a held-out one).",
    "forecast_vs_actual": "Forecast made with an earlier vintage vs the actual a later vintage brought.",
    "aggregates": "Aggregates of series the claims are about (e.g. data centre + cloud + AI), with their members "
    "and bilingual names.",
    "bounds": "Plausibility bounds every projection must respect, with rationale and source.",
    "violations": "Projections that break a plausibility bound (empty when the forecasts are plausible).",
}
KEYS = {name: dg.AssetKey(["forecast", name]) for name in TABLES}
HEADLINES = KEYS["headlines"]


def headline_table(headlines: Sequence[Headline]) -> dg.MetadataValue:
    """The published claims against the base scenario, in human units (万亿元 and RMB tn), for the UI."""
    from pipeline.lib.report import fmt

    def amount(value: float | None, unit: str, lang: str) -> str:
        return "–" if value is None else fmt.quantity(value, unit, lang)

    records = [
        dg.TableRecord(
            {
                "claim": h.text_en,
                "claimed": f"{h.comparator} {amount(h.claimed, h.unit, 'en')}",
                "base scenario (en)": amount(h.ours, h.unit, "en"),
                "base scenario (zh)": amount(h.ours, h.unit, "zh"),
                "base CAGR": "–" if h.implied_cagr is None else f"{h.implied_cagr:.1%}",
                "needed CAGR": "–" if h.needed_cagr is None else f"{h.needed_cagr:.1%}",
                "gap": "–" if h.gap is None else f"{h.gap:+.1%}",
                "verdict": h.verdict.replace("_", " "),
            }
        )
        for h in headlines
    ]
    columns = [
        "claim",
        "claimed",
        "base scenario (en)",
        "base scenario (zh)",
        "base CAGR",
        "needed CAGR",
        "gap",
        "verdict",
    ]
    return dg.MetadataValue.table(records, schema=dg.TableSchema([dg.TableColumn(c, "string") for c in columns]))


def forecast_deps(name: str) -> list[dg.AssetKey]:
    """What the engine reads for a forecast table: the projected datasets (the bounds' shares too for
    `violations`), the exchange rates, the series catalogue and the forecast input tables."""
    known = datasets()
    fx = {s.dataset_id for tables in known.values() for s in tables if s.id in fx_tables()}
    read = set(PROJECTED_DATASETS) | fx | (set(BOUND_DATASETS) if name == "violations" else set())
    inputs = [table_key(t) for t in (ASSUMPTIONS, AGGREGATES, CLAIMS, BOUNDS)]
    return [SERIES, *(dataset_key(d) for d in sorted(read) if d in known), *inputs]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key,
            group_name="forecast",
            kinds={"duckdb", "pandas"},
            description=f"forecast.{name}: {TABLES[name]}",
            owners=["team:analysts"],
            code_version=CODE_VERSION,
            deps=forecast_deps(name),
        )
        for name, key in KEYS.items()
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "forecasts_plausible",
            asset=KEYS["headlines"],
            blocking=True,
            description="Every projection of every scenario respects the plausibility bounds (a part not above its "
            "whole, shares within 0-100%, growth inside its range); a failure names the bound, series, year and "
            "both numbers, and stops the publish.",
        ),
        dg.AssetCheckSpec(
            "claims_assessed",
            asset=KEYS["headlines"],
            blocking=False,
            description="Every published claim has a base scenario for all its members (a warning: a claim that "
            "cannot be assessed is reported as such, and the report still publishes).",
        ),
    ],
    pool=WRITER_POOL,
)
def forecasts(duckdb: DuckDBResource):
    """Run the forecast engine; every forecast table is swapped in one transaction."""
    from pipeline.lib.forecast.engine import implausible, run_forecasts
    from pipeline.lib.report.context import headline_rows

    with reported_as_failure(), duckdb.get_connection() as con:
        tables = run_forecasts(con)
        standard = {name: table_metadata(con, "forecast", name) for name in KEYS}
        versions = {name: content_version(con, "forecast", name) for name in KEYS}
        headlines = headline_rows(con)
    for name, key in KEYS.items():
        frame = pd.DataFrame(tables[name])
        metadata: dict = {"rows": len(frame), **standard[name]}
        if name == "headlines" and headlines:
            metadata["claims"] = headline_table(headlines)
        if not frame.empty:
            preview = frame.drop(columns=[c for c in ("rationale_zh", "rationale_en", "text_zh") if c in frame])
            preview = preview.head(30).astype(object).where(preview.head(30).notna(), "")
            metadata["preview"] = dg.MetadataValue.md(preview.to_markdown(index=False, floatfmt=".4g"))
        yield dg.MaterializeResult(asset_key=key, metadata=metadata, data_version=versions[name])
    yield result_from(
        implausible(tables),
        check_name="forecasts_plausible",
        asset_key=HEADLINES,
        bounds=len(tables["bounds"]),
        projections=len(tables["projections"]),
    )
    yield result_from(
        [f"{h['claim_id']}: not assessed" for h in tables["headlines"] if h["verdict"] == "not_assessed"],
        check_name="claims_assessed",
        asset_key=HEADLINES,
        severity=dg.AssetCheckSeverity.WARN,
    )
