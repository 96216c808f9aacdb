"""What changed since the previous edition: sources, numbers (old → new in both languages), forecasts, accepted
outliers. Reads the previous edition's records (files the publish step wrote); never imports the publish layer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline.lib.ingest.inputs import changed_inputs, table_of, unrecorded_entry
from pipeline.lib.report.context import catalog
from pipeline.lib.report.facts import format_fact

LATEST = "latest"  # output/latest: the link the publish step switches to each new edition


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
    changed = sorted(
        {
            table_of(name) or name
            for name in changed_inputs(old_inputs, inputs)
            if not unrecorded_entry(name, old_inputs, inputs)
        }
    )
    sources = [
        {
            "source_id": sid,
            "change": "added" if sid not in old_inputs else "removed" if sid not in inputs else "changed",
        }
        for sid in changed
    ]
    cats = {lang: catalog(lang) for lang in ("zh", "en")}
    numbers = []
    for name, fact in sorted(ctx["facts"].items()):
        old = old_ctx["facts"].get(name)
        if old is None or (_same(old["value"], fact["value"]) and old.get("verdict") == fact.get("verdict")):
            continue
        row = {"name": name, "old": old["value"], "new": fact["value"]}
        for lang, t in cats.items():
            row[f"old_{lang}"], row[f"new_{lang}"] = format_fact(old, lang, t), format_fact(fact, lang, t)
        numbers.append(row)
    old_claims = {h["claim_id"]: h for h in old_ctx.get("headlines", [])}
    forecasts = [
        {
            "claim_id": h["claim_id"],
            "old": old_claims[h["claim_id"]]["ours"],
            "new": h["ours"],
            "unit": h.get("unit", "CNY"),
            "text_zh": h["text_zh"],
            "text_en": h["text_en"],
        }
        for h in ctx["headlines"]
        if h["claim_id"] in old_claims and old_claims[h["claim_id"]]["ours"] != h["ours"]
    ]
    return {
        "previous": record["edition_id"],
        "sources": sources,
        "numbers": numbers,
        "forecasts": forecasts,
        "accepted_outliers": accepted,
    }


def _same(old: float | None, new: float | None) -> bool:
    """Equal numbers (to rounding noise), or both missing."""
    if old is None or new is None:
        return old is new
    return abs(old - new) <= 1e-9 * max(abs(new), 1)


def _outlier_key(row: dict[str, Any]) -> tuple:
    return tuple(row.get(k) for k in ("source_id", "series_id", "geography", "segment", "year", "reason"))
