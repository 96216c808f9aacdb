"""Figure 3: years each product took to reach 100 million users (horizontal bars; approximate ones hatched)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from pipeline.lib.report import fmt, style
from pipeline.lib.report.figures import _common as c
from pipeline.lib.report.figures.base import chart

ID = "fig03"
SERIES = "time_to_100m_users"


def query(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Every product's time to 100 million users (years), fastest first."""
    labels = c.names(con, "segment")
    rows = sorted(c.observations(con, SERIES), key=lambda r: (r["value"], r["segment"]))
    items = [
        {
            "segment": r["segment"],
            "name": labels[r["segment"]],
            "value": r["value"],
            "unit": r["unit"],
            "status": r["status"],
            "mark": r["mark"],
            "value_orig": r["value_orig"],
            "unit_orig": r["unit_orig"],
            "year": r["year"],
            "source_id": r["source_id"],
        }
        for r in rows
    ]
    return {
        "id": ID,
        "series_id": SERIES,
        "items": items,
        "source_ids": sorted({i["source_id"] for i in items}),
        "flagged": any(i["mark"] for i in items),
    }


def draw(data: dict[str, Any], lang: str, path: Path) -> Path:
    """Horizontal bars, fastest product at the top and in the accent colour; approximate values hatched."""
    plt = style.setup()
    items = data["items"]
    fig, ax = plt.subplots(figsize=(style.FIGSIZE[0], 3.6))
    ys = list(range(len(items)))[::-1]
    fastest = min(i["value"] for i in items)
    for y, it in zip(ys, items, strict=True):
        color = style.PALETTE[1] if it["value"] == fastest else style.PALETTE[0]
        ax.barh(y, it["value"], height=0.68, **c.bar_style(color, it["mark"]))
        ax.text(
            it["value"], y, " " + fmt.quantity(it["value"], it["unit"], lang), va="center", ha="left", fontsize=c.SMALL
        )
    ax.set_yticks(ys, [it["name"][lang] for it in items])
    ax.tick_params(axis="y", length=0)
    ax.set_xlim(0, max(i["value"] for i in items) * 1.16)
    ax.set_ylim(-0.6, len(items) - 0.4)
    c.number_axis(ax, "x", lang)
    ax.set_xlabel(c.text(ID, "axis", lang))
    handles = [c.bar_patch(None, c.text(ID, "legend.reported", lang), style.PALETTE[0])]
    handles += c.legend_marks(lang, {i["mark"] for i in items}, color=style.PALETTE[0])
    c.legend(ax, handles, loc="center right")
    return style.save(fig, path)


FIGURE = chart(
    ID,
    __doc__,
    __file__,
    query,
    draw,
    subject="time_to_100m_users",
    seed_figure=3,
    datasets=("fig03_time_to_100m_users",),
)
