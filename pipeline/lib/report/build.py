"""Build steps of the report that the Dagster assets, the CLI and the tests call.

Each edition (zh, en) is laid out and written once, in its own render worker process (`workers.py`), so the
two run in parallel (WeasyPrint uses one core per document and its documents cannot cross processes). The
bilingual volume then joins the two written PDFs at the PDF level (`volume.join_parts`) instead of laying their
pages out again.

    python -m pipeline.lib.report.build CONTEXT CHARTS OUT [ATTACHMENT ...]           # all three PDFs
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.lib.report.pages import LANGS
from pipeline.lib.report.records import EditionView, ReportContext, to_json

if TYPE_CHECKING:
    from pipeline.lib.report.workers import RenderWorkers

PDF_NAMES = {"zh": "report_zh.pdf", "en": "report_en.pdf", "bilingual": "report.pdf"}


def write_context(ctx: ReportContext, path: Path) -> Path:
    """Store the context as sorted JSON (diffable between editions)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(context_json(ctx), encoding="utf-8")
    return path


def context_json(ctx: ReportContext) -> str:
    """Canonical JSON text of a context."""
    return json.dumps(to_json(ctx), ensure_ascii=False, indent=1, sort_keys=True, default=str)


def read_context(path: Path) -> ReportContext:
    """Load a stored context."""
    return ReportContext.from_json(json.loads(path.read_text(encoding="utf-8")))


def chart_paths(ctx: ReportContext, chart_dir: Path) -> dict[str, dict[str, Path]]:
    """Where the chart assets put each edition's PNGs."""
    from pipeline.lib.report.context import figures

    registered = figures()
    return {
        lang: {
            fid: chart_dir / f"{fid}_{lang}.{registered[fid].image_format}"
            for fid in ctx.figures
            if registered[fid].kind == "chart"
        }
        for lang in LANGS
    }


def pdf_identifier(ctx: ReportContext, volume: str = "") -> bytes:
    """A PDF's /ID: a hash of the context (and of the volume's name, so the bilingual volume has its own), so the
    same inputs give the same bytes."""
    return hashlib.sha256((context_json(ctx) + volume).encode("utf-8")).hexdigest()[:32].encode("ascii")


def _weasyprint_options(ctx: ReportContext, attachments: list[Path]) -> dict[str, Any]:
    """PDF/A-3b with the source tables attached; attachment dates and identifier pinned."""
    from weasyprint import Attachment

    created = dt.datetime.fromisoformat(ctx.meta.created)
    files = [
        Attachment(
            filename=str(p),
            name=p.name,
            description=_attachment_description(p.name),
            created=created,
            modified=created,
            relationship="Source",
        )
        for p in sorted(attachments, key=lambda p: p.name)
    ]
    return {"pdf_variant": "pdf/a-3b", "pdf_identifier": pdf_identifier(ctx), "attachments": files}


def _attachment_description(name: str) -> str:
    from pipeline.lib.report.attachments import INDEX_NAME

    return "index of the source files: size, sha256, attached or not" if name == INDEX_NAME else f"source table {name}"


def _set_metadata(doc: Any, view: EditionView, ctx: ReportContext) -> None:
    created = ctx.meta.created
    doc.metadata.title = view.titles.title
    doc.metadata.authors = [view.titles.author]
    doc.metadata.description = view.titles.subtitle
    doc.metadata.lang = view.t["lang"]
    doc.metadata.created = created
    doc.metadata.modified = created
    doc.metadata.generator = "compute-report (WeasyPrint)"


@dataclass(frozen=True, kw_only=True)
class BuiltEdition:
    """One written edition: its path, pages, timings, title, bookmark label, the numbers its prose shows and the
    image-cache keys it used (what a render worker answers)."""

    path: str
    pages: int
    layout_s: float
    write_s: float
    title: str
    label: str
    numbers: tuple[str, ...]
    image_keys: tuple[str, ...]


def build_edition(
    ctx: ReportContext,
    lang: str,
    charts: dict[str, Path],
    out_dir: Path,
    attachments: list[Path],
    image_cache: Path | None = None,
) -> BuiltEdition:
    """Lay out and write one edition (reusing the encoded chart images kept in `image_cache`, if given)."""
    from pipeline.lib.report import render
    from pipeline.lib.report.context import edition_view
    from pipeline.lib.report.image_cache import reusing_encoded_images

    start = time.perf_counter()
    view = edition_view(ctx, lang, charts)
    doc = render.layout(render.html_for(view), view.images)
    _set_metadata(doc, view, ctx)
    laid_out = time.perf_counter()
    with reusing_encoded_images(image_cache) if image_cache else contextlib.nullcontext(set()) as image_keys:
        target = render.write_atomically(doc, out_dir / PDF_NAMES[lang], **_weasyprint_options(ctx, attachments))
    return BuiltEdition(
        path=str(target),
        pages=len(doc.pages),
        layout_s=round(laid_out - start, 3),
        write_s=round(time.perf_counter() - laid_out, 3),
        title=view.titles.title,
        label=view.titles.name,
        numbers=view.numbers,
        image_keys=tuple(sorted(image_keys)),
    )


EDITION_IN_WORKER = "pipeline.lib.report.build:edition_in_worker"


def warm_up() -> None:
    """WeasyPrint and the edition code: run by a render worker as soon as it starts."""
    import weasyprint  # noqa: F401

    import pipeline.lib.report.render  # noqa: F401


