"""Figure 7: national compute investment or subsidy plans in RMB, labelled with the amount in its own currency."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from pipeline.lib.ingest.units import parse_unit
from pipeline.lib.report import fmt, style
from pipeline.lib.report.figures import _common as c

ID = "fig07"
KIND = "chart"
SERIES = "investment_plan"


def query(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Plans (largest first): RMB value, the published amount/unit/currency and the amount in that currency."""
    geo, seg = c.names(con, "geography"), c.names(con, "segment")
    fx = {
        cur: (rate, sid)
        for cur, rate, sid in con.execute("SELECT currency, cny_per_unit, source_id FROM core.fx_rates").fetchall()
    }
    items, sources = [], set()
    for r in sorted(c.observations(con, SERIES), key=lambda r: (-r["value"], r["geography"])):
        currency = r["currency_orig"] or "CNY"
        _rate, fx_source = fx.get(currency, (1.0, None))
        if fx_source:
            sources.add(fx_source)
        sources.add(r["source_id"])
        items.append(
            {
                "geography": r["geography"],
                "segment": r["segment"],
                "year": r["year"],
                "region": geo[r["geography"]],
                "plan": seg[r["segment"]],
                "value": r["value"],
                "unit": r["unit"],
                "value_orig": r["value_orig"],
                "unit_orig": r["unit_orig"],
                "currency_orig": currency,
                "qualifier": r["qualifier"],
                "status": r["status"],
                "mark": r["mark"],
                "source_id": r["source_id"],
            }
        )
    return {
        "id": ID,
        "series_id": SERIES,
        "items": items,
        "source_ids": sorted(sources),
        "flagged": any(i["mark"] for i in items),
    }


def original(it: dict[str, Any], lang: str) -> str:
    """The amount as published, in its own currency: zh '527亿美元', en 'USD 52.7 bn' (fmt.money)."""
    return fmt.money(it["value_orig"] * parse_unit(it["unit_orig"]).factor, lang, it["currency_orig"])


def draw(data: dict[str, Any], lang: str, path: Path) -> Path:
    """Horizontal bars in 亿元 / RMB bn; label = RMB amount (original amount), seed-only values hatched."""
    plt = style.setup()
    items = data["items"]
    divisor, _unit = c.money_unit(lang, large=False)
    fig, ax = plt.subplots(figsize=(style.FIGSIZE[0], 2.6))
    ys = list(range(len(items)))[::-1]
    for y, it in zip(ys, items, strict=True):
        ax.barh(y, it["value"] / divisor, height=0.62, **c.bar_style(style.PALETTE[0], it["mark"]))
        cny = c.money_label(it["value"], lang, large=False, q=it["qualifier"])
        label = cny if it["currency_orig"] == "CNY" else c.text(ID, "bar_label", lang, cny=cny, orig=original(it, lang))
        ax.text(it["value"] / divisor, y, "  " + label, va="center", ha="left", fontsize=c.SMALL)
    width = 14 if lang == "zh" else 30
    ax.set_yticks(ys, [it["region"][lang] + "\n" + c.wrap(it["plan"][lang], lang, width) for it in items])
    ax.tick_params(axis="y", length=0)
    ax.set_xlim(0, max(i["value"] for i in items) / divisor * 1.55)
    ax.set_ylim(-0.6, len(items) - 0.4)
    c.number_axis(ax, "x", lang)
    ax.set_xlabel(c.text(ID, "axis", lang))
    marks = {i["mark"] for i in items}
    if marks - {None}:
        c.legend(ax, c.legend_marks(lang, marks, color=style.PALETTE[0]), loc="lower right")
    return style.save(fig, path)
