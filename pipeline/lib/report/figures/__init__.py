"""The report's figures: one registry (`FIGURES`) of `Figure`s (`base.py`), built from two kinds of definition:
custom figures, each a module of this package (`FIGURE` at its end), in report order, then standard charts
declared as data, one spec file each in report_templates/charts/ (`spec.py`, format in docs/chart-specs.md), then
diagrams declared as data, one file each in the report folder's diagrams/ (`diagram.py`, drawn as vector graphics).

A figure's `data(con)` returns everything it shows, JSON-serialisable, in canonical units, with its citations
("source_ids", core.sources ids of every value shown) and "flagged" (any value approximate / derived / seed-only /
assumption / forecast); a chart's `draw(data, lang, path)` writes a PNG via style.setup()/style.save(), a table's
`table(data, lang)` returns its header and cells. A module's strings (caption titles, axis and legend words) come
from figures.yaml (`catalogue()`), a spec's from the spec itself; `title()` gives either.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.lib.report.figures import (
    autonomous_tops,
    backtest,
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
    sensitivity,
)
from pipeline.lib.report.figures._common import catalogue, catalogue_path, entry, text
from pipeline.lib.report.figures.base import CodedFigure, Figure
from pipeline.lib.report.figures.diagram import DiagramFigure, load_diagrams
from pipeline.lib.report.figures.spec import SpecFigure, load_specs

MODULES = (fig03, fig07, fig09, fig10, fig11, fig12, sensitivity, fig14, fig15, fig16, fig17, autonomous_tops, backtest)
CODED: dict[str, CodedFigure] = {m.FIGURE.id: m.FIGURE for m in MODULES}
SPECS: dict[str, SpecFigure] = {f.id: f for f in load_specs()}
DIAGRAMS: dict[str, DiagramFigure] = {f.id: f for f in load_diagrams()}
FIGURES: dict[str, Figure] = {**CODED, **SPECS, **DIAGRAMS}
if len(FIGURES) < len(CODED) + len(SPECS) + len(DIAGRAMS):
    clash = sorted((set(CODED) & set(SPECS)) | (set(DIAGRAMS) & (set(CODED) | set(SPECS))))
    raise ValueError(f"a chart spec or diagram has the id of another figure: {clash}")
SHARED_CODE = tuple(Path(__file__).parent / name for name in ("_common.py", "base.py"))


def title(fig_id: str, lang: str) -> str:
    """The caption title of a figure in `lang`."""
    return FIGURES[fig_id].title(lang)


def charts() -> dict[str, Figure]:
    """The figures drawn as charts (tables are laid out in the PDF), in report order."""
    return {fid: f for fid, f in FIGURES.items() if f.kind == "chart"}


def code_files(figure: Figure) -> tuple[Path, ...]:
    """The files a figure is drawn by: its module, or its spec or diagram file and the code of every such figure."""
    if isinstance(figure, SpecFigure):
        own: tuple[Path, ...] = (figure.source, *SpecFigure.code())
    elif isinstance(figure, DiagramFigure):
        own = (figure.source, *DiagramFigure.code())
    else:
        own = (figure.source,)
    return (*own, *SHARED_CODE)


__all__ = [
    "FIGURES",
    "Figure",
    "catalogue",
    "catalogue_path",
    "charts",
    "code_files",
    "entry",
    "text",
    "title",
]
