"""The report's figures in report order: one registry (`FIGURES`) of `Figure`s (`base.py`), each defined by one
module of this package (`FIGURE` at its end).

A module's query returns everything the figure shows, JSON-serialisable, in canonical units, with "id",
"source_ids" (core.sources ids of every value shown) and "flagged" (any value approximate / derived / seed-only /
assumption / forecast); a chart's `draw(data, lang, path)` writes a PNG via style.setup()/style.save(), a table's
`rows(data, lang)` returns {"header": [...], "rows": [[{"text", "num", "flag"}, ...], ...]}.
Strings (caption titles, axis and legend words) come from figures.yaml: see `title()` and `catalogue()`.
"""

from __future__ import annotations

from pipeline.lib.report.figures import (
    autonomous_tops,
    backtest,
    dc_energy,
    digital_economy,
    fig03,
    fig07,
    fig09,
    fig10,
    fig11,
    fig12,
    fig14,
    fig15,
    fig16,
    fig17,
    nev_sales,
    sensitivity,
)
from pipeline.lib.report.figures._common import catalogue, catalogue_path, entry, text
from pipeline.lib.report.figures.base import Figure

FIGURES: dict[str, Figure] = {
    m.FIGURE.id: m.FIGURE
    for m in (
        fig03,
        fig07,
        fig09,
        fig10,
        fig11,
        fig12,
        sensitivity,
        fig14,
        fig15,
        fig16,
        fig17,
        nev_sales,
        autonomous_tops,
        digital_economy,
        dc_energy,
        backtest,
    )
}


def title(fig_id: str, lang: str) -> str:
    """The caption title of a figure in `lang`."""
    return text(fig_id, "title", lang)


def charts() -> dict[str, Figure]:
    """The figures drawn as charts (tables are laid out in the PDF), in report order."""
    return {fid: f for fid, f in FIGURES.items() if f.kind == "chart"}


__all__ = ["FIGURES", "Figure", "catalogue", "catalogue_path", "charts", "entry", "text", "title"]
