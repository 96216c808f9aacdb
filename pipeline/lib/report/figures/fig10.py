"""Figure 10: China vs US computing capacity by type (basic / intelligent / supercomputing), EFLOPS derived as
each country's (approximate) share of the world × the world total of the type; plus the seed's ratio statement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from pipeline.lib.report import fmt, style
from pipeline.lib.report.figures import _common as c
from pipeline.lib.report.figures.base import chart

ID = "fig10"
CAPACITY, SHARE, RATIO = "compute_capacity", "compute_share", "intelligent_compute_ratio_cn_us"
WORLD, TOTAL = "GLOBAL", "total"


def query(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Per compute type: the world total and each country's share-derived EFLOPS; the seed's CN/US ratio."""
    geo, seg = c.names(con, "geography"), c.names(con, "segment")
    world = {
        (r["segment"], r["year"]): r for r in c.observations(con, CAPACITY, geography=WORLD) if r["segment"] != TOTAL
    }
    shares = [r for r in c.observations(con, SHARE) if r["segment"] != TOTAL and (r["segment"], r["year"]) in world]
    countries = sorted({r["geography"] for r in shares})
    types = []
    for (segment, year), total in sorted(world.items(), key=lambda kv: (kv[0][1], -kv[1]["value"])):
        values = []
        for g in countries:
            share = next((r for r in shares if (r["geography"], r["segment"], r["year"]) == (g, segment, year)), None)
            if share is None:
                continue
            values.append(
                {
                    "geography": g,
                    "name": geo[g],
                    "share": share["value"],
                    "share_status": share["status"],
                    "value": share["value"] / c.PERCENT * total["value"],
                    "status": "derived",
                    "mark": "derived",
                    "source_ids": sorted({share["source_id"], total["source_id"]}),
                }
            )
        types.append(
            {
                "segment": segment,
                "year": year,
                "name": seg[segment],
                "world_total": total["value"],
                "world_status": total["status"],
                "unit": total["unit"],
                "values": values,
            }
        )
    ratio = None
    rows = c.observations(con, RATIO)
    if rows:
        r = rows[0]
        t = next((t for t in types if t["segment"] == r["segment"] and t["year"] == r["year"]), None)
        by_geo = {v["geography"]: v["value"] for v in t["values"]} if t else {}
        num, den = r["geography"], next((g for g in by_geo if g != r["geography"]), None)
        ratio = {
            "segment": r["segment"],
            "year": r["year"],
            "numerator": num,
            "denominator": den,
            "seed_value": r["value"],
            "seed_unit": r["unit"],
            "seed_text": r["value_text"],
            "seed_status": r["status"],
            "source_id": r["source_id"],
            "derived_value": by_geo[num] / by_geo[den] if num in by_geo and den in by_geo else None,
        }
    ids = {s for t in types for v in t["values"] for s in v["source_ids"]}
    if ratio:
        ids.add(ratio["source_id"])
    return {
        "id": ID,
        "countries": countries,
        "country_names": {g: geo[g] for g in countries},
        "types": types,
        "ratio": ratio,
        "source_ids": sorted(ids),
        "flagged": any(v["mark"] for t in types for v in t["values"]) or bool(ratio),
    }


def draw(data: dict[str, Any], lang: str, path: Path) -> Path:
    """One panel per compute type (own scale), a bar per country; derived values hatched; ratio note below."""
    plt = style.setup()
    types, countries = data["types"], data["countries"]
    colors = {g: style.PALETTE[[0, 1, 4, 2][i % 4]] for i, g in enumerate(countries)}
    fig, axes = plt.subplots(1, len(types), figsize=(style.FIGSIZE[0], 2.9))
    axes = list(axes) if len(types) > 1 else [axes]
    for ax, t in zip(axes, types, strict=True):
        top = max(v["value"] for v in t["values"])
        for i, v in enumerate(t["values"]):
            ax.bar(i, v["value"], 0.62, **c.bar_style(colors[v["geography"]], v["mark"]))
            ax.text(i, v["value"], c.number(v["value"], lang), ha="center", va="bottom", fontsize=c.SMALL)
        ax.set_xticks(range(len(t["values"])), [v["name"][lang] for v in t["values"]])
        ax.tick_params(axis="x", length=0)
        ax.set_ylim(0, top * 1.18)
        ax.set_xlim(-0.6, len(t["values"]) - 0.4)
        ax.set_title(t["name"][lang], fontsize=8.5, loc="center")
        c.number_axis(ax, "y", lang)
    axes[0].set_ylabel(c.text(ID, "axis", lang))
    handles = [c.bar_patch("derived", c.text(ID, "legend.derived", lang))]
    fig.tight_layout(w_pad=1.5)
    c.legend(fig, handles, loc="upper left", bbox_to_anchor=(0.0, 0.0), ncols=1)
    r = data["ratio"]
    if r and r["derived_value"] is not None:
        seed = fmt.quantity(r["seed_value"], r["seed_unit"], lang)
        ours = fmt.quantity(r["derived_value"], r["seed_unit"], lang)
        fig.text(0.0, -0.09, c.text(ID, "ratio_note", lang, seed=seed, ours=ours), fontsize=7.2, ha="left", va="top")
    return style.save(fig, path)


FIGURE = chart(
    ID,
    __doc__,
    __file__,
    query,
    draw,
    subject="compute_by_type_cn_us",
    seed_figure=10,
    datasets=("fig10_compute_by_type_2021",),
)
