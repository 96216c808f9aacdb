"""Figure 9: computing capacity worldwide and by region (EFLOPS), on one basis: every region's EFLOPS is its
share of the world × the world total of the same year, all shares of a year from one citation (the table and row
source that give the most regions' shares that year). A region's own reported total (China's 202 EFLOPS for 2021)
is on another basis: it is named in the caption note, not plotted beside share-derived values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from pipeline.lib.db import fetch_records
from pipeline.lib.report import style
from pipeline.lib.report.figures import _common as c
from pipeline.lib.report.figures.base import chart

ID = "fig09"
CAPACITY, SHARE = "compute_capacity", "compute_share"
WORLD, TOTAL = "GLOBAL", "total"


def _shares(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Regional shares (latest vintage) with the citation they come from (table and row source) and vintage."""
    return fetch_records(
        con,
        "SELECT geography, year, value, status, source_id, source_note, vintage FROM core.observations_latest "
        "WHERE series_id = ? AND segment = ? AND geography <> ? ORDER BY geography, year",
        [SHARE, TOTAL, WORLD],
    )


def share_basis(shares: list[dict[str, Any]], year: int) -> tuple[str, str | None] | None:
    """The one citation (source_id, row source) whose shares the chart uses for `year`: the one giving the most
    regions, then the latest vintage, then by name; None without any share that year."""
    groups: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    for r in shares:
        if r["year"] == year:
            groups.setdefault((r["source_id"], r["source_note"]), []).append(r)
    if not groups:
        return None
    return max(groups, key=lambda k: (len(groups[k]), max(r["vintage"] for r in groups[k]), k[0], k[1] or ""))


def query(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """World totals; per region and year the share-derived EFLOPS (None where the year's citation has no share);
    regions' own reported totals, kept apart for the note."""
    geo = c.names(con, "geography")
    capacity = {(r["geography"], r["year"]): r for r in c.observations(con, CAPACITY, segment=TOTAL)}
    shares = _shares(con)
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
    basis = {y: share_basis(shares, y) for y in years}
    chosen = {
        (r["geography"], r["year"]): r for r in shares if basis.get(r["year"]) == (r["source_id"], r["source_note"])
    }
    regions = sorted(({g for g, _ in capacity} | {r["geography"] for r in shares}) - {WORLD})
    out = []
    for g in regions:
        points = []
        for y in years:
            share, total = chosen.get((g, y)), capacity[(WORLD, y)]
            if share:
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
    out.sort(key=lambda r: (-max(p["value"] or 0 for p in r["points"]), r["geography"]))
    reported = [
        {"geography": g, "name": geo[g], "year": y, "value": r["value"], "source_id": r["source_id"]}
        for (g, y), r in sorted(capacity.items())
        if g != WORLD and y in years
    ]
    shown = [p for r in out for p in r["points"]] + world
    return {
        "id": ID,
        "unit": world[-1]["unit"],
        "years": years,
        "world": world,
        "world_name": geo[WORLD],
        "regions": out,
        "reported": reported,
        "source_ids": sorted({s for p in shown for s in p["source_ids"]} | {r["source_id"] for r in reported}),
        "flagged": any(p["mark"] for p in shown),
    }


def note(data: dict[str, Any], lang: str) -> str:
    """The caption note: the one basis of the chart, the regions' own reported totals it leaves out, and the
    regions and years left blank because that year's source gives no share for them."""
    text = c.text(ID, "note.basis", lang)
    if data["reported"]:
        sep = "；" if lang == "zh" else "; "
        items = sep.join(
            c.text(
                ID,
                "note.reported_item",
                lang,
                region=r["name"][lang],
                year=r["year"],
                value=c.number(r["value"], lang, "#,##0"),
            )
            for r in data["reported"]
        )
        text += c.text(ID, "note.reported", lang, items=items)
    gaps: dict[int, list[str]] = {}
    for region in data["regions"]:
        for point in region["points"]:
            if point["value"] is None:
                gaps.setdefault(point["year"], []).append(region["name"][lang])
    for year, names in sorted(gaps.items()):
        listed = (
            "、".join(names)
            if lang == "zh"
            else " and ".join([", ".join(names[:-1]), names[-1]] if names[:-1] else names)
        )
        text += c.text(ID, "note.missing", lang, regions=listed, year=year)
    return c.shared("note", lang, text=text)


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


FIGURE = chart(
    ID,
    __doc__,
    __file__,
    query,
    draw,
    subject="global_compute_by_region",
    seed_figure=9,
    datasets=("fig09_global_compute_by_region",),
    note=note,
)
