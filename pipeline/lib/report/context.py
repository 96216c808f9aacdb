"""The report context: every number, label and citation the templates need, read from the warehouse.

`build_context` is language-independent (canonical values); `edition_view` formats it for one language.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import yaml

from pipeline.config import templates_dir
from pipeline.lib.report import fmt
from pipeline.lib.report.queries import Fact, fact, investment_plans, labels, series_facts, sources

LANGS = ("zh", "en")
MARKET_SERIES = ["dc_market", "cloud_market", "ai_core_industry"]


def catalog(lang: str) -> dict[str, Any]:
    """The language's string catalogue (report_templates/i18n/<lang>.yaml)."""
    return yaml.safe_load((templates_dir() / "i18n" / f"{lang}.yaml").read_text(encoding="utf-8"))


def build_context(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Query everything the report shows; JSON-serialisable."""
    base_year = con.execute("SELECT max(year) FROM core.observations_latest WHERE series_id = 'dc_market'"
                            ).fetchone()[0]
    market = {sid: fact(con, sid, base_year) for sid in MARKET_SERIES}
    fig11 = series_facts(con, MARKET_SERIES)
    published = con.execute("SELECT max(published)::VARCHAR FROM core.sources").fetchone()[0]
    used = sorted({f.source_id for f in fig11} | {p["source_id"] for p in investment_plans(con)})
    return {
        "meta": {"published": published, "created": f"{published}T00:00:00Z"},
        "labels": labels(con),
        "market": {"year": base_year, "facts": {k: v.as_dict() for k, v in market.items()},
                   "total": sum(v.value for v in market.values())},
        "fig11": [f.as_dict() for f in fig11],
        "plans": investment_plans(con),
        "sources": sources(con, used),
    }


def _source_line(ctx: dict[str, Any], ids: set[str], lang: str) -> str:
    parts = []
    for s in ctx["sources"]:
        if s["source_id"] in ids:
            title = s["title_zh"] if lang == "zh" else s["title_en"]
            parts.append(f"{s['publisher']}, {title} ({s['published']}; {s['reference']})")
    return "; ".join(parts)


def edition_view(ctx: dict[str, Any], lang: str, chart_paths: dict[str, Path]) -> dict[str, Any]:
    """Everything a template renders for one language: formatted numbers, captions, tables."""
    t = catalog(lang)
    name = {k: v[lang] for k, v in ctx["labels"].items()}
    m = ctx["market"]["facts"]
    values = {k: fmt.quantity(v["value"], v["unit"], lang) for k, v in (("cloud", m["cloud_market"]),
                                                                        ("ai", m["ai_core_industry"]),
                                                                        ("dc", m["dc_market"]))}
    values["total"] = fmt.money(ctx["market"]["total"], lang)
    top = ctx["plans"][0]
    plan_values = {"top_plan": name[f"segment:{top['segment']}"], "top_region": name[f"geography:{top['geography']}"],
                   "top_value": fmt.money(top["value"], lang)}
    fig11_facts = [Fact(**f) for f in ctx["fig11"]]
    rows = []
    for p in ctx["plans"]:
        original = fmt.number(p["value_orig"], lang) + ("" if lang == "zh" else " ") + p["unit_orig"]
        rows.append([{"text": name[f"geography:{p['geography']}"]}, {"text": name[f"segment:{p['segment']}"]},
                     {"text": original, "num": True},
                     {"text": fmt.money(p["value"], lang), "num": True, "flag": p["status"] != "solid"},
                     {"text": t["status"][p["status"]]}])
    return {
        "lang": lang, "t": t, "meta": ctx["meta"],
        "text": {"market_lead": t["sections"]["market"]["lead"].format(year=ctx["market"]["year"], **values),
                 "market_plans": t["sections"]["market"]["plans"].format(**plan_values)},
        "numbers": sorted(set(values.values()) | {plan_values["top_value"]}),
        "figures": {"fig11": {"id": "fig11", "number": 1, "title": t["figures"]["fig11"],
                              "image": chart_paths["fig11"].as_uri(),
                              "flagged": any(f.status != "solid" for f in fig11_facts),
                              "source_line": _source_line(ctx, {f.source_id for f in fig11_facts}, lang)}},
        "tables": {"investment_plans": {
            "id": "tab-plans", "number": 1, "title": t["tables"]["investment_plans"],
            "header": [t["col_region"], t["col_plan"], t["col_original"], t["col_cny"], t["col_status"]],
            "rows": rows, "source_line": _source_line(ctx, {p["source_id"] for p in ctx["plans"]}, lang)}},
    }


def draw_charts(ctx: dict[str, Any], lang: str, out_dir: Path) -> dict[str, Path]:
    """Draw the edition's charts into out_dir; return {figure id: PNG path}."""
    from pipeline.lib.report import charts

    t = catalog(lang)
    names = {k.split(":", 1)[1]: v[lang] for k, v in ctx["labels"].items() if k.startswith("series:")}
    return {"fig11": charts.market_sizes([Fact(**f) for f in ctx["fig11"]], names, lang, t["figures"]["fig11"],
                                         out_dir / f"fig11_{lang}.png")}
