"""Figure 11: China's data-centre, cloud and AI market sizes: actuals (derived history hollow), the base-scenario
projection (dashed) and the low–high scenario band, for the members of the forecast aggregate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from pipeline.lib.report import style
from pipeline.lib.report.figures import _common as c
from pipeline.lib.report.figures.base import chart

ID = "fig11"
AGGREGATE = "dc_cloud_ai"


def query(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """History, scenarios and outlook of each member series of the aggregate (forecast.aggregates order)."""
    members = [
        m
        for (m,) in con.execute(
            "SELECT member_series_id FROM forecast.aggregates WHERE aggregate_id = ? ORDER BY rowid", [AGGREGATE]
        ).fetchall()
    ]
    series = [c.projection_series(con, m) for m in members]
    for s in series:  # the markets' own published forecasts are not drawn here (the aggregate claim is elsewhere)
        s["outlook"] = []
    ids = set(c.projection_sources(series)) | {c.AGGREGATES_SOURCE}
    return {
        "id": ID,
        "aggregate": AGGREGATE,
        "series": series,
        "source_ids": sorted(ids),
        "flagged": any(h["mark"] for s in series for h in s["history"]) or any(s["scenarios"] for s in series),
    }


def draw(data: dict[str, Any], lang: str, path: Path) -> Path:
    """Lines in 亿元 / RMB bn, one marker shape per market; projection years shaded; 2025 base values labelled
    with their market's name at the right."""
    plt = style.setup()
    divisor, _unit = c.money_unit(lang, large=False)
    fig, ax = plt.subplots(figsize=(style.FIGSIZE[0], 3.6))
    handles = c.draw_projections(
        ax,
        data["series"],
        lang,
        divisor,
        lambda v, q: c.money_label(v, lang, large=False, q=q),
        markers=style.MARKERS,
        named=True,
    )
    ax.set_ylabel(c.text(ID, "axis", lang))
    c.legend(ax, handles, loc="upper left", ncols=2)
    return style.save(fig, path)


FIGURE = chart(
    ID,
    __doc__,
    __file__,
    query,
    draw,
    subject="market_size_dc_cloud_ai",
    seed_figure=11,
    datasets=("fig11_market_size", "fig11_market_history_derived"),
    forecasts=("projections", "assumptions", "aggregates"),
)
