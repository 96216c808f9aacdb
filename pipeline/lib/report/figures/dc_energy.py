"""Text series: energy use of China's data centres, the actual, the scenario projections and the published
outlook (diamond)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from pipeline.lib.report import style
from pipeline.lib.report.figures import _common as c
from pipeline.lib.report.figures.base import chart

ID = "dc_energy"
SERIES = "dc_energy_consumption"


def query(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """History (kWh), scenarios and published outlook of data-centre energy use (CN)."""
    s = c.projection_series(con, SERIES)
    return {
        "id": ID,
        "series": [s],
        "source_ids": c.projection_sources([s]),
        "flagged": bool(s["scenarios"] or s["outlook"]) or any(h["mark"] for h in s["history"]),
    }


def scale(lang: str) -> float:
    """Axis divisor: zh 亿千瓦时 (÷1亿), en bn kWh (÷1bn)."""
    return c.YI if lang == "zh" else c.BN


def draw(data: dict[str, Any], lang: str, path: Path) -> Path:
    """One line chart in 亿千瓦时 / bn kWh."""
    plt = style.setup()
    divisor = scale(lang)
    fig, ax = plt.subplots(figsize=style.FIGSIZE)
    handles = c.draw_projections(ax, data["series"], lang, divisor, lambda v, q: c.quantity_label(v, "kWh", lang, q))
    ax.set_ylabel(c.text(ID, "axis", lang))
    c.legend(ax, handles, loc="upper left")
    return style.save(fig, path)


FIGURE = chart(
    ID,
    __doc__,
    __file__,
    query,
    draw,
    subject="data_centre_energy",
    datasets=("text_data_centre",),
    forecasts=("projections", "assumptions"),
)
