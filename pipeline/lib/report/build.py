"""Build steps of the report that both Dagster assets and the tests call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline.lib.report import render
from pipeline.lib.report.context import LANGS, draw_charts, edition_view

PDF_NAMES = {"zh": "report_zh.pdf", "en": "report_en.pdf", "bilingual": "report.pdf"}


def write_context(ctx: dict[str, Any], path: Path) -> Path:
    """Store the context as sorted JSON (diffable between editions)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(ctx, ensure_ascii=False, indent=1, sort_keys=True, default=str), encoding="utf-8")
    return path


def read_context(path: Path) -> dict[str, Any]:
    """Load a stored context."""
    return json.loads(path.read_text(encoding="utf-8"))


def build_charts(ctx: dict[str, Any], chart_dir: Path) -> dict[str, dict[str, Path]]:
    """{lang: {figure id: PNG}} for every edition."""
    return {lang: draw_charts(ctx, lang, chart_dir) for lang in LANGS}


def build_pdfs(ctx: dict[str, Any], charts: dict[str, dict[str, Path]], out_dir: Path) -> dict[str, Any]:
    """Lay out each edition once, write zh, en and the bilingual volume; return paths and page counts."""
    docs, views = {}, {}
    for lang in LANGS:
        views[lang] = edition_view(ctx, lang, charts[lang])
        docs[lang] = render.layout(render.html_for(views[lang]))
        docs[lang].metadata.lang = views[lang]["t"]["lang"]
    combined = render.combine([docs[lang] for lang in LANGS])
    combined.metadata.title = " / ".join(views[lang]["t"]["title"] for lang in LANGS)
    combined.metadata.lang = "zh-CN"
    out = {}
    for name, doc in (*docs.items(), ("bilingual", combined)):
        path = render.write_atomically(doc, out_dir / PDF_NAMES[name])
        out[name] = {"path": str(path), "pages": len(doc.pages)}
    out["numbers"] = {lang: views[lang]["numbers"] for lang in LANGS}
    return out
