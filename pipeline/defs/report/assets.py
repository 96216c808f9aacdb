"""Report layer: context (every number the report shows), one chart asset per figure, the PDFs, the publish."""

import base64
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline.config import output_dir, publish_bucket, sources_dir
from pipeline.defs.forecast.assets import KEYS as FORECAST_KEYS
from pipeline.defs.resources import RenderWorkersResource, ReportSlotResource
from pipeline.defs.warehouse.assets import OBSERVATIONS, SERIES, SOURCES

CONTEXT = dg.AssetKey(["report", "context"])
PDF = dg.AssetKey(["report", "pdf"])
PUBLISH = dg.AssetKey(["report", "publish"])


def build_dir() -> Path:
    """Intermediate build products (context JSON, chart PNGs, staged PDFs)."""
    return output_dir() / "build"


def chart_key(figure_id: str) -> dg.AssetKey:
    """Asset key of a figure's chart."""
    return dg.AssetKey(["charts", figure_id])


def chart_figures() -> dict[str, str]:
    """{figure id: module docstring} of every registered chart (tables are rendered by the PDF asset)."""
    from pipeline.lib.report.figures import FIGURES

    return {
        fid: (m.__doc__ or fid).strip().splitlines()[0]
        for fid, m in FIGURES.items()
        if getattr(m, "KIND", "chart") == "chart"
    }


@dg.asset(
    key=CONTEXT,
    group_name="report",
    deps=[OBSERVATIONS, SERIES, SOURCES, *FORECAST_KEYS.values()],
    kinds={"duckdb", "json"},
    owners=["team:analysts"],
    description="Every number, label and citation the report needs, read from core.* and forecast.*, "
    "plus the changes since the last published edition.",
)
def report_context(duckdb: DuckDBResource, report_slot: ReportSlotResource) -> dg.MaterializeResult:
    """Query the warehouse into output/build/context.json."""
    from pipeline.lib.report.build import write_context
    from pipeline.lib.report.changes import compute_changes, latest_edition
    from pipeline.lib.report.context import build_context

    with duckdb.get_connection() as con:
        ctx = build_context(con)
    ctx["changes"] = compute_changes(latest_edition(output_dir()), ctx, ctx["inputs"])
    path = write_context(ctx, build_dir() / "context.json")
    changes = ctx["changes"]
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "facts": len(ctx["facts"]),
            "figures": len(ctx["figures"]),
            "changed_sources": len(changes["sources"]),
            "moved_numbers": len(changes["numbers"]),
            **{f"headline_{h['claim_id']}": float(h["ours"] or 0) for h in ctx["headlines"]},
        }
    )


@dg.multi_asset(
    name="charts",
    specs=[
        dg.AssetSpec(
            chart_key(fid),
            group_name="charts",
            deps=[CONTEXT],
            kinds={"matplotlib", "png"},
            description=description,
            owners=["team:analysts"],
            skippable=True,
        )
        for fid, description in chart_figures().items()
    ],
    can_subset=True,
)
def charts(context: dg.AssetExecutionContext, render: RenderWorkersResource, report_slot: ReportSlotResource):
    """Draw each selected figure in both languages (one asset per figure, one step for all): only figures whose
    data or code changed are redrawn, split over the run's render workers."""
    from pipeline.lib.report.build import read_context
    from pipeline.lib.report.charts import chart_digest, draw_charts, is_current, png_paths, thumbnail_path
    from pipeline.lib.report.context import figure_modules

    ctx = read_context(build_dir() / "context.json")
    chart_dir = build_dir() / "charts"
    selected = [fid for fid in chart_figures() if chart_key(fid) in context.selected_asset_keys]
    digests = {fid: chart_digest(ctx["figures"][fid], Path(figure_modules()[fid].__file__)) for fid in selected}
    stale = [fid for fid in selected if not is_current(chart_dir, fid, digests[fid])]
    draw_charts({fid: ctx["figures"][fid] for fid in stale}, digests, chart_dir, render.workers)
    for fid in selected:
        paths = png_paths(chart_dir, fid)
        thumb = base64.b64encode(thumbnail_path(chart_dir, fid).read_bytes()).decode()
        yield dg.MaterializeResult(
            asset_key=chart_key(fid),
            data_version=dg.DataVersion(digests[fid][:16]),
            metadata={
                "redrawn": fid in stale,
                "sources": ", ".join(ctx["figures"][fid]["source_ids"]),
                **{lang: dg.MetadataValue.path(str(p)) for lang, p in paths.items()},
                "preview": dg.MetadataValue.md(f"![{fid}](data:image/png;base64,{thumb})"),
            },
        )


@dg.asset(
    key=PDF,
    group_name="report",
    deps=[CONTEXT, *(chart_key(f) for f in chart_figures())],
    kinds={"pdf"},
    owners=["team:analysts"],
    description="The zh, en and bilingual PDFs, staged in output/build/pdf.",
)
def report_pdf(render: RenderWorkersResource, report_slot: ReportSlotResource) -> dg.MaterializeResult:
    """Lay out and write both editions in the run's render workers, side by side, then join them into the
    bilingual volume (PDF/A-3b, sources attached). Encoded chart images are reused from the previous build
    (output/build/pdf_images) for the charts that did not change."""
    from pipeline.lib.ingest.manifest import load_manifest
    from pipeline.lib.report.attachments import plan_attachments
    from pipeline.lib.report.build import build_pdfs

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
    return dg.MaterializeResult(
        metadata={
            "attachments": len(plan.files),
            "not_attached": dg.MetadataValue.md("\n".join(f"- {n}: {why}" for n, why in plan.left_out) or "none"),
            **{f"{k}_path": dg.MetadataValue.path(v["path"]) for k, v in pdfs.items()},
            **{f"{k}_pages": v["pages"] for k, v in pdfs.items()},
            **result["timing"],
        }
    )


@dg.asset(
    key=PUBLISH,
    group_name="report",
    deps=[PDF],
    kinds={"pdf"},
    owners=["team:analysts"],
    description="Archive the staged PDFs as a new edition and point output/latest at it (atomic).",
)
def report_publish(context: dg.AssetExecutionContext, report_slot: ReportSlotResource) -> dg.MaterializeResult:
    """Validate, archive under output/editions/<id>, switch output/latest (the top-level PDFs link into it)."""
    from pipeline.lib.publish.editions import publish
    from pipeline.lib.report.build import read_context

    ctx = read_context(build_dir() / "context.json")
    record = publish(build_dir() / "pdf", output_dir(), ctx, ctx["changes"], ctx["inputs"], context.run_id)
    mirrored = {}
    if (target := publish_bucket()) is not None:
        from pipeline.lib.publish.object_store import Bucket, publish_to_bucket

        bucket = Bucket.parse(*target)
        pointer = publish_to_bucket(output_dir() / "editions" / record["edition_id"], bucket)
        mirrored = {
            "bucket": f"s3://{bucket.name}/{bucket.key('latest.json')}",
            "bucket_edition": pointer["edition_id"],
        }
    return dg.MaterializeResult(
        metadata={
            "edition": record["edition_id"],
            "code_version": record["code_version"],
            "latest": dg.MetadataValue.path(str(output_dir() / "latest" / "report.pdf")),
            "previous": record["previous"] or "none",
            **mirrored,
        }
    )
