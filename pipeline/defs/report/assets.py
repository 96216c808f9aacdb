"""Report layer: context (every number the report shows), one chart asset per figure, the PDFs, the publish."""

from __future__ import annotations

import base64
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline.config import output_dir, sources_dir
from pipeline.defs.forecast.assets import KEYS as FORECAST_KEYS
from pipeline.defs.resources import WRITER_POOL
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

    return {fid: (m.__doc__ or fid).strip().splitlines()[0] for fid, m in FIGURES.items()
            if getattr(m, "KIND", "chart") == "chart"}


@dg.asset(key=CONTEXT, group_name="report", deps=[OBSERVATIONS, SERIES, SOURCES, *FORECAST_KEYS.values()],
          kinds={"duckdb", "json"}, pool=WRITER_POOL, owners=["team:analysts"],
          description="Every number, label and citation the report needs, read from core.* and forecast.*, "
                      "plus the changes since the last published edition.")
def report_context(duckdb: DuckDBResource) -> dg.MaterializeResult:
    """Query the warehouse into output/build/context.json."""
    from pipeline.lib.editions import latest_edition
    from pipeline.lib.report.build import write_context
    from pipeline.lib.report.context import build_context

    with duckdb.get_connection() as con:
        ctx = build_context(con, latest_edition(output_dir()))
    path = write_context(ctx, build_dir() / "context.json")
    changes = ctx["changes"]
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(path)), "facts": len(ctx["facts"]), "figures": len(ctx["figures"]),
        "changed_sources": len(changes["sources"]), "moved_numbers": len(changes["numbers"]),
        **{f"headline_{h['claim_id']}": float(h["ours"] or 0) for h in ctx["headlines"]}})


def chart_digest(data: dict, module_file: Path) -> str:
    """Hash of what a chart is drawn from: its data, its module, the shared chart code and the string catalogue.
    Unchanged → the PNGs of the previous build are reused (a one-table refresh redraws only what moved)."""
    import hashlib
    import json

    from pipeline.config import templates_dir

    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode())
    for path in sorted({module_file, module_file.parent / "_common.py", module_file.parents[1] / "style.py",
                        module_file.parents[1] / "fmt.py", templates_dir() / "i18n" / "figures.yaml"}):
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def make_chart_asset(figure_id: str, description: str) -> dg.AssetsDefinition:
    """The asset drawing one figure in both languages."""

    @dg.asset(key=chart_key(figure_id), group_name="charts", deps=[CONTEXT], kinds={"matplotlib", "png"},
              description=description, owners=["team:analysts"])
    def _chart() -> dg.MaterializeResult:
        from pipeline.lib.report.build import read_context
        from pipeline.lib.report.context import LANGS, figure_modules

        ctx = read_context(build_dir() / "context.json")
        module = figure_modules()[figure_id]
        chart_dir = build_dir() / "charts"
        paths = {lang: chart_dir / f"{figure_id}_{lang}.png" for lang in LANGS}
        digest = chart_digest(ctx["figures"][figure_id], Path(module.__file__))
        stamp = chart_dir / f"{figure_id}.sha256"
        redraw = not (stamp.is_file() and stamp.read_text() == digest and all(p.is_file() for p in paths.values()))
        if redraw:
            for lang in LANGS:
                module.draw(ctx["figures"][figure_id], lang, paths[lang])
            stamp.write_text(digest)
        thumb = base64.b64encode(paths["en"].read_bytes()).decode()
        return dg.MaterializeResult(data_version=dg.DataVersion(digest[:16]), metadata={
            "redrawn": redraw,
            "sources": ", ".join(ctx["figures"][figure_id]["source_ids"]),
            **{lang: dg.MetadataValue.path(str(p)) for lang, p in paths.items()},
            "preview": dg.MetadataValue.md(f"![{figure_id}](data:image/png;base64,{thumb})")})

    return _chart


chart_assets = [make_chart_asset(fid, desc) for fid, desc in chart_figures().items()]


@dg.asset(key=PDF, group_name="report", deps=[CONTEXT, *(chart_key(f) for f in chart_figures())], kinds={"pdf"},
          owners=["team:analysts"], description="The zh, en and bilingual PDFs, staged in output/build/pdf.")
def report_pdf() -> dg.MaterializeResult:
    """Lay out and write both editions in parallel processes, then join them into the bilingual volume
    (PDF/A-3b, sources attached)."""
    from pipeline.lib.report.build import build_pdfs

    sources = sorted(p for p in sources_dir().iterdir() if p.is_file() and not p.name.startswith("."))
    result = build_pdfs(build_dir() / "context.json", build_dir() / "charts", build_dir() / "pdf",
                                      sources)
    pdfs = {k: v for k, v in result.items() if k not in ("numbers", "timing")}
    return dg.MaterializeResult(metadata={
        **{f"{k}_path": dg.MetadataValue.path(v["path"]) for k, v in pdfs.items()},
        **{f"{k}_pages": v["pages"] for k, v in pdfs.items()}, **result["timing"]})


@dg.asset(key=PUBLISH, group_name="report", deps=[PDF], kinds={"pdf"}, owners=["team:analysts"],
          description="Archive the staged PDFs as a new edition and point output/latest at it (atomic).")
def report_publish() -> dg.MaterializeResult:
    """Validate, archive under output/editions/<id>, swap output/latest and the stable copies."""
    from pipeline.lib.editions import publish
    from pipeline.lib.report.build import read_context

    ctx = read_context(build_dir() / "context.json")
    record = publish(build_dir() / "pdf", output_dir(), ctx, ctx["changes"], ctx["inputs"])
    return dg.MaterializeResult(metadata={
        "edition": record["edition_id"], "code_version": record["code_version"],
        "latest": dg.MetadataValue.path(str(output_dir() / "latest" / "report.pdf")),
        "previous": record["previous"] or "none"})
