"""Forecast layer: assumptions → projections, headline claims, sensitivity, backtest, forecast vs actual."""

from __future__ import annotations

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from pipeline.defs.checks_util import result_from
from pipeline.defs.failures import reported_as_failure
from pipeline.defs.ingest.assets import table_key
from pipeline.defs.resources import WRITER_POOL
from pipeline.defs.table_metadata import table_metadata
from pipeline.defs.warehouse.assets import OBSERVATIONS, SERIES
from pipeline.lib.forecast.inputs import AGGREGATES, ASSUMPTIONS, BOUNDS, CLAIMS

TABLES = {
    "assumptions": "Validated assumptions per series and scenario (method, rate or target, rationale, source).",
    "projections": "Series × year × scenario: value, method, base year, rate, fit statistics, assumption id.",
    "headlines": "Each published claim evaluated against the independent base scenario: verdict, gap, the growth "
    "the claim needs and the growth the history shows.",
    "sensitivity": "Claimed targets in their claim year with every base growth rate moved by ±1..5 pp.",
    "backtest": "Rolling-origin MAPE of each method and horizon (series with ≥5 actual points; no training point "
    "derived from a held-out one).",
    "forecast_vs_actual": "Forecast made with an earlier vintage vs the actual a later vintage brought.",
    "bounds": "Plausibility bounds every projection must respect, with rationale and source.",
    "violations": "Projections that break a plausibility bound (empty when the forecasts are plausible).",
}
KEYS = {name: dg.AssetKey(["forecast", name]) for name in TABLES}
HEADLINES = KEYS["headlines"]


def headline_table(headlines: list[dict]) -> dg.MetadataValue:
    """The published claims against the base scenario, in human units (万亿元 and RMB tn), for the UI."""
    from pipeline.lib.report import fmt

    def amount(value: float | None, unit: str, lang: str) -> str:
        return "–" if value is None else fmt.quantity(value, unit, lang)

    records = [
        dg.TableRecord(
            {
                "claim": h["text_en"],
                "claimed": f"{h['comparator']} {amount(h['claimed'], h['unit'], 'en')}",
                "base scenario (en)": amount(h["ours"], h["unit"], "en"),
                "base scenario (zh)": amount(h["ours"], h["unit"], "zh"),
                "base CAGR": "–" if h["implied_cagr"] is None else f"{h['implied_cagr']:.1%}",
                "needed CAGR": "–" if h["needed_cagr"] is None else f"{h['needed_cagr']:.1%}",
                "gap": "–" if h["gap"] is None else f"{h['gap']:+.1%}",
                "verdict": h["verdict"].replace("_", " "),
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


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key,
            group_name="forecast",
            kinds={"duckdb", "pandas"},
            description=TABLES[name],
            owners=["team:analysts"],
            deps=[
                OBSERVATIONS,
                SERIES,
                table_key(ASSUMPTIONS),
                table_key(AGGREGATES),
                table_key(CLAIMS),
                table_key(BOUNDS),
            ],
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
        )
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
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)
    yield result_from(
        implausible(tables),
        check_name="forecasts_plausible",
        asset_key=HEADLINES,
        bounds=len(tables["bounds"]),
        projections=len(tables["projections"]),
    )
