"""Figure 16: industry bubble chart: IT spending growth (y) against relative IT spending (x, bubble = relative
size), all analyst assumptions (hatched), with Gartner's public worldwide growth as a reference line."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import duckdb

from pipeline.lib.ingest.units import parse_unit
from pipeline.lib.report import fmt, style
from pipeline.lib.report.figures import _common as c
from pipeline.lib.report.figures.base import chart

ID = "fig16"
SIZE, GROWTH = "industry_it_spending_relative_size", "industry_it_spending_growth"
PUBLIC_SPEND, PUBLIC_GROWTH = "it_spending", "it_spending_growth"
WORLD, TOTAL = "GLOBAL", "total"


def query(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Per industry: relative size and growth (assumptions); Gartner's public spending and growth figures."""
    seg = c.names(con, "segment")
    size = {r["segment"]: r for r in c.observations(con, SIZE)}
    growth = {r["segment"]: r for r in c.observations(con, GROWTH)}
    items = [
        {
            "segment": k,
            "name": seg[k],
            "year": size[k]["year"],
            "relative_size": size[k]["value"],
            "growth": growth[k]["value"],
            "status": size[k]["status"],
            "mark": size[k]["mark"] or growth[k]["mark"],
            "source_ids": sorted({size[k]["source_id"], growth[k]["source_id"]}),
        }
        for k in sorted(size, key=lambda k: -size[k]["value"])
        if k in growth
    ]
    public = {}
    for r in c.observations(con, PUBLIC_SPEND) + c.observations(con, PUBLIC_GROWTH):
        p = public.setdefault(
            r["segment"],
            {"segment": r["segment"], "geography": r["geography"], "name": seg[r["segment"]], "year": r["year"]},
        )
        if r["series_id"] == PUBLIC_SPEND:
            p |= {
                "spending": r["value"],
                "spending_orig": r["value_orig"],
                "unit_orig": r["unit_orig"],
                "currency_orig": r["currency_orig"],
            }
        else:
            p["growth"] = r["value"]
        p["status"], p["source_id"] = r["status"], r["source_id"]
    ids = {s for i in items for s in i["source_ids"]} | {p["source_id"] for p in public.values()}
    return {
        "id": ID,
        "items": items,
        "public": [public[k] for k in sorted(public, key=lambda k: k != TOTAL)],
        "source_ids": sorted(ids),
        "flagged": any(i["mark"] for i in items),
    }


def _orig(p: dict[str, Any], lang: str) -> str:
    """A public spending figure in its published currency ('4.71万亿美元' / 'USD 4.71 tn')."""
    return fmt.money(p["spending_orig"] * parse_unit(p["unit_orig"]).factor, lang, p["currency_orig"])


def draw(data: dict[str, Any], lang: str, path: Path) -> Path:
    """Hatched bubbles (area ∝ relative size) with industry names; dashed line = Gartner worldwide growth."""
    plt = style.setup()
    items = data["items"]
    fig, ax = plt.subplots(figsize=(style.FIGSIZE[0], 3.7))
    biggest = max(i["relative_size"] for i in items)
    area = {i["segment"]: 1500 * i["relative_size"] / biggest for i in items}
    for n, it in enumerate(items):
        color = style.PALETTE[n % len(style.PALETTE)]
        ax.scatter(
            [it["relative_size"]],
            [it["growth"]],
            s=area[it["segment"]],
            facecolor=c.lighter(color, 0.3),
            edgecolor=color,
            hatch=style.APPROX_HATCH if it["mark"] else None,
            linewidth=0.8,
            zorder=3,
            alpha=0.95,
        )
        ax.scatter([it["relative_size"]], [it["growth"]], s=6, color=color, zorder=4)
    xs = [i["relative_size"] for i in items]
    ys = [i["growth"] for i in items]
    world = next((p for p in data["public"] if p["segment"] == TOTAL and "growth" in p), None)
    lo = min([*ys, world["growth"] if world else min(ys)])
    hi = max([*ys, world["growth"] if world else max(ys)])
    pad_y = (hi - lo) * 0.35
    ax.set_ylim(max(0.0, lo - pad_y), hi + pad_y)
    ax.set_xlim(0, max(xs) * 1.22)
    # names: right of the bubble unless another bubble's centre sits there, then left
    for it in items:
        r_pts = math.sqrt(area[it["segment"]] / math.pi)
        right = not any(
            0 < o["relative_size"] - it["relative_size"] < 25 and abs(o["growth"] - it["growth"]) < 1.5 for o in items
        )
        ax.annotate(
            it["name"][lang],
            (it["relative_size"], it["growth"]),
            xytext=((r_pts + 2) * (1 if right else -1), 0),
            textcoords="offset points",
            ha="left" if right else "right",
            va="center",
            fontsize=7.2,
            zorder=5,
        )
    handles = [c.bubble_handle(ax, c.text(ID, "legend.assumption", lang), "assumption")]
    if world:
        rate = c.number(world["growth"], lang, "#,##0.0") + "%"
        ax.axhline(world["growth"], color=c.DARK, linestyle=(0, (4, 2)), linewidth=0.9, zorder=2)
        handles.append(
            c.line_handle(
                c.text(ID, "legend.world_growth", lang, rate=rate), c.DARK, linestyle=(0, (4, 2)), linewidth=0.9
            )
        )
    c.number_axis(ax, "x", lang, "#,##0", suffix="%")
    c.number_axis(ax, "y", lang)
    year = items[0]["year"]
    ax.set_xlabel(c.text(ID, "axis_x", lang, year=year))
    ax.set_ylabel(c.text(ID, "axis_y", lang, year=year))
    c.legend(ax, handles, loc="upper left")
    bank = next((p for p in data["public"] if p["segment"] != TOTAL), None)
    if world and bank:
        note = c.text(
            ID,
            "gartner_note",
            lang,
            year=world["year"],
            world=_orig(world, lang),
            world_growth=c.number(world["growth"], lang, "#,##0.0") + "%",
            bank=_orig(bank, lang),
            bank_growth=c.number(bank["growth"], lang, "#,##0.0") + "%",
        )
        fig.text(0.0, -0.01, note, fontsize=6.8, ha="left", va="top", color=c.DARK)
    return style.save(fig, path)


FIGURE = chart(
    ID,
    __doc__,
    __file__,
    query,
    draw,
    subject="industry_it_spending",
    seed_figure=16,
    datasets=("fig16_it_spending_public", "fig17_industry_assumptions"),
)
