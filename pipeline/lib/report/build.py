"""Build steps of the report that the Dagster assets, the CLI and the tests call.

Each edition is laid out once; the bilingual volume reuses the laid-out pages of both. The three PDFs are then
written in parallel worker processes forked after layout (font subsetting and compression dominate the write
and use one core per document). Documents cannot be pickled, so the two layouts themselves stay sequential.

Forking is only safe in a process without other threads, so callers inside Dagster (which runs threads) use
`build_pdfs_in_subprocess`: `python -m pipeline.lib.report.build CONTEXT CHARTS OUT [ATTACHMENT ...]`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing
import os
from pathlib import Path
from typing import Any

from pipeline.lib.report import render
from pipeline.lib.report.context import LANGS, draw_charts, edition_view

PDF_NAMES = {"zh": "report_zh.pdf", "en": "report_en.pdf", "bilingual": "report.pdf"}
_FORKED: dict[str, Any] = {}


def write_context(ctx: dict[str, Any], path: Path) -> Path:
    """Store the context as sorted JSON (diffable between editions)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(context_json(ctx), encoding="utf-8")
    return path


def context_json(ctx: dict[str, Any]) -> str:
    """Canonical JSON text of a context."""
    return json.dumps(ctx, ensure_ascii=False, indent=1, sort_keys=True, default=str)


def read_context(path: Path) -> dict[str, Any]:
    """Load a stored context."""
    return json.loads(path.read_text(encoding="utf-8"))


def build_charts(ctx: dict[str, Any], chart_dir: Path) -> dict[str, dict[str, Path]]:
    """{lang: {figure id: PNG}} for every edition."""
    return {lang: draw_charts(ctx, lang, chart_dir) for lang in LANGS}


def chart_paths(ctx: dict[str, Any], chart_dir: Path) -> dict[str, dict[str, Path]]:
    """Where build_charts puts each edition's PNGs (for assets that run after the chart assets)."""
    from pipeline.lib.report.context import figure_modules

    modules = figure_modules()
    return {lang: {fid: chart_dir / f"{fid}_{lang}.png" for fid in ctx["figures"]
                   if getattr(modules[fid], "KIND", "chart") == "chart"} for lang in LANGS}


def pdf_options(ctx: dict[str, Any], attachments: list[Path]) -> dict[str, Any]:
    """PDF/A-3b with the source tables attached; dates and identifier pinned so same inputs → same bytes.
    Attachments are given as paths: WeasyPrint's Attachment objects can be written only once."""
    identifier = hashlib.sha256(context_json(ctx).encode("utf-8")).hexdigest()[:32].encode("ascii")
    return {"pdf_variant": "pdf/a-3b", "attachments": sorted(attachments), "pdf_identifier": identifier,
            "created": ctx["meta"]["created"]}


def _weasyprint_options(options: dict[str, Any]) -> dict[str, Any]:
    from weasyprint import Attachment

    created = dt.datetime.fromisoformat(options["created"])
    files = [Attachment(filename=str(p), name=p.name, description=f"source table {p.name}", created=created,
                        modified=created, relationship="Source") for p in options["attachments"]]
    return {"pdf_variant": options["pdf_variant"], "pdf_identifier": options["pdf_identifier"], "attachments": files}


def _set_metadata(doc: Any, view: dict[str, Any], ctx: dict[str, Any], title: str | None = None) -> None:
    created = ctx["meta"]["created"]
    doc.metadata.title = title or view["t"]["title"]
    doc.metadata.authors = [view["t"]["author"]]
    doc.metadata.description = view["t"]["subtitle"]
    doc.metadata.lang = view["t"]["lang"]
    doc.metadata.created = created
    doc.metadata.modified = created
    doc.metadata.generator = "compute-report (WeasyPrint)"


def _write(doc: Any, target: str, options: dict[str, Any]) -> dict[str, Any]:
    render.write_atomically(doc, Path(target), **_weasyprint_options(options))
    return {"path": target, "pages": len(doc.pages)}


def _write_forked(name: str, target: str) -> dict[str, Any]:
    return _write(_FORKED["docs"][name], target, _FORKED["options"])


def write_all(docs: dict[str, Any], out_dir: Path, options: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Write every document; in parallel forked processes unless REPORT_PARALLEL_WRITE=0."""
    targets = {name: str(out_dir / PDF_NAMES[name]) for name in docs}
    if os.environ.get("REPORT_PARALLEL_WRITE", "1") == "0" or len(docs) == 1:
        return {name: _write(docs[name], targets[name], options) for name in docs}
    _FORKED.update(docs=docs, options=options)
    try:
        with multiprocessing.get_context("fork").Pool(min(len(docs), os.cpu_count() or 1)) as pool:
            results = pool.starmap(_write_forked, list(targets.items()))
    finally:
        _FORKED.clear()
    return dict(zip(targets, results, strict=True))


def layout_editions(ctx: dict[str, Any], charts: dict[str, dict[str, Path]]) -> tuple[dict[str, Any], dict]:
    """Lay out each edition once and make the bilingual volume from their pages."""
    docs, views = {}, {}
    for lang in LANGS:
        views[lang] = edition_view(ctx, lang, charts[lang])
        docs[lang] = render.layout(render.html_for(views[lang]))
        _set_metadata(docs[lang], views[lang], ctx)
    docs["bilingual"] = render.combine([docs[lang] for lang in LANGS])
    _set_metadata(docs["bilingual"], views["zh"], ctx, " / ".join(views[lang]["t"]["title"] for lang in LANGS))
    return docs, views


def build_pdfs(ctx: dict[str, Any], charts: dict[str, dict[str, Path]], out_dir: Path,
               attachments: list[Path] | None = None) -> dict[str, Any]:
    """Lay out, then write zh, en and the bilingual volume; return paths, page counts, timings and the numbers
    shown."""
    import time

    start = time.perf_counter()
    docs, views = layout_editions(ctx, charts)
    laid_out = time.perf_counter()
    out: dict[str, Any] = write_all(docs, out_dir, pdf_options(ctx, attachments or []))
    out["timing"] = {"layout_s": round(laid_out - start, 3), "write_s": round(time.perf_counter() - laid_out, 3)}
    out["numbers"] = {lang: views[lang]["numbers"] for lang in LANGS}
    return out


def build_pdfs_in_subprocess(context_path: Path, chart_dir: Path, out_dir: Path,
                             attachments: list[Path]) -> dict[str, Any]:
    """Run `build_pdfs` in a fresh Python process; raise RuntimeError with its message if it fails."""
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "pipeline.lib.report.build", str(context_path), str(chart_dir), str(out_dir),
           *map(str, attachments)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"PDF build failed:\n{proc.stderr.strip()[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    """CLI of the subprocess: prints the build result as one JSON line."""
    context_path, chart_dir, out_dir, *attachments = argv
    ctx = read_context(Path(context_path))
    result = build_pdfs(ctx, chart_paths(ctx, Path(chart_dir)), Path(out_dir), [Path(a) for a in attachments])
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
