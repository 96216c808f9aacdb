"""Figure 7: national compute investment or subsidy plans in RMB, labelled with the amount in its own currency."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from pipeline.lib.ingest.units import parse_unit
from pipeline.lib.report import fmt, style
from pipeline.lib.report.figures import _common as c
from pipeline.lib.report.figures.base import chart

ID = "fig07"
SERIES = "investment_plan"
PUBLISHED = "published_rmb"  # core.observations.fx_basis of an RMB amount given by the publisher itself


def query(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Plans (largest first): RMB value, the published amount/unit/currency, and how the RMB value was reached
    (`fx_basis`: the publisher's own RMB amount, or the annual-average or cross rate of the plan's year)."""
    geo, seg = c.names(con, "geography"), c.names(con, "segment")
    items, sources = [], set()
    for r in sorted(c.observations(con, SERIES), key=lambda r: (-r["value"], r["geography"])):
        currency = r["currency_orig"] or "CNY"
        sources |= {r["source_id"], r["fx_source_id"]} - {None}
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
                "currency_name": seg.get(currency, {"zh": currency, "en": currency}),
                "fx_basis": r["fx_basis"],
                "fx_rate": r["fx_rate"],
                "fx_year": r["fx_year"],
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


def note(data: dict[str, Any], lang: str) -> str:
    """The caption note: for each group of plans, how its RMB value was reached (one basis per plan, said)."""
    sep = "、" if lang == "zh" else ", "
    groups: dict[tuple[str, ...], list[str]] = {}
    for it in data["items"]:
        if it["currency_orig"] == "CNY":
            key: tuple[str, ...] = ("native",)
        elif it["fx_basis"] == PUBLISHED:
            key = ("published",)
        else:
            rate = (
                c.number(it["fx_rate"], lang, "#,##0.0000")
                if it["fx_rate"] >= 0.01
                else c.number(it["fx_rate"], lang, "0.000000")
            )
            key = ("rate", str(it["fx_year"]), it["currency_name"][lang], rate)
        groups.setdefault(key, []).append(it["region"][lang])
    parts = []
    for key, regions in groups.items():
        values = {"regions": sep.join(regions)}
        if key[0] == "rate":
            values |= {"year": key[1], "currency": key[2], "rate": key[3]}
        parts.append(c.text(ID, f"note.{key[0]}", lang, **values))
    return c.shared("note", lang, text=("；" if lang == "zh" else "; ").join(parts) + ("。" if lang == "zh" else "."))


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


FIGURE = chart(
    ID,
    __doc__,
    __file__,
    query,
    draw,
    subject="national_investment_plans",
    seed_figure=7,
    datasets=("fig07_national_investment_plans",),
    note=note,
)
