"""Text series: China's new-energy vehicle sales, the actual, the scenario projections and the seed's estimate
(diamond)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from pipeline.lib.report import style
from pipeline.lib.report.figures import _common as c
from pipeline.lib.report.figures.base import chart

ID = "nev_sales"
SERIES = "nev_sales"


def query(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """History (vehicles), scenarios and the published estimate of NEV sales (CN)."""
    s = c.projection_series(con, SERIES)
    return {
        "id": ID,
        "series": [s],
        "source_ids": c.projection_sources([s]),
        "flagged": bool(s["scenarios"] or s["outlook"]) or any(h["mark"] for h in s["history"]),
    }


def scale(lang: str) -> float:
    """Axis divisor: zh 万辆 (÷1万), en million (÷1m)."""
    return c.WAN if lang == "zh" else c.MILLION


def draw(data: dict[str, Any], lang: str, path: Path) -> Path:
    """One line chart in 万辆 / million vehicles."""
    plt = style.setup()
    divisor = scale(lang)
    fig, ax = plt.subplots(figsize=style.FIGSIZE)
    handles = c.draw_projections(ax, data["series"], lang, divisor, lambda v, q: c.quantity_label(v, "count", lang, q))
    ax.set_ylabel(c.text(ID, "axis", lang))
    c.legend(ax, handles, loc="upper left")
    return style.save(fig, path)


FIGURE = chart(
    ID,
    __doc__,
    __file__,
    query,
    draw,
    subject="nev_sales",
    datasets=("caam_2021_annual", "text_nev_auto"),
    forecasts=("projections", "assumptions"),
)
