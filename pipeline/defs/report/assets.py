"""Report layer: one chart asset per figure (each depends on exactly the datasets and forecast tables its query
reads), the context (every number, label and citation the text shows), the PDFs and the publish."""

import base64
import hashlib
import json
import time
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
from pipeline.lib.report.pages import LANGS, report_dir

if TYPE_CHECKING:
    from pipeline.lib.report.figures import Figure

CONTEXT = dg.AssetKey(["report", "context"])
EDITION = dg.AssetKey(["report", "edition"])
VOLUME = dg.AssetKey(["report", "volume"])
LANGUAGES = dg.StaticPartitionsDefinition(list(LANGS))  # the editions, in report order
PUBLISH = dg.AssetKey(["report", "publish"])
PDF_CHECK = "pdfs_sound"


def edition_partition_tags(selection: list[dg.AssetKey]) -> dict[str, str]:
    """Run tags for a selection: one that writes the editions covers every language partition in one run (the
    range tags Dagster reads for a run over several partitions), so both are written side by side."""
    if EDITION not in selection:
        return {}
    return {"dagster/asset_partition_range_start": LANGS[0], "dagster/asset_partition_range_end": LANGS[-1]}


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
    """The assets a chart's query reads, as its figure declares them (a module by hand, a spec derived from its
    series selection), plus the series and label catalogue every chart names things with."""
    m = chart_figures()[figure_id]
    return [
        SERIES,
        *(dataset_key(d) for d in m.datasets),
        *(FORECAST_KEYS[t] for t in m.forecasts),
        *(table_key(t) for t in m.raw_tables),
    ]


def _shown_path(path: Path) -> str:
    """A path relative to the project folder where it is inside it."""
    root = Path(__file__).resolve().parents[3]
    return str(path.resolve().relative_to(root)) if path.resolve().is_relative_to(root) else str(path)


def chart_code_version(figure: "Figure") -> str:
    """Hash of the files that define and draw a chart (its module, or its spec file and the spec code) and of the
    shared chart code."""
    from pipeline.lib.report.figures import code_files

    digest = hashlib.sha256(code_version("lib/report/style", "lib/report/charts").encode())
    for path in code_files(figure):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def chart_spec(figure_id: str) -> dg.AssetSpec:
    """The asset of one chart, with its seed figure number and the file that defines it as metadata."""
    m = chart_figures()[figure_id]
    return dg.AssetSpec(
        chart_key(figure_id),
        group_name="charts",
        deps=chart_inputs(figure_id),
        kinds={"matplotlib", "png"},
        description=chart_descriptions()[figure_id],
        owners=OWNERS,
        code_version=chart_code_version(m),
        skippable=True,
        metadata={
            "figure_id": figure_id,
            "seed_figure": m.seed_figure if m.seed_figure is not None else "none (text series)",
            "defined_in": _shown_path(m.source),
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
    from pipeline.lib.report.figures import code_files
    from pipeline.lib.report.records import FigureData

    registered = chart_figures()
    chart_dir = build_dir() / "charts"
    selected = [fid for fid in registered if chart_key(fid) in context.selected_asset_keys]
    with duckdb.get_connection() as con:
        data = {
            fid: FigureData.from_json(json.loads(json.dumps(registered[fid].data(con).to_json(), default=str)))
            for fid in selected
        }
    digests = {fid: chart_digest(data[fid], code_files(registered[fid])) for fid in selected}
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
    key=EDITION,
    group_name="report",
    partitions_def=LANGUAGES,
    deps=[CONTEXT, *(chart_key(f) for f in chart_figures())],
    kinds={"pdf", "weasyprint"},
    owners=OWNERS,
    code_version=REPORT_CODE,
    description="One edition per language partition (zh, en): laid out from the context and the charts and written "
    "as PDF/A-3b with the source files attached, staged in output/build/pdf. A run of both partitions (what "
    "`reportctl` and the sensor start) writes them side by side in the run's render workers; a backfill from the "
    "UI runs one partition per run, so a cluster renders them on separate workers.",
)
def report_edition(
    context: dg.AssetExecutionContext, render: RenderWorkersResource, report_slot: ReportSlotResource
) -> dg.MaterializeResult:
    """Write the editions of the run's partitions. Encoded chart images are reused from the previous build
    (output/build/pdf_images) for the charts that did not change."""
    from pipeline.lib.ingest.manifest import load_manifest
    from pipeline.lib.report.attachments import plan_attachments
    from pipeline.lib.report.build import build_editions, edition_timings

    langs = list(context.partition_keys)
    plan = plan_attachments(sources_dir(), load_manifest(sources_dir()), build_dir() / "attachments")
    editions = build_editions(
        langs,
        build_dir() / "context.json",
        build_dir() / "charts",
        build_dir() / "pdf",
        plan.files,
        render.workers,
        image_cache=build_dir() / "pdf_images",
    )
    return dg.MaterializeResult(
        data_version=bytes_version(b"".join(Path(editions[lang].path).read_bytes() for lang in langs)),
        metadata={
            "attachments": len(plan.files),
            "not_attached": dg.MetadataValue.md("\n".join(f"- {n}: {why}" for n, why in plan.left_out) or "none"),
            **{f"{lang}_path": dg.MetadataValue.path(e.path) for lang, e in editions.items()},
            **{f"{lang}_pages": e.pages for lang, e in editions.items()},
            **edition_timings(editions),
        },
    )


@dg.asset(
    key=VOLUME,
    group_name="report",
    deps=[EDITION],
    kinds={"pdf", "pypdf"},
    owners=OWNERS,
    code_version=REPORT_CODE,
    description="The bilingual volume: the pages of both written editions joined at the PDF level (PDF/A-3b, "
    "bookmarked per language), staged beside them; all three PDFs are checked before the publish (they open, "
    "have pages and embed every font).",
    check_specs=[
        dg.AssetCheckSpec(
            PDF_CHECK,
            asset=VOLUME,
            blocking=True,
            description="Each staged PDF opens, has pages (the volume as many as both editions) and embeds "
            "every font it uses.",
        )
    ],
)
def report_volume(report_slot: ReportSlotResource) -> dg.MaterializeResult:
    """Join the written editions into the bilingual volume and check all three PDFs."""
    from pipeline.lib.report.build import PDF_NAMES, join_volume, read_built
    from pipeline.lib.report.pdf_checks import pdf_problems

    staged = build_dir() / "pdf"
    start = time.perf_counter()
    volume = join_volume(build_dir() / "context.json", staged, build_dir() / "pdf_images")
    took = round(time.perf_counter() - start, 3)
    editions = {lang: read_built(staged, lang) for lang in LANGS}
    problems = [p for e in editions.values() for p in pdf_problems(Path(e.path), 1)]
    problems += pdf_problems(Path(volume.path), sum(e.pages for e in editions.values()))
    return dg.MaterializeResult(
        data_version=bytes_version((staged / PDF_NAMES["bilingual"]).read_bytes()),
        check_results=[result_from(problems, check_name=PDF_CHECK, asset_key=VOLUME, pdfs=len(editions) + 1)],
        metadata={
            "bilingual_path": dg.MetadataValue.path(volume.path),
            "bilingual_pages": volume.pages,
            **{f"{lang}_pages": e.pages for lang, e in editions.items()},
            "join_s": took,
        },
    )


@dg.asset(
    key=PUBLISH,
    group_name="report",
    deps=[VOLUME],
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