def edition_in_worker(
    context_path: str, lang: str, chart_dir: str, out_dir: str, attachments: list[str], image_cache: str | None
) -> BuiltEdition:
    """`build_edition` from paths (what a render worker receives)."""
    ctx = read_context(Path(context_path))
    return build_edition(
        ctx,
        lang,
        chart_paths(ctx, Path(chart_dir))[lang],
        Path(out_dir),
        [Path(a) for a in attachments],
        Path(image_cache) if image_cache else None,
    )


def _built_record(out_dir: Path, lang: str) -> Path:
    return out_dir / f"edition_{lang}.json"


def build_editions(
    langs: list[str],
    context_path: Path,
    chart_dir: Path,
    out_dir: Path,
    attachments: list[Path],
    workers: RenderWorkers | None = None,
    image_cache: Path | None = None,
) -> dict[str, BuiltEdition]:
    """The editions of `langs`, each in its own render worker, side by side (`workers`, else started for the
    call). Each written edition leaves its record (`edition_<lang>.json`) beside its PDF for the volume; an
    edition's error is raised here (with the worker's traceback as its cause)."""
    from pipeline.lib.report.workers import RenderWorkers

    requests = [
        (
            EDITION_IN_WORKER,
            (
                str(context_path),
                lang,
                str(chart_dir),
                str(out_dir),
                [str(a) for a in attachments],
                str(image_cache) if image_cache else None,
            ),
        )
        for lang in langs
    ]
    with contextlib.nullcontext(workers) if workers else RenderWorkers(len(langs), warm=("pdf",)) as pool:
        answers = pool.run(requests)
    editions: dict[str, BuiltEdition] = dict(zip(langs, answers, strict=True))
    for lang, edition in editions.items():
        _built_record(out_dir, lang).write_text(json.dumps(to_json(edition), sort_keys=True), encoding="utf-8")
    return editions


@dataclass(frozen=True, kw_only=True)
class BuiltVolume:
    """The bilingual volume: its path and pages."""

    path: str
    pages: int


def read_built(out_dir: Path, lang: str) -> BuiltEdition:
    """The record an edition left beside its PDF; a missing one means that edition was never written."""
    path = _built_record(out_dir, lang)
    if not path.is_file():
        raise FileNotFoundError(f"the {lang} edition has not been written to {out_dir} (no {path.name})")
    data = json.loads(path.read_text(encoding="utf-8"))
    return BuiltEdition(**{**data, "numbers": tuple(data["numbers"]), "image_keys": tuple(data["image_keys"])})


def join_volume(context_path: Path, out_dir: Path, image_cache: Path | None = None) -> BuiltVolume:
    """The bilingual volume from the written editions (in report order); with `image_cache`, the encoded chart
    images that neither edition used are pruned."""
    from pipeline.lib.report.image_cache import prune
    from pipeline.lib.report.render import atomic_path
    from pipeline.lib.report.volume import join_parts

    editions = {lang: read_built(out_dir, lang) for lang in LANGS}
    if image_cache:
        prune(image_cache, {key for e in editions.values() for key in e.image_keys})
    ctx = read_context(context_path)
    target = out_dir / PDF_NAMES["bilingual"]
    with atomic_path(target) as tmp:
        pages = join_parts(
            [(editions[lang].label, Path(editions[lang].path)) for lang in LANGS],
            tmp,
            " / ".join(editions[lang].title for lang in LANGS),
            pdf_identifier(ctx, "bilingual"),
        )
    return BuiltVolume(path=str(target), pages=pages)


def build_pdfs(
    context_path: Path,
    chart_dir: Path,
    out_dir: Path,
    attachments: list[Path],
    workers: RenderWorkers | None = None,
    image_cache: Path | None = None,
) -> dict[str, Any]:
    """Both editions side by side (`build_editions`), then the bilingual volume (`join_volume`): what the
    benchmark and the command line below run. Returns paths, pages, timings and the numbers shown."""
    start = time.perf_counter()
    editions = build_editions(list(LANGS), context_path, chart_dir, out_dir, attachments, workers, image_cache)
    editions_done = time.perf_counter()
    volume = join_volume(context_path, out_dir, image_cache)
    out: dict[str, Any] = {lang: {"path": e.path, "pages": e.pages} for lang, e in editions.items()}
    out["bilingual"] = {"path": volume.path, "pages": volume.pages}
    out["timing"] = {
        "editions_s": round(editions_done - start, 3),
        "join_s": round(time.perf_counter() - editions_done, 3),
        **edition_timings(editions),
    }
    out["numbers"] = {lang: list(e.numbers) for lang, e in editions.items()}
    return out


def edition_timings(editions: dict[str, BuiltEdition]) -> dict[str, float]:
    """{<lang>_layout_s, <lang>_write_s} of written editions."""
    return {
        f"{lang}_{k}": v for lang, e in editions.items() for k, v in (("layout_s", e.layout_s), ("write_s", e.write_s))
    }


def main(argv: list[str]) -> int:
    """CLI: all three PDFs; prints the result as one JSON line."""
    context_path, chart_dir, out_dir, *attachments = argv
    result = build_pdfs(Path(context_path), Path(chart_dir), Path(out_dir), [Path(a) for a in attachments])
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
