"""Report layer: one chart asset per figure (each depends on exactly the datasets and forecast tables its query
reads), the context (every number, label and citation the text shows), the PDFs and the publish."""

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline.config import output_dir, publish_bucket, sources_dir, templates_dir
from pipeline.defs.checks_util import result_from
from pipeline.defs.forecast.assets import KEYS as FORECAST_KEYS
from pipeline.defs.ingest.assets import table_key
from pipeline.defs.resources import RenderWorkersResource, ReportSlotResource
from pipeline.defs.versions import bytes_version, code_version
from pipeline.defs.warehouse.assets import OBSERVATIONS, SERIES, SOURCES, dataset_key
from pipeline.lib.report.pages import report_dir

if TYPE_CHECKING:
    from pipeline.lib.report.figures import Figure

CONTEXT = dg.AssetKey(["report", "context"])
PDF = dg.AssetKey(["report", "pdf"])
PUBLISH = dg.AssetKey(["report", "publish"])
PDF_CHECK = "pdfs_sound"


def build_dir() -> Path:
    """Intermediate build products (context JSON, chart PNGs, staged PDFs)."""
    return output_dir() / "build"


REPORT_CODE = code_version("lib/report", "defs/report")
# the context also holds the report's pages and the numbers they name: an edited page makes it (and the PDFs) stale
CONTEXT_CODE = code_version("lib/report", "defs/report", data=(report_dir(), templates_dir() / "facts.yaml"))
PUBLISH_CODE = code_version("lib/publish", "defs/report")
OWNERS = ["team:analysts"]


def chart_figures() -> "dict[str, Figure]":
    """{figure id: figure} of every registered chart (tables are rendered by the PDF asset)."""
    from pipeline.lib.report.figures import charts as registered_charts

    return registered_charts()


def chart_key(figure_id: str) -> dg.AssetKey:
    """Asset key of a figure's chart: charts/<subject> (e.g. charts/global_compute_by_region)."""
    return dg.AssetKey(["charts", chart_figures()[figure_id].subject])


def chart_descriptions() -> dict[str, str]:
    """{figure id: full description} of every registered chart."""
    return {fid: " ".join(f.description.split()) for fid, f in chart_figures().items()}


def chart_inputs(figure_id: str) -> list[dg.AssetKey]:
    """The assets a chart's query reads, as its module declares them (DATASETS, FORECASTS, RAW_TABLES), plus the
    series and label catalogue every chart names things with."""
    m = chart_figures()[figure_id]
    return [
        SERIES,
        *(dataset_key(d) for d in m.datasets),
        *(FORECAST_KEYS[t] for t in m.forecasts),
        *(table_key(t) for t in m.raw_tables),
    ]


def chart_spec(figure_id: str) -> dg.AssetSpec:
    """The asset of one chart, with its seed figure number and module as metadata."""
    m = chart_figures()[figure_id]
    return dg.AssetSpec(
        chart_key(figure_id),
        group_name="charts",
        deps=chart_inputs(figure_id),
        kinds={"matplotlib", "png"},
        description=chart_descriptions()[figure_id],
        owners=OWNERS,
        code_version=code_version(
            f"lib/report/figures/{m.source.stem}",
            "lib/report/figures/_common",
            "lib/report/style",
            "lib/report/charts",
        ),
        skippable=True,
        metadata={
            "figure_id": figure_id,
            "seed_figure": m.seed_figure if m.seed_figure is not None else "none (text series)",
            "module": f"pipeline.lib.report.figures.{m.source.stem}",
        },
    )


