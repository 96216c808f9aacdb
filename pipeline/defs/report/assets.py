"""Report layer: context (every number the report shows), charts, and the PDFs."""

from __future__ import annotations

import base64

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline.config import output_dir
from pipeline.defs.forecast.assets import HEADLINES
from pipeline.defs.resources import WRITER_POOL
from pipeline.defs.warehouse.assets import OBSERVATIONS, SERIES, SOURCES

CONTEXT = dg.AssetKey(["report", "context"])
FIG11 = dg.AssetKey(["charts", "fig11_market_sizes"])
PDF = dg.AssetKey(["report", "pdf"])


def build_dir():
    """Intermediate build products (context JSON, chart PNGs)."""
    return output_dir() / "build"


@dg.asset(key=CONTEXT, group_name="report", deps=[OBSERVATIONS, SERIES, SOURCES, HEADLINES], kinds={"duckdb", "json"},
          pool=WRITER_POOL, description="Every number, label and citation the report needs, read from core.*")
def report_context(duckdb: DuckDBResource) -> dg.MaterializeResult:
    """Query the warehouse into output/build/context.json."""
    from pipeline.lib.report.build import write_context
    from pipeline.lib.report.context import build_context

    with duckdb.get_connection() as con:
        ctx = build_context(con)
    path = write_context(ctx, build_dir() / "context.json")
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path)),
                                          "market_total_cny": ctx["market"]["total"]})


@dg.asset(key=FIG11, group_name="charts", deps=[CONTEXT], kinds={"matplotlib"},
          description="Figure 11: China data-centre, cloud and AI market sizes (zh and en).")
def fig11_chart() -> dg.MaterializeResult:
    """Draw figure 11 for both languages from the stored context."""
    from pipeline.lib.report.build import read_context
    from pipeline.lib.report.context import LANGS, draw_charts

    ctx = read_context(build_dir() / "context.json")
    paths = {lang: draw_charts(ctx, lang, build_dir() / "charts")["fig11"] for lang in LANGS}
    thumb = base64.b64encode(paths["en"].read_bytes()).decode()
    return dg.MaterializeResult(metadata={
        "zh": dg.MetadataValue.path(str(paths["zh"])), "en": dg.MetadataValue.path(str(paths["en"])),
        "preview": dg.MetadataValue.md(f"![figure 11](data:image/png;base64,{thumb})")})


@dg.asset(key=PDF, group_name="report", deps=[CONTEXT, FIG11], kinds={"pdf"},
          description="The zh, en and bilingual PDFs in output/.")
def report_pdf() -> dg.MaterializeResult:
    """Lay out both editions and write the three PDFs atomically."""
    from pipeline.lib.report.build import build_pdfs, read_context

    ctx = read_context(build_dir() / "context.json")
    charts = {lang: {"fig11": build_dir() / "charts" / f"fig11_{lang}.png"} for lang in ("zh", "en")}
    result = build_pdfs(ctx, charts, output_dir())
    return dg.MaterializeResult(metadata={
        **{f"{k}_path": dg.MetadataValue.path(v["path"]) for k, v in result.items() if k != "numbers"},
        **{f"{k}_pages": v["pages"] for k, v in result.items() if k != "numbers"}})
