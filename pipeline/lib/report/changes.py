"""What changed since the previous edition: sources, numbers (old → new in both languages), forecasts, accepted
outliers. Reads the previous edition's records (files the publish step wrote); never imports the publish layer."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeline.lib.ingest.inputs import changed_inputs, table_of, unrecorded_entry
from pipeline.lib.report import fmt
from pipeline.lib.report.context import catalog
from pipeline.lib.report.facts import format_fact
from pipeline.lib.report.pages import LANGS
from pipeline.lib.report.records import (
    ChangedSource,
    Changes,
    Fact,
    GrowthFact,
    HeadlineFact,
    MovedNumber,
    ObservationFact,
    ProjectionFact,
    ReportContext,
    RevisedForecast,
    Source,
)

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
    "verdict": "result",
    "finding": "result",
    "tolerance": "claim",
}


def compute_changes(previous: Path | None, ctx: ReportContext, inputs: Mapping[str, str]) -> Changes:
    """Sources changed, numbers moved (old → new in both languages, under their names in each language), forecasts
    revised, vs the previous edition. A number or forecast is listed only where what the reader sees differs: its
    formatted value in either language, or its year."""
    record = read_json(previous / "edition.json") if previous else None
    stored = read_json(previous / "context.json") if previous else None
    old_ctx = ReportContext.from_json(stored) if stored is not None else None
    known = {a.key() for a in old_ctx.accepted_outliers} if old_ctx else set()
    accepted = tuple(a for a in ctx.accepted_outliers if a.key() not in known)
    if record is None or old_ctx is None:
        return Changes(previous=None, accepted_outliers=accepted)
    old_inputs: dict[str, str] = record["inputs"]
    changed = sorted(
        {
            table_of(name) or name
            for name in changed_inputs(old_inputs, inputs)
            if not unrecorded_entry(name, old_inputs, inputs)
        }
    )
    cats = {lang: catalog(lang) for lang in LANGS}
    titles = {s.source_id: s for s in [*old_ctx.sources, *ctx.sources]}
    sources = tuple(
        ChangedSource(
            source_id=sid,
            change="added" if sid not in old_inputs else "removed" if sid not in inputs else "changed",
            title_zh=_source_title(sid, titles, "zh", cats["zh"]),
            title_en=_source_title(sid, titles, "en", cats["en"]),
        )
        for sid in changed
    )
    numbers = []
    for name, fact in sorted(ctx.facts.items()):
        old = old_ctx.facts.get(name)
        if old is None:
            continue
        shown = {
            lang: (
                format_fact(old, lang, t),
                format_fact(fact, lang, t),
                fact_name(fact, ctx, lang, t, old.year == fact.year),
            )
            for lang, t in cats.items()
        }
        if old.year == fact.year and all(shown[g][0] == shown[g][1] for g in cats):
            continue
        numbers.append(
            MovedNumber(
                name=name,
                old=old.value,
                new=fact.value,
                old_year=old.year,
                new_year=fact.year,
                **{
                    f"{key}_{lang}": text
                    for lang, texts in shown.items()
                    for key, text in zip(("old", "new", "item"), texts, strict=True)
                },
            )
        )
    old_claims = {h.claim_id: h for h in old_ctx.headlines}
    forecasts = []
    for h in ctx.headlines:
        old_h = old_claims.get(h.claim_id)
        if old_h is None:
            continue
        printed = {
            (lang, when): fmt.quantity(v, h.unit, lang) if v is not None else "–"
            for lang in cats
            for when, v in (("old", old_h.ours), ("new", h.ours))
        }
        if all(printed[(lang, "old")] == printed[(lang, "new")] for lang in cats):
            continue
        forecasts.append(
            RevisedForecast(
                claim_id=h.claim_id,
                old=old_h.ours,
                new=h.ours,
                unit=h.unit,
                text_zh=h.text_zh,
                text_en=h.text_en,
                **{f"{when}_{lang}": text for (lang, when), text in printed.items()},
            )
        )
    return Changes(
        previous=record["edition_id"],
        sources=sources,
        numbers=tuple(numbers),
        forecasts=tuple(forecasts),
        accepted_outliers=accepted,
    )


def _source_title(sid: str, titles: Mapping[str, Source], lang: str, t: Mapping[str, Any]) -> str:
    """A changed input as readers know it: its table's title, or the catalogue's name for a catalogue file."""
    if sid in titles:
        return titles[sid].title(lang)
    return t["catalogues"].get(sid.removeprefix("catalog:"), t["catalogues"]["other"])


def fact_name(fact: Fact, ctx: ReportContext, lang: str, t: Mapping[str, Any], with_year: bool = True) -> str:
    """A number of the prose under its name in `lang`: series, geography, segment and year for an observation
    ('云计算市场规模（中国，2022年）'), the claim for a headline, series and scenario for a projection, series and
    years for a growth rate."""
    if isinstance(fact, HeadlineFact):
        claim = next((h for h in ctx.headlines if h.claim_id == fact.claim), None)
        what = claim.text(lang) if claim else t["columns"]["claim"]
        detail = [t["columns"][CLAIM_FIELD_COLUMNS[fact.field]]]
    else:
        what = ctx.label("series", fact.series_id, lang) or t["columns"]["kind_number"]
        detail = [ctx.label("geography", fact.geography, lang)]
        if isinstance(fact, ObservationFact | GrowthFact) and fact.segment not in (None, "total"):
            detail.append(ctx.label("segment", fact.segment, lang))
        if isinstance(fact, GrowthFact):
            detail.append(t["columns"]["annual_growth"])
        if isinstance(fact, ProjectionFact):
            detail.append(t["scenario_names"][fact.scenario])
            if fact.field == "rate":
                detail.append(t["columns"]["annual_growth"])
        if with_year and isinstance(fact, GrowthFact):
            detail.append(f"{t['year_word'].format(year=fact.from_year)}–{t['year_word'].format(year=fact.year)}")
        elif with_year:
            detail.append(t["year_word"].format(year=fact.year))
    inner = ("，" if lang == "zh" else ", ").join(d for d in detail if d)
    return f"{what}（{inner}）" if lang == "zh" else f"{what} ({inner})"