@dg.asset(
    key=CONTEXT,
    group_name="report",
    deps=[OBSERVATIONS, SERIES, SOURCES, *FORECAST_KEYS.values()],
    kinds={"duckdb", "json"},
    owners=OWNERS,
    code_version=CONTEXT_CODE,
    description="Every number, label and citation the report's text and tables need (facts, headline claims, "
    "assumptions, sources, each figure's data for its caption), read from core.* and forecast.*, plus the changes "
    "since the last published edition; stored as output/build/context.json. The charts do not read it: they query "
    "their own inputs, so a table feeds the charts that use it directly.",
)
def report_context(duckdb: DuckDBResource, report_slot: ReportSlotResource) -> dg.MaterializeResult:
    """Query the warehouse into output/build/context.json."""
    from pipeline.lib.report.build import write_context
    from pipeline.lib.report.changes import compute_changes, latest_edition
    from pipeline.lib.report.context import build_context

    with duckdb.get_connection() as con:
        ctx = build_context(con)
    changes = compute_changes(latest_edition(output_dir()), ctx, ctx.inputs)
    ctx = ctx.with_changes(changes)
    path = write_context(ctx, build_dir() / "context.json")
    return dg.MaterializeResult(
        data_version=bytes_version(path.read_bytes()),
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "facts": len(ctx.facts),
            "figures": len(ctx.figures),
            "changed_sources": len(changes.sources),
            "moved_numbers": len(changes.numbers),
            **{f"headline_{h.claim_id}": float(h.ours or 0) for h in ctx.headlines},
        },
    )


CHART_CHECK = "drawn"


@dg.multi_asset(
    name="charts",
    specs=[chart_spec(fid) for fid in chart_figures()],
    check_specs=[
        dg.AssetCheckSpec(
            CHART_CHECK,
            asset=chart_key(fid),
            blocking=True,
            description="Both PNGs (zh, en) exist, open as images and are not blank.",
        )
        for fid in chart_figures()
    ],
    can_subset=True,
)
def charts(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    render: RenderWorkersResource,
    report_slot: ReportSlotResource,
) -> Iterator[Any]:
    """Query and draw each selected figure in both languages (one asset per figure, one step for all): only
    figures whose data or code changed are redrawn, split over the run's render workers."""
    from pipeline.lib.report.charts import (
        chart_digest,
        chart_problems,
        draw_charts,
        is_current,
        png_paths,
        thumbnail_path,
    )
    from pipeline.lib.report.records import FigureData

    registered = chart_figures()
    chart_dir = build_dir() / "charts"
    selected = [fid for fid in registered if chart_key(fid) in context.selected_asset_keys]
    with duckdb.get_connection() as con:
        data = {
            fid: FigureData.from_json(json.loads(json.dumps(registered[fid].data(con).to_json(), default=str)))
            for fid in selected
        }
    digests = {fid: chart_digest(data[fid], registered[fid].source) for fid in selected}
    stale = [fid for fid in selected if not is_current(chart_dir, fid, digests[fid])]
    draw_charts({fid: data[fid] for fid in stale}, digests, chart_dir, render.workers)
    for fid in selected:
        paths = png_paths(chart_dir, fid)
        thumb = base64.b64encode(thumbnail_path(chart_dir, fid).read_bytes()).decode()
        yield dg.MaterializeResult(
            asset_key=chart_key(fid),
            data_version=dg.DataVersion(digests[fid][:16]),
            metadata={
                "redrawn": fid in stale,
                "sources": ", ".join(data[fid].source_ids),
                **{lang: dg.MetadataValue.path(str(p)) for lang, p in paths.items()},
                "preview": dg.MetadataValue.md(f"![{fid}](data:image/png;base64,{thumb})"),
            },
        )
        if dg.AssetCheckKey(chart_key(fid), CHART_CHECK) in context.selected_asset_check_keys:
            yield result_from(chart_problems(paths), check_name=CHART_CHECK, asset_key=chart_key(fid))


