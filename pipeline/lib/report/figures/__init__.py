"""The report's figures, one module per figure, in report order.

Every module exposes
    ID: str                      the figure id (key of FIGURES and of report_templates/i18n/figures.yaml)
    KIND: str                    "chart" or "table"
    query(con) -> dict           everything the figure shows, JSON-serialisable, canonical units, with
                                 "source_ids" (core.sources ids of every value shown) and "flagged" (any value
                                 approximate / derived / seed-only / assumption / forecast)
    draw(data, lang, path) -> Path                      charts: a PNG via style.setup()/style.save()
    rows(data, lang) -> {"header": [...], "rows": [[{"text", "num", "flag"}, ...], ...]}   tables
Strings (caption titles, axis and legend words) come from figures.yaml: see `title()` and `catalogue()`.
"""

from __future__ import annotations

from types import ModuleType

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

FIGURES: dict[str, ModuleType] = {
    m.ID: m
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


__all__ = ["FIGURES", "catalogue", "catalogue_path", "entry", "text", "title"]
