"""Figure 9: computing capacity worldwide and by region (EFLOPS). A region's EFLOPS is its own reported value
where one exists, else its (approximate) share of the world × the world total: those are marked as derived."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from pipeline.lib.report import style
from pipeline.lib.report.figures import _common as c

ID = "fig09"
KIND = "chart"
CAPACITY, SHARE = "compute_capacity", "compute_share"
WORLD, TOTAL = "GLOBAL", "total"


def query(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """World totals and, per region and year, the reported or share-derived EFLOPS (None where neither exists)."""
    geo = c.names(con, "geography")
    capacity = {(r["geography"], r["year"]): r for r in c.observations(con, CAPACITY, segment=TOTAL)}
    shares = {(r["geography"], r["year"]): r for r in c.observations(con, SHARE, segment=TOTAL)}
    years = sorted({y for g, y in capacity if g == WORLD})
    world = [
        {
            "year": y,
            "value": capacity[(WORLD, y)]["value"],
            "unit": capacity[(WORLD, y)]["unit"],
            "status": capacity[(WORLD, y)]["status"],
            "mark": capacity[(WORLD, y)]["mark"],
            "source_ids": [capacity[(WORLD, y)]["source_id"]],
        }
        for y in years
    ]
    regions = sorted(({g for g, _ in capacity} | {g for g, _ in shares}) - {WORLD})
    out = []
    for g in regions:
        points = []
        for y in years:
            own, share, total = capacity.get((g, y)), shares.get((g, y)), capacity[(WORLD, y)]
            if own:
                points.append(
                    {
                        "year": y,
                        "value": own["value"],
                        "kind": "reported",
                        "status": own["status"],
                        "mark": own["mark"],
                        "share": share["value"] if share else None,
                        "source_ids": [own["source_id"]],
                    }
                )
            elif share:
                points.append(
                    {
                        "year": y,
                        "value": share["value"] / c.PERCENT * total["value"],
                        "kind": "derived",
                        "status": "derived",
                        "mark": "derived",
                        "share": share["value"],
                        "share_status": share["status"],
                        "world_total": total["value"],
                        "source_ids": sorted({share["source_id"], total["source_id"]}),
                    }
                )
            else:
                points.append(
                    {
                        "year": y,
                        "value": None,
                        "kind": "missing",
                        "status": None,
                        "mark": None,
                        "share": None,
                        "source_ids": [],
                    }
                )
        out.append({"geography": g, "name": geo[g], "points": points})
    out.sort(key=lambda r: -max(p["value"] or 0 for p in r["points"]))
    shown = [p for r in out for p in r["points"]] + world
    return {
        "id": ID,
        "unit": world[-1]["unit"],
        "years": years,
        "world": world,
        "world_name": geo[WORLD],
        "regions": out,
        "source_ids": sorted({s for p in shown for s in p["source_ids"]}),
        "flagged": any(p["mark"] for p in shown),
    }


def draw(data: dict[str, Any], lang: str, path: Path) -> Path:
    """Grouped bars (one colour per year) for the world and each region; derived values hatched, gaps labelled."""
    plt = style.setup()
    years = data["years"]
    groups = [
        {"name": data["world_name"], "points": [dict(p, kind="reported") for p in data["world"]]},
        *data["regions"],
    ]
    fig, ax = plt.subplots(figsize=style.FIGSIZE)
    width = 0.8 / len(years)
    top = max(p["value"] or 0 for g in groups for p in g["points"])
    for gi, g in enumerate(groups):
        for yi, p in enumerate(g["points"]):
            x = gi + (yi - (len(years) - 1) / 2) * width
            color = style.PALETTE[[0, 1, 4, 2][yi % 4]]
            if p["value"] is None:
                ax.text(
                    x,
                    top * 0.01,
                    c.shared("no_data", lang),
                    rotation=90,
                    ha="center",
                    va="bottom",
                    fontsize=c.SMALL - 0.6,
                    color=c.GREY,
                )
                continue
            ax.bar(x, p["value"], width * 0.92, **c.bar_style(color, p["mark"]))
            ax.text(x, p["value"], c.number(p["value"], lang, "#,##0"), ha="center", va="bottom", fontsize=c.SMALL)
    ax.set_xticks(range(len(groups)), [g["name"][lang] for g in groups])
    ax.tick_params(axis="x", length=0)
    ax.set_ylim(0, top * 1.1)
    c.number_axis(ax, "y", lang)
    ax.set_ylabel(c.text(ID, "axis", lang))
    handles = [c.bar_patch(None, str(y), style.PALETTE[[0, 1, 4, 2][i % 4]]) for i, y in enumerate(years)]
    regional = any(p["mark"] == "derived" for g in data["regions"] for p in g["points"])
    world_years = [p["year"] for p in data["world"] if p["mark"] == "derived"]
    notes = ([c.text(ID, "legend.derived", lang)] if regional else []) + [
        c.text(ID, "legend.global_derived", lang, year=y) for y in world_years
    ]
    if notes:
        handles.append(c.bar_patch("derived", "\n".join(notes)))
    c.legend(ax, handles, loc="upper right")
    return style.save(fig, path)