@dg.asset(
    key=PDF,
    group_name="report",
    deps=[CONTEXT, *(chart_key(f) for f in chart_figures())],
    kinds={"pdf", "weasyprint"},
    owners=OWNERS,
    code_version=REPORT_CODE,
    description="The zh, en and bilingual PDFs (PDF/A-3b, the source files attached), laid out from the context and "
    "the charts by two render workers and staged in output/build/pdf; checked before the publish (they open, have "
    "pages and embed every font).",
    check_specs=[
        dg.AssetCheckSpec(
            PDF_CHECK,
            asset=PDF,
            blocking=True,
            description="Each staged PDF opens, has pages (the volume as many as both editions) and embeds "
            "every font it uses.",
        )
    ],
)
def report_pdf(render: RenderWorkersResource, report_slot: ReportSlotResource) -> dg.MaterializeResult:
    """Lay out and write both editions in the run's render workers, side by side, then join them into the
    bilingual volume (PDF/A-3b, sources attached). Encoded chart images are reused from the previous build
    (output/build/pdf_images) for the charts that did not change."""
    from pipeline.lib.ingest.manifest import load_manifest
    from pipeline.lib.report.attachments import plan_attachments
    from pipeline.lib.report.build import build_pdfs
    from pipeline.lib.report.pdf_checks import pdf_problems

    plan = plan_attachments(sources_dir(), load_manifest(sources_dir()), build_dir() / "attachments")
    result = build_pdfs(
        build_dir() / "context.json",
        build_dir() / "charts",
        build_dir() / "pdf",
        plan.files,
        render.workers,
        image_cache=build_dir() / "pdf_images",
    )
    pdfs = {k: v for k, v in result.items() if k not in ("numbers", "timing")}
    editions = [v["pages"] for k, v in pdfs.items() if k != "bilingual"]
    problems = [
        p for k, v in pdfs.items() for p in pdf_problems(Path(v["path"]), sum(editions) if k == "bilingual" else 1)
    ]
    return dg.MaterializeResult(
        check_results=[result_from(problems, check_name=PDF_CHECK, asset_key=PDF, pdfs=len(pdfs))],
        metadata={
            "attachments": len(plan.files),
            "not_attached": dg.MetadataValue.md("\n".join(f"- {n}: {why}" for n, why in plan.left_out) or "none"),
            **{f"{k}_path": dg.MetadataValue.path(v["path"]) for k, v in pdfs.items()},
            **{f"{k}_pages": v["pages"] for k, v in pdfs.items()},
            **result["timing"],
        },
    )


@dg.asset(
    key=PUBLISH,
    group_name="report",
    deps=[PDF],
    kinds={"pdf", "filesystem"},
    owners=OWNERS,
    code_version=PUBLISH_CODE,
    description="Archive the staged PDFs, context and changelog as a new edition under output/editions/<id> and "
    "switch output/latest (and the top-level PDFs that link into it) to it in one rename.",
)
def report_publish(context: dg.AssetExecutionContext, report_slot: ReportSlotResource) -> dg.MaterializeResult:
    """Validate, archive under output/editions/<id>, switch output/latest (the top-level PDFs link into it)."""
    from pipeline.lib.publish.editions import publish
    from pipeline.lib.report.build import read_context

    ctx = read_context(build_dir() / "context.json")
    record = publish(build_dir() / "pdf", output_dir(), ctx, ctx.changes, ctx.inputs, context.run_id)
    mirrored = {}
    if (target := publish_bucket()) is not None:
        from pipeline.lib.publish.object_store import Bucket, publish_to_bucket

        bucket = Bucket.parse(*target)
        pointer = publish_to_bucket(output_dir() / "editions" / record.edition_id, bucket)
        mirrored = {
            "bucket": f"s3://{bucket.name}/{bucket.key('latest.json')}",
            "bucket_edition": pointer["edition_id"],
        }
    return dg.MaterializeResult(
        metadata={
            "edition": record.edition_id,
            "code_version": record.code_version,
            "latest": dg.MetadataValue.path(str(output_dir() / "latest" / "report.pdf")),
            "previous": record.previous or "none",
            **mirrored,
        }
    )
