"""The report context: every number, label and citation the templates need, read from the warehouse.

`build_context` is language-independent (canonical values, JSON-serialisable); `edition_view` formats it for
one language following report_templates/outline.yaml.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import templates_dir
from pipeline.lib import yamlio
from pipeline.lib.db import fetch_records
from pipeline.lib.ingest.manifest import publisher_in, reference_in
from pipeline.lib.report import fmt
from pipeline.lib.report.facts import format_fact, resolve_facts
from pipeline.lib.report.queries import labels, sources
from pipeline.lib.report.statuses import statuses
from pipeline.lib.report.tables import column_widths

if TYPE_CHECKING:  # duckdb only for type hints: the PDF processes need not import it
    import duckdb

LANGS = ("zh", "en")


@functools.cache
def _yaml(name: str) -> Any:
    return yamlio.load((templates_dir() / name).read_text(encoding="utf-8"))


def catalog(lang: str) -> dict[str, Any]:
    """The language's string catalogue (report_templates/i18n/<lang>.yaml)."""
    return _yaml(f"i18n/{lang}.yaml")


def outline() -> dict[str, Any]:
    """The report's structure (report_templates/outline.yaml)."""
    return _yaml("outline.yaml")


def figure_modules() -> dict[str, Any]:
    """The registered figures (pipeline/lib/report/figures)."""
    from pipeline.lib.report.figures import FIGURES

    return FIGURES


def headline_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """forecast.headlines with the canonical unit of each claim's target (a series, or an aggregate's members)."""
    return fetch_records(
        con,
        "SELECT h.*, coalesce(any_value(o.unit), 'CNY') AS unit FROM forecast.headlines h "
        "LEFT JOIN forecast.aggregates a ON a.aggregate_id = h.target "
        "LEFT JOIN core.observations o ON o.series_id = coalesce(a.member_series_id, h.target) "
        "GROUP BY ALL ORDER BY h.claim_id",
    )


