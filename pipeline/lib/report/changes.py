"""What changed since the previous edition: sources, numbers (old → new in both languages), forecasts, accepted
outliers. Reads the previous edition's records (files the publish step wrote); never imports the publish layer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline.lib.ingest.inputs import changed_inputs, table_of, unrecorded_entry
from pipeline.lib.report import fmt
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


# the column heading that names each field of an evaluated claim (i18n columns)
CLAIM_FIELD_COLUMNS = {
    "ours": "ours",
    "claimed": "claim",
    "implied_cagr": "cagr",
    "needed_cagr": "needed",
    "historical_cagr": "history_growth",
    "assessment": "result",
}


def compute_changes(previous: Path | None, ctx: dict[str, Any], inputs: dict[str, str]) -> dict[str, Any]:
    """Sources changed, numbers moved (old → new in both languages, under their names in each language), forecasts
    revised, vs the previous edition. A number or forecast is listed only where what the reader sees differs: its
    formatted value in either language, or its year."""
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
    cats = {lang: catalog(lang) for lang in ("zh", "en")}
    titles = {s["source_id"]: s for s in [*old_ctx.get("sources", []), *ctx["sources"]]}
    sources = []
    for sid in changed:
        row = {
            "source_id": sid,
            "change": "added" if sid not in old_inputs else "removed" if sid not in inputs else "changed",
        }
        for lang, t in cats.items():
            row[f"title_{lang}"] = _source_title(sid, titles, lang, t)
        sources.append(row)
    numbers = []
    for name, fact in sorted(ctx["facts"].items()):
        old = old_ctx["facts"].get(name)
        if old is None:
            continue
        row: dict[str, Any] = {"name": name, "old": old["value"], "new": fact["value"]}
        row |= {"old_year": old.get("year"), "new_year": fact.get("year")}
        for lang, t in cats.items():
            row[f"old_{lang}"], row[f"new_{lang}"] = format_fact(old, lang, t), format_fact(fact, lang, t)
            row[f"item_{lang}"] = fact_name(fact, ctx, lang, t, with_year=row["old_year"] == row["new_year"])
        if row["old_year"] == row["new_year"] and all(row[f"old_{g}"] == row[f"new_{g}"] for g in cats):
            continue
        numbers.append(row)
    old_claims = {h["claim_id"]: h for h in old_ctx.get("headlines", [])}
    forecasts = []
    for h in ctx["headlines"]:
        old_h = old_claims.get(h["claim_id"])
        if old_h is None:
            continue
        unit = h.get("unit", "CNY")
        shown = {
            (lang, when): fmt.quantity(v, unit, lang) if v is not None else "–"
            for lang in cats
            for when, v in (("old", old_h["ours"]), ("new", h["ours"]))
        }
        if all(shown[(lang, "old")] == shown[(lang, "new")] for lang in cats):
            continue
        forecasts.append(
            {
                "claim_id": h["claim_id"],
                "old": old_h["ours"],
                "new": h["ours"],
                "unit": unit,
                "text_zh": h["text_zh"],
                "text_en": h["text_en"],
                **{f"{when}_{lang}": text for (lang, when), text in shown.items()},
            }
        )
    return {
        "previous": record["edition_id"],
        "sources": sources,
        "numbers": numbers,
        "forecasts": forecasts,
        "accepted_outliers": accepted,
    }


def _source_title(sid: str, titles: dict[str, dict[str, Any]], lang: str, t: dict[str, Any]) -> str:
    """A changed input as readers know it: its table's title, or the catalogue's name for a catalogue file."""
    if sid in titles:
        return titles[sid][f"title_{lang}"]
    return t["catalogues"].get(sid.removeprefix("catalog:"), t["catalogues"]["other"])


def fact_name(fact: dict[str, Any], ctx: dict[str, Any], lang: str, t: dict[str, Any], with_year: bool = True) -> str:
    """A number of the prose under its name in `lang`: series, geography, segment and year for an observation
    ('云计算市场规模（中国，2022年）'), the claim for a headline, series and scenario for a projection."""
    labels = ctx["labels"]

    def label(kind: str, code: str | None) -> str | None:
        return labels.get(f"{kind}:{code}", {}).get(lang) if code else None

    if "claim" in fact:
        claim = next((h for h in ctx["headlines"] if h["claim_id"] == fact["claim"]), None)
        what = claim[f"text_{lang}"] if claim else t["columns"]["claim"]
        detail = [t["columns"][CLAIM_FIELD_COLUMNS[fact["field"]]]]
    else:
        what = label("series", fact.get("series_id")) or t["columns"]["kind_number"]
        detail = [label("geography", fact.get("geography"))]
        if fact.get("segment") not in (None, "total"):
            detail.append(label("segment", fact["segment"]))
        if "scenario" in fact:
            detail.append(t["scenario_names"][fact["scenario"]])
            if fact.get("field") == "rate":
                detail.append(t["columns"]["annual_growth"])
        if with_year:
            detail.append(t["year_word"].format(year=fact["year"]))
    inner = ("，" if lang == "zh" else ", ").join(d for d in detail if d)
    return f"{what}（{inner}）" if lang == "zh" else f"{what} ({inner})"


def _outlier_key(row: dict[str, Any]) -> tuple:
    return tuple(row.get(k) for k in ("source_id", "series_id", "geography", "segment", "year", "reason"))
