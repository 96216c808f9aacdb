"""Text series: China's digital economy, actuals (the USD-converted value hollow), base projection, low–high band
and the published outlook values (diamonds)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from pipeline.lib.report import style
from pipeline.lib.report.figures import _common as c
from pipeline.lib.report.figures.base import chart

ID = "digital_economy"
SERIES = "digital_economy_size"


def query(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """History, scenarios (forecast.projections) and published outlook of the digital economy (CN)."""
    s = c.projection_series(con, SERIES)
    return {
        "id": ID,
        "series": [s],
        "source_ids": c.projection_sources([s]),
        "flagged": bool(s["scenarios"] or s["outlook"]) or any(h["mark"] for h in s["history"]),
    }


def draw(data: dict[str, Any], lang: str, path: Path) -> Path:
    """One line chart in 万亿元 / RMB tn."""
    plt = style.setup()
    divisor, _unit = c.money_unit(lang, large=True)
    fig, ax = plt.subplots(figsize=style.FIGSIZE)
    handles = c.draw_projections(
        ax, data["series"], lang, divisor, lambda v, q: c.money_label(v, lang, large=True, q=q)
    )
    ax.set_ylabel(c.text(ID, "axis", lang))
    c.legend(ax, handles, loc="upper left")
    return style.save(fig, path)


FIGURE = chart(
    ID,
    __doc__,
    __file__,
    query,
    draw,
    subject="digital_economy",
    datasets=("caict_digital_economy_2023", "text_digital_economy"),
    forecasts=("projections", "assumptions"),
)