def current_inputs(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """{source id, entry:<source id> or catalog:<file>: sha256} of everything the warehouse was built from."""
    inputs = dict(con.execute("SELECT source_id, sha256 FROM core.sources").fetchall())
    inputs |= {
        f"entry:{sid}": h
        for sid, h in con.execute(
            "SELECT source_id, entry_sha256 FROM core.sources WHERE entry_sha256 IS NOT NULL"
        ).fetchall()
    }
    inputs |= {f"catalog:{f}": h for f, h in con.execute("SELECT file, sha256 FROM raw.catalog_files").fetchall()}
    return dict(sorted(inputs.items()))


def edition_date(con: duckdb.DuckDBPyConnection) -> str:
    """The report's date: the latest publication among the tables it reports on (not assumptions, and not the
    exchange-rate tables that only convert other tables' amounts)."""
    return con.execute(
        "SELECT max(published)::VARCHAR FROM core.sources WHERE status <> 'assumption' AND source_id NOT IN "
        "(SELECT DISTINCT source_id FROM core.fx_rates)"
    ).fetchone()[0]


def build_context(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Query everything the report shows; JSON-serialisable, canonical units. The changelog (`changes`) is added
    by the caller (`report.changes.compute_changes`), from the previous edition."""
    published = edition_date(con)
    used = {
        b.split(":", 1)[1]
        for part in ("sections", "appendix")
        for s in outline()[part]
        for b in s["blocks"]
        if b.startswith("fig:")
    }
    figures = {fid: module.query(con) for fid, module in figure_modules().items() if fid in used}
    ctx = {
        "meta": {"published": published, "created": f"{published}T00:00:00+00:00"},
        "inputs": current_inputs(con),
        "labels": labels(con),
        "facts": resolve_facts(con),
        "figures": figures,
        "headlines": headline_rows(con),
        "assumptions": fetch_records(
            con,
            "SELECT * FROM (SELECT a.*, coalesce(any_value(o.unit), 'CNY') AS unit, "
            "any_value(p.rate) AS effective_rate, any_value(p.fitted_method) AS fitted_method "
            "FROM forecast.assumptions a LEFT JOIN core.observations o USING (series_id) "
            "LEFT JOIN forecast.projections p ON p.assumption_id = a.assumption_id AND p.year = a.horizon "
            "GROUP BY ALL) ORDER BY series_id, list_position(['low', 'base', 'high'], scenario)",
        ),
        "backtest": fetch_records(con, "SELECT * FROM forecast.backtest ORDER BY series_id, holdout_years, method"),
        "sources": sources(con),
        "glossary": _yaml("glossary.yaml"),
        "accepted_outliers": fetch_records(
            con,
            "SELECT a.*, any_value(o.unit) AS unit FROM core.accepted_outliers a "
            "LEFT JOIN core.observations o USING (source_id, series_id, geography, "
            "segment, year) GROUP BY ALL ORDER BY a.source_id, a.series_id, a.year",
        ),
    }
    return ctx


def _figure_titles() -> dict[str, Any]:
    return _yaml("i18n/figures.yaml")


def _citation(ctx: dict[str, Any], ids: list[str], lang: str) -> str:
    by_id = {s["source_id"]: s for s in ctx["sources"]}
    parts = []
    for sid in sorted(set(ids)):
        s = by_id.get(sid)
        if s is None:
            continue
        title = s["title_zh"] if lang == "zh" else s["title_en"]
        publisher = publisher_in(s["publisher"], lang)
        parts.append(f"{publisher}, {title} ({s['published']}; {reference_in(s['reference'], lang)})")
    return "; ".join(parts)


def assumption_tag(found: list[str | None], t: dict[str, Any]) -> str | None:
    """The caption tag of a figure or table whose values (their statuses) are all or partly analyst assumptions."""
    assumed = found.count("assumption")
    if not assumed:
        return None
    return t["assumption_tag"] if assumed == len(found) else t["some_assumptions_tag"]


def _source_statuses(ctx: dict[str, Any], ids: list[str]) -> list[str | None]:
    by_id = {s["source_id"]: s["status"] for s in ctx["sources"]}
    return [by_id.get(sid) for sid in ids]


def _cell(text: str, num: bool = False, flag: bool = False) -> dict[str, Any]:
    return {"text": text, "num": num, "flag": flag}


def _context_tables(ctx: dict[str, Any], lang: str, t: dict[str, Any]) -> dict[str, dict[str, Any]]:
    c = t["columns"]
    name = {k: v[lang] for k, v in ctx["labels"].items()}

    def series_name(sid: str) -> str:
        return name.get(f"series:{sid}", sid)

    def rate(value: float | None) -> dict[str, Any]:
        return _cell(fmt.percent(value, lang) if value is not None else "–", True)

    headlines = [
        [
            _cell(h[f"text_{lang}"]),
            _cell(fmt.quantity(h["ours"], h["unit"], lang) if h["ours"] is not None else "–", True, True),
            rate(h["implied_cagr"]),
            rate(h["needed_cagr"]),
            rate(h["historical_cagr"]),
            _cell(t["verdict_words"][h["verdict"]]),
        ]
        for h in ctx["headlines"]
    ]
    assumptions = []
    for a in ctx["assumptions"]:
        method = t["methods"][a["method"]]
        if a["method"] == "best" and a["fitted_method"]:
            method += t["method_detail"].format(detail=t["methods"][a["fitted_method"]])
        elif a["method"] in ("driver", "share_of"):
            drivers = (name.get(f"series:{d}", name.get(f"aggregate:{d}", d)) for d in (a["share_series"], a["driver"]))
            method += t["method_detail"].format(detail=" × ".join(d for d in drivers if d))
        if a["method"] == "target":
            rate = f"→ {fmt.quantity(a['target_value'], a['unit'], lang)} ({int(a['target_year'])})"
        else:
            rate = "–" if a["effective_rate"] is None else fmt.percent(a["effective_rate"], lang)
        assumptions.append(
            [
                _cell(series_name(a["series_id"])),
                _cell(t["scenarios"][a["scenario"]]),
                _cell(method),
                _cell(rate, True),
                _cell(a[f"rationale_{lang}"]),
            ]
        )
    backtest = [
        [
            _cell(series_name(b["series_id"])),
            _cell(str(b["holdout_years"]), True),
            _cell(t["methods"][b["method"]]),
            _cell(fmt.percent(b["mape"], lang), True),
        ]
        for b in ctx["backtest"]
    ]
    sources_rows = [
        [
            _cell(publisher_in(s["publisher"], lang)),
            _cell(s[f"title_{lang}"]),
            _cell(s["published"]),
            _cell(reference_in(s["reference"], lang)),
            _cell(t["status"][s["status"]]),
        ]
        for s in ctx["sources"]
    ]
    glossary = [[_cell(g["zh"]), _cell(g["en"]), _cell(g[f"def_{lang}"])] for g in ctx["glossary"]]
    changes = _changes_rows(ctx["changes"], lang, t)
    if accepted := _accepted_rows(ctx["changes"], lang, t, name):
        changes = [r for r in changes if r[0]["text"] != c["no_changes"]] + accepted
    forecast_ids = ["forecast_assumptions", "forecast_claims"]
    return {
        "headlines": {
            "header": [c["claim"], c["ours"], c["cagr"], c["needed"], c["history_growth"], c["result"]],
            "rows": headlines,
            "source_ids": forecast_ids,
            "flagged": True,
        },
        "assumptions": {
            "header": [c["series"], c["scenario"], c["method"], c["rate"], c["rationale"]],
            "rows": assumptions,
            "source_ids": ["forecast_assumptions"],
            "flagged": True,
        },
        "backtest": {
            "header": [c["series"], c["horizon"], c["method"], c["mape"]],
            "rows": backtest,
            "source_ids": sorted({s["source_id"] for s in ctx["sources"] if s["source_id"].startswith("fig11")}),
            "flagged": False,
        },
        "sources": {
            "header": [c["publisher"], c["title"], c["date"], c["reference"], c["status"]],
            "rows": sources_rows,
            "source_ids": [],
            "flagged": False,
            "class": "small",
        },
        "glossary": {
            "header": [c["term"], c["english"], c["definition"]],
            "rows": glossary,
            "source_ids": [],
            "flagged": False,
        },
        "changes": {
            "header": [c["change_kind"], c["change_item"], c["old"], c["new"]],
            "rows": changes,
            "source_ids": [],
            "flagged": False,
        },
    }


def _changes_rows(changes: dict[str, Any], lang: str, t: dict[str, Any]) -> list[list[dict[str, Any]]]:
    c = t["columns"]
    if changes["previous"] is None:
        return [[_cell(c["first_edition"]), _cell("–"), _cell("–"), _cell("–")]]
    rows = [
        [_cell(c["kind_source"]), _cell(s[f"title_{lang}"]), _cell(c[f"change_{s['change']}"]), _cell("")]
        for s in changes["sources"]
    ]
    for n in changes["numbers"]:
        old, new = n[f"old_{lang}"], n[f"new_{lang}"]
        if n.get("old_year") != n.get("new_year"):  # the latest actual moved to another year: say which
            old += t["year_aside"].format(year=n["old_year"])
            new += t["year_aside"].format(year=n["new_year"])
        rows.append([_cell(c["kind_number"]), _cell(n[f"item_{lang}"]), _cell(old, True), _cell(new, True)])
    rows += [
        [
            _cell(c["kind_forecast"]),
            _cell(f[f"text_{lang}"]),
            _cell(f[f"old_{lang}"], True),
            _cell(f[f"new_{lang}"], True),
        ]
        for f in changes["forecasts"]
    ]
    return rows or [[_cell(c["no_changes"]), _cell("–"), _cell("–"), _cell("–")]]


def _accepted_rows(
    changes: dict[str, Any], lang: str, t: dict[str, Any], name: dict[str, str]
) -> list[list[dict[str, Any]]]:
    """Values outside the intake bounds that their source's entry accepted in this edition, with the reason."""
    c = t["columns"]
    rows = []
    for a in changes.get("accepted_outliers", []):
        series = name.get(f"series:{a['series_id']}", a["series_id"])
        value = fmt.quantity(a["value"], a["unit"] or "", lang, t["units"])
        item, shown = (
            (f"{series}（{a['year']}年）", f"{value}：{a['reason']}")
            if lang == "zh"
            else (f"{series} ({a['year']})", f"{value}: {a['reason']}")
        )
        rows.append([_cell(c["kind_accepted"]), _cell(item), _cell("–"), _cell(shown)])
    return rows


def prose_values(facts: dict[str, dict[str, Any]], lang: str, t: dict[str, Any]) -> dict[str, Any]:
    """What the prose's {placeholders} stand for: `<fact>` (formatted; a fact stated in the year of another that
    has no value for that year carries its own year), `<fact>_year`, and `<fact>_is` (the value after the
    catalogue's copula, zh 为, which a qualifier replaces: '为1.5万亿元' but '超1.5万亿元')."""
    values: dict[str, Any] = {}
    for name, fact in facts.items():
        text = format_fact(fact, lang, t)
        anchor = facts.get(fact.get("same_year_as") or "")
        if anchor is not None and anchor["year"] != fact["year"]:
            text += t["year_aside"].format(year=fact["year"])
        values[name] = text
        values[f"{name}_year"] = fact["year"]
        prefixed = any((fact.get("qualifier") or "").startswith(q) for q in t["qualifiers"])
        values[f"{name}_is"] = text if prefixed else f"{t['copula']}{text}"
    return values


IMAGE_SCHEME = "chart:"


def image_url(path: Path) -> str:
    """How the HTML names a chart: by its content (`chart:<sha256>.png`), never by where it was built, so the same
    charts give the same PDF bytes in any output folder (WeasyPrint names an embedded image after its URL).
    `render.layout` serves these URLs from the chart files."""
    return f"{IMAGE_SCHEME}{hashlib.sha256(path.read_bytes()).hexdigest()}{path.suffix}"


def edition_view(ctx: dict[str, Any], lang: str, chart_paths: dict[str, Path]) -> dict[str, Any]:
    """Everything a template renders for one language: formatted numbers, numbered captions, tables, prose."""
    t = catalog(lang)
    titles = _figure_titles()
    modules = figure_modules()
    context_tables = _context_tables(ctx, lang, t)
    numbers = {"figure": 0, "table": 0}
    refs: dict[str, int] = {}
    parts: dict[str, list[dict[str, Any]]] = {"sections": [], "appendix": []}
    pending: list[tuple[dict[str, Any], str]] = []
    for part in ("sections", "appendix"):
        for sec in outline()[part]:
            blocks = []
            for block in sec["blocks"]:
                kind, _, key = block.partition(":")
                if kind == "p":
                    item = {"type": "p", "key": key}
                    pending.append((item, key))
                elif kind == "fig" and getattr(modules[key], "KIND", "chart") == "chart":
                    numbers["figure"] += 1
                    refs[f"fig_{key}"] = numbers["figure"]
                    data = ctx["figures"][key]
                    item = {
                        "type": "figure",
                        "id": key,
                        "number": numbers["figure"],
                        "title": titles[key]["title"][lang],
                        "image": image_url(chart_paths[key]),
                        "flagged": data["flagged"],
                        "assumption": assumption_tag(statuses(data), t),
                        "source_line": _citation(ctx, data["source_ids"], lang),
                        "note": modules[key].note(data, lang) if hasattr(modules[key], "note") else None,
                    }
                else:
                    numbers["table"] += 1
                    if kind == "fig":
                        refs[f"fig_{key}"] = numbers["table"]
                        data = ctx["figures"][key]
                        body = modules[key].rows(data, lang)
                        table = {**body, "source_ids": data["source_ids"], "flagged": data["flagged"]}
                        title = titles[key]["title"][lang]
                        tag = assumption_tag(statuses(data), t)
                    else:
                        refs[f"tab_{key}"] = numbers["table"]
                        table = context_tables[key]
                        title = t["tables"][key]
                        tag = assumption_tag(_source_statuses(ctx, table["source_ids"]), t)
                    item = {
                        "type": "table",
                        "id": key,
                        "number": numbers["table"],
                        "title": title,
                        "header": table["header"],
                        "rows": table["rows"],
                        "flagged": table["flagged"],
                        "assumption": tag,
                        "widths": column_widths(table["header"], table["rows"], table.get("class", "")),
                        "class": table.get("class", ""),
                        "source_line": _citation(ctx, table["source_ids"], lang),
                    }
                blocks.append(item)
            parts[part].append({"id": sec["id"], "heading": t["sections"][sec["id"]], "blocks": blocks})
    values: dict[str, Any] = dict(refs) | prose_values(ctx["facts"], lang, t)
    for item, key in pending:
        item["text"] = t["text"][key].format(**values)
    return {
        "lang": lang,
        "t": t,
        "meta": ctx["meta"],
        "sections": parts["sections"],
        "appendix": parts["appendix"],
        "images": {image_url(path): path for path in chart_paths.values()},
        "numbers": sorted({values[n] for n in ctx["facts"]}),
        "refs": refs,
    }
