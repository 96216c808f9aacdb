"""Published editions: what changed since the last one, and an atomic, archived publish.

output/
  editions/<edition_id>/   report.pdf, report_zh.pdf, report_en.pdf, context.json, changes.json, edition.json
  latest -> editions/<edition_id>     (symlink, swapped atomically; always a complete good edition)
  report.pdf, report_zh.pdf, report_en.pdf   copies of the latest edition (each replaced atomically)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from pipeline.config import PROJECT_ROOT
from pipeline.lib.inputs import changed_inputs, file_sha256, table_of, unrecorded_entry
from pipeline.lib.report.build import PDF_NAMES, context_json
from pipeline.lib.report.context import catalog
from pipeline.lib.report.facts import format_fact

EDITIONS, LATEST = "editions", "latest"
CODE_GLOBS = ("pipeline/**/*.py", "report_templates/**/*")


class PublishError(RuntimeError):
    """The staged edition failed validation; nothing was published."""


def code_version() -> str:
    """Hash of the code and templates that made an edition (git is not needed at run time)."""
    digest = hashlib.sha256()
    for pattern in CODE_GLOBS:
        for path in sorted(PROJECT_ROOT.glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(PROJECT_ROOT).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def latest_edition(out_dir: Path) -> Path | None:
    """The folder the `latest` link points at, if any."""
    link = out_dir / LATEST
    return link.resolve() if link.exists() else None


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON file, or None if it does not exist."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def compute_changes(previous: Path | None, ctx: dict[str, Any], inputs: dict[str, str]) -> dict[str, Any]:
    """Sources changed, numbers moved (old → new in both languages), forecasts revised, vs the previous edition."""
    record = read_json(previous / "edition.json") if previous else None
    old_ctx = read_json(previous / "context.json") if previous else None
    known = {_outlier_key(a) for a in (old_ctx or {}).get("accepted_outliers", [])}
    accepted = [a for a in ctx.get("accepted_outliers", []) if _outlier_key(a) not in known]
    if record is None or old_ctx is None:
        return {"previous": None, "sources": [], "numbers": [], "forecasts": [], "accepted_outliers": accepted}
    old_inputs: dict[str, str] = record["inputs"]
    changed = sorted({table_of(name) or name for name in changed_inputs(old_inputs, inputs)
                      if not unrecorded_entry(name, old_inputs, inputs)})
    sources = [{"source_id": sid, "change": "added" if sid not in old_inputs else
                "removed" if sid not in inputs else "changed"} for sid in changed]
    cats = {lang: catalog(lang) for lang in ("zh", "en")}
    numbers = []
    for name, fact in sorted(ctx["facts"].items()):
        old = old_ctx["facts"].get(name)
        if old is None or abs(old["value"] - fact["value"]) <= 1e-9 * max(abs(fact["value"]), 1):
            continue
        row = {"name": name, "old": old["value"], "new": fact["value"]}
        for lang, t in cats.items():
            row[f"old_{lang}"], row[f"new_{lang}"] = format_fact(old, lang, t), format_fact(fact, lang, t)
        numbers.append(row)
    old_claims = {h["claim_id"]: h for h in old_ctx.get("headlines", [])}
    forecasts = [{"claim_id": h["claim_id"], "old": old_claims[h["claim_id"]]["ours"], "new": h["ours"],
                  "unit": h.get("unit", "CNY"),
                  "text_zh": h["text_zh"], "text_en": h["text_en"]}
                 for h in ctx["headlines"] if h["claim_id"] in old_claims
                 and old_claims[h["claim_id"]]["ours"] != h["ours"]]
    return {"previous": record["edition_id"], "sources": sources, "numbers": numbers, "forecasts": forecasts,
            "accepted_outliers": accepted}


def _outlier_key(row: dict[str, Any]) -> tuple:
    return tuple(row.get(k) for k in ("source_id", "series_id", "geography", "segment", "year", "reason"))


def validate_pdf(path: Path) -> int:
    """A complete PDF that a PDF reader opens, with at least one page; returns the page count."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    data = path.read_bytes() if path.is_file() else b""
    problem = f"{path.name} is missing or not a complete PDF; nothing was published"
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-1024:]:
        raise PublishError(problem)
    try:
        pages = len(PdfReader(path, strict=False).pages)
    except (PdfReadError, ValueError, KeyError) as exc:
        raise PublishError(f"{problem} ({exc})") from exc
    if pages < 1:
        raise PublishError(problem)
    return pages


def _crash_point(name: str) -> None:
    """Test hook: REPORT_PUBLISH_CRASH_AT=<name> kills the process at that point of the publish."""
    if os.environ.get("REPORT_PUBLISH_CRASH_AT") == name:
        os._exit(17)


def publish(staged: Path, out_dir: Path, ctx: dict[str, Any], changes: dict[str, Any],
            inputs: dict[str, str]) -> dict[str, Any]:
    """Validate the staged PDFs, archive them as a new edition, then swap `latest` and the stable copies."""
    for name in PDF_NAMES.values():
        validate_pdf(staged / name)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    inputs_hash = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:8]
    edition_id = f"{now:%Y%m%dT%H%M%SZ}-{inputs_hash}"
    editions = out_dir / EDITIONS
    editions.mkdir(parents=True, exist_ok=True)
    for stale in editions.glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = editions / f".tmp-{edition_id}"
    tmp.mkdir()
    outputs = {}
    for name in PDF_NAMES.values():
        shutil.copyfile(staged / name, tmp / name)
        outputs[name] = file_sha256(tmp / name)
        _crash_point("copy")
    (tmp / "context.json").write_text(context_json(ctx), encoding="utf-8")
    (tmp / "changes.json").write_text(json.dumps(changes, ensure_ascii=False, indent=1, sort_keys=True),
                                      encoding="utf-8")
    previous = latest_edition(out_dir)
    record = {"edition_id": edition_id, "published_at": now.isoformat(), "inputs": inputs,
              "code_version": code_version(), "outputs": outputs,
              "previous": previous.name if previous else None}
    (tmp / "edition.json").write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")
    final = editions / edition_id
    os.rename(tmp, final)
    _crash_point("archived")
    link_tmp = out_dir / f".{LATEST}.tmp"
    if link_tmp.is_symlink() or link_tmp.exists():
        link_tmp.unlink()
    link_tmp.symlink_to(Path(EDITIONS) / edition_id)
    os.replace(link_tmp, out_dir / LATEST)
    for name in PDF_NAMES.values():
        copy_tmp = out_dir / f".{name}.tmp"
        shutil.copyfile(final / name, copy_tmp)
        os.replace(copy_tmp, out_dir / name)
    return record
