"""Text series: starting on-board chip compute (TOPS) for each level of driving automation (log-scale bars; the
values are stated only in the seed report, so they are hatched)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from pipeline.lib.report import style
from pipeline.lib.report.figures import _common as c
from pipeline.lib.report.figures.base import chart

ID = "autonomous_tops"
SERIES = "autonomous_driving_chip_compute"


def query(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """One value per automation level, in ascending order."""
    seg = c.names(con, "segment")
    items = [
        {
            "segment": r["segment"],
            "name": seg[r["segment"]],
            "year": r["year"],
            "value": r["value"],
            "unit": r["unit"],
            "status": r["status"],
            "mark": r["mark"],
            "qualifier": r["qualifier"],
            "source_id": r["source_id"],
        }
        for r in sorted(c.observations(con, SERIES), key=lambda r: (r["value"], r["segment"]))
    ]
    return {
        "id": ID,
        "series_id": SERIES,
        "items": items,
        "source_ids": sorted({i["source_id"] for i in items}),
        "flagged": any(i["mark"] for i in items),
    }


def draw(data: dict[str, Any], lang: str, path: Path) -> Path:
    """Horizontal bars on a log axis, lowest level at the top, value labels in TOPS."""
    plt = style.setup()
    items = data["items"]
    fig, ax = plt.subplots(figsize=(style.FIGSIZE[0], 2.4))
    ys = list(range(len(items)))[::-1]
    start = min(i["value"] for i in items) / 10**0.5  # bars start half a decade below the smallest value
    for y, it in zip(ys, items, strict=True):
        ax.barh(y, it["value"] - start, left=start, height=0.6, **c.bar_style(style.PALETTE[0], it["mark"]))
        ax.text(
            it["value"] * 1.08,
            y,
            c.quantity_label(it["value"], it["unit"], lang, it["qualifier"]),
            va="center",
            ha="left",
            fontsize=c.SMALL,
        )
    ax.set_xscale("log")
    ax.set_xlim(start, max(i["value"] for i in items) * 6)
    ax.set_yticks(ys, [it["name"][lang] for it in items])
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(-0.6, len(items) - 0.4)
    c.number_axis(ax, "x", lang, "#,##0.##")
    ax.set_xlabel(c.text(ID, "axis", lang))
    marks = {i["mark"] for i in items}
    if marks - {None}:
        c.legend(ax, c.legend_marks(lang, marks, color=style.PALETTE[0]), loc="upper right")
    return style.save(fig, path)


FIGURE = chart(ID, __doc__, __file__, query, draw, subject="autonomous_driving_tops", datasets=("text_nev_auto",))
