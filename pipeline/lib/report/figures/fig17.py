"""Figure 17: the 普/慧 quadrant: industries by inclusive (x) and intelligent (y) demand score, bubble = relative
IT spending, quadrants named after the seed's industry classes; all values are analyst assumptions."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import duckdb

from pipeline.lib.db import table_name
from pipeline.lib.report import style
from pipeline.lib.report.figures import _common as c
from pipeline.lib.report.figures.base import chart

ID = "fig17"
X, Y, SIZE = "inclusive_demand_score", "intelligent_demand_score", "industry_it_spending_relative_size"
CLASSES = "fig17_industry_classes"
HIGH = ("高", "high")
NEAR = 0.12  # bubbles closer than this share of the scale get their names on the side


def _high(level: str) -> bool:
    """'高 / high' → True, '低 / low' → False (first word of the level text)."""
    return level.split("/")[0].strip().split()[0] in HIGH


def query(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Per industry: scores, relative size and class; the four quadrants (class names by high/low position)."""
    seg = c.names(con, "segment")
    x = {r["segment"]: r for r in c.observations(con, X)}
    y = {r["segment"]: r for r in c.observations(con, Y)}
    size = {r["segment"]: r for r in c.observations(con, SIZE)}
    classes = {
        code: {"zh": czh, "en": cen, "pu_high": _high(pu), "hui_high": _high(hui)}
        for code, czh, cen, pu, hui in con.execute(
            "SELECT industry_code, class_zh, class_en, pu_level, hui_level "  # noqa: S608 - the table name is the only part spliced in, quoted by table_name
            f"FROM {table_name('raw', CLASSES)} ORDER BY _row"
        ).fetchall()
    }
    items = []
    for k in sorted(x, key=lambda k: -size[k]["value"] if k in size else 0):
        if k not in y:
            continue
        cls = classes.get(k)
        items.append(
            {
                "segment": k,
                "name": seg[k],
                "x": x[k]["value"],
                "y": y[k]["value"],
                "relative_size": size[k]["value"] if k in size else None,
                "unit": x[k]["unit"],
                "class": None if cls is None else {"zh": cls["zh"], "en": cls["en"]},
                "mark": x[k]["mark"] or y[k]["mark"] or (size[k]["mark"] if k in size else None),
                "source_ids": sorted(
                    {x[k]["source_id"], y[k]["source_id"]} | ({size[k]["source_id"]} if k in size else set())
                ),
            }
        )
    quadrants = []
    for cls in classes.values():
        q = {"pu_high": cls["pu_high"], "hui_high": cls["hui_high"], "name": {"zh": cls["zh"], "en": cls["en"]}}
        if q not in quadrants:
            quadrants.append(q)
    ids = {s for i in items for s in i["source_ids"]} | {CLASSES}
    return {
        "id": ID,
        "items": items,
        "quadrants": quadrants,
        "scale_max": c.PERCENT,
        "source_ids": sorted(ids),
        "flagged": any(i["mark"] for i in items),
    }


def draw(data: dict[str, Any], lang: str, path: Path) -> Path:
    """Square-ish plot, 0–100% on both axes split at the middle; quadrant names in the corners; hatched bubbles."""
    plt = style.setup()
    items, full = data["items"], data["scale_max"]
    mid = full / 2
    fig, ax = plt.subplots(figsize=(style.FIGSIZE[0], 4.2))
    ax.axvline(mid, color=c.GREY, linewidth=0.8, zorder=1)
    ax.axhline(mid, color=c.GREY, linewidth=0.8, zorder=1)
    for q in data["quadrants"]:
        x = full * 0.985 if q["pu_high"] else full * 0.015
        y = full * 0.975 if q["hui_high"] else full * 0.025
        ax.text(
            x,
            y,
            q["name"][lang],
            ha="right" if q["pu_high"] else "left",
            va="top" if q["hui_high"] else "bottom",
            fontsize=8,
            color=style.PALETTE[2],
            weight="bold",
            zorder=2,
        )
    biggest = max(i["relative_size"] or 0 for i in items) or 1
    colors = {}
    for it in items:
        key = (it["class"] or {}).get("en")
        colors.setdefault(key, style.PALETTE[len(colors) % len(style.PALETTE)])
        color = colors[key]
        area = 1300 * (it["relative_size"] or biggest * 0.2) / biggest
        ax.scatter(
            [it["x"]],
            [it["y"]],
            s=area,
            facecolor=c.lighter(color, 0.3),
            edgecolor=color,
            hatch=style.APPROX_HATCH if it["mark"] else None,
            linewidth=0.8,
            zorder=3,
        )
        r_pts = math.sqrt(area / math.pi)
        # below the bubble, unless a neighbour is close: then on the side away from it
        near = [o for o in items if o is not it and math.dist((o["x"], o["y"]), (it["x"], it["y"])) < full * NEAR]
        if not near:
            offset, ha, va = (0, -(r_pts + 2)), "center", "top"
        elif all(o["x"] >= it["x"] for o in near):
            offset, ha, va = (-(r_pts + 3), 0), "right", "center"
        else:
            offset, ha, va = (r_pts + 3, 0), "left", "center"
        ax.annotate(
            it["name"][lang],
            (it["x"], it["y"]),
            xytext=offset,
            textcoords="offset points",
            ha=ha,
            va=va,
            fontsize=7.2,
            zorder=5,
        )
    ax.set_xlim(0, full)
    ax.set_ylim(0, full)
    ticks = [0, mid / 2, mid, mid * 1.5, full]
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    c.number_axis(ax, "x", lang, "#,##0", suffix="%")
    c.number_axis(ax, "y", lang, "#,##0", suffix="%")
    ax.set_xlabel(c.text(ID, "axis_x", lang))
    ax.set_ylabel(c.text(ID, "axis_y", lang))
    handles = [c.bubble_handle(ax, c.text(ID, "legend.assumption", lang), "assumption")]
    c.legend(ax, handles, loc="upper left", bbox_to_anchor=(0.0, -0.13))
    return style.save(fig, path)


FIGURE = chart(
    ID,
    __doc__,
    __file__,
    query,
    draw,
    subject="industry_demand_quadrant",
    seed_figure=17,
    datasets=("fig17_industry_assumptions",),
    raw_tables=("fig17_industry_classes",),
)
