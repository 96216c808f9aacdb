"""The one interface of a report figure (`Figure`) and its implementation by a Python module (`CodedFigure`); a
chart declared as data implements it in `spec.py`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pipeline.lib.report.records import FigureData, Source, TableBody

if TYPE_CHECKING:  # duckdb only for type hints: the PDF processes need not import it
    import duckdb

    from pipeline.lib.report.figures.spec_model import FigureHeader

Payload = dict[str, Any]  # a figure's own JSON-ready data, read only by the code that made it


class Figure(Protocol):
    """A figure of the report: what it reads (its asset's inputs), its data, and how it is shown: a chart drawn
    to a PNG or a table of cells, with an optional caption note."""

    id: str  # key of FIGURES (and of report_templates/i18n/figures.yaml for a module)
    kind: Literal["chart", "table"]
    subject: str | None  # a chart's asset key: charts/<subject>
    seed_figure: int | None  # its number in the seed report
    datasets: tuple[str, ...]  # core datasets its data is read from
    forecasts: tuple[str, ...]  # forecast tables it reads
    raw_tables: tuple[str, ...]  # raw.<id> reference tables it reads
    description: str
    source: Path  # the file that defines it: its code version, and part of a chart's digest
    image_format: Literal["png", "svg"]  # a chart's image: a PNG at print resolution, or vector graphics
    citations: tuple[Source, ...]  # sources it cites that are not tables of the warehouse (rows of Appendix A)

    def title(self, lang: str) -> str:
        """The caption title in `lang`."""
        ...

    def data(self, con: duckdb.DuckDBPyConnection) -> FigureData:
        """Everything the figure shows, in canonical units, with its citations and flag."""
        ...

    def draw(self, data: FigureData, lang: str, path: Path) -> Path:
        """A chart's image in `lang`, in the format of `path`'s suffix (via style.setup() and style.save() for a PNG,
        style.save_vector() for an SVG)."""
        ...

    def table(self, data: FigureData, lang: str) -> TableBody:
        """A table's header and cells in `lang`."""
        ...

    def note(self, data: FigureData, lang: str) -> str | None:
        """The caption note in `lang`, if the figure has one."""
        ...


class DeclaredFigure:
    """The header properties of a `Figure` declared in a file (a chart spec or a diagram), read from its `header`."""

    @property
    def header(self) -> FigureHeader:
        raise NotImplementedError

    @property
    def subject(self) -> str:
        """Its asset key: charts/<subject>."""
        return self.header.subject

    @property
    def seed_figure(self) -> int | None:
        """Its number in the KPMG report."""
        return self.header.seed_figure

    @property
    def description(self) -> str:
        """What it shows."""
        return self.header.description


@dataclass(frozen=True, kw_only=True)
class CodedFigure:
    """A `Figure` written as a module of this package: its query, and its drawing or table and note functions,
    which work on the figure's own payload (the JSON form of its `FigureData`)."""

    id: str
    kind: Literal["chart", "table"]
    subject: str | None = None
    seed_figure: int | None = None
    datasets: tuple[str, ...] = ()
    forecasts: tuple[str, ...] = ()
    raw_tables: tuple[str, ...] = ()
    description: str
    source: Path
    image_format: Literal["png", "svg"] = "png"
    citations: tuple[Source, ...] = ()
    query: Callable[[duckdb.DuckDBPyConnection], Payload]
    drawing: Callable[[Payload, str, Path], Path] | None = None
    tabulating: Callable[[Payload, str], Payload] | None = None
    noting: Callable[[Payload, str], str] | None = None

    def title(self, lang: str) -> str:
        """The caption title (report_templates/i18n/figures.yaml)."""
        from pipeline.lib.report.figures._common import text

        return text(self.id, "title", lang)

    def data(self, con: duckdb.DuckDBPyConnection) -> FigureData:
        """The query's result as the figure's data."""
        return FigureData.from_json(self.query(con))

    def draw(self, data: FigureData, lang: str, path: Path) -> Path:
        """Draw the chart (a table has no drawing: TypeError)."""
        if self.drawing is None:
            raise TypeError(f"figure {self.id} is a {self.kind}: it is not drawn")
        return self.drawing(data.to_json(), lang, path)

    def table(self, data: FigureData, lang: str) -> TableBody:
        """The table's cells (a chart has none: TypeError)."""
        if self.tabulating is None:
            raise TypeError(f"figure {self.id} is a {self.kind}: it has no table")
        return TableBody.from_json(self.tabulating(data.to_json(), lang))

    def note(self, data: FigureData, lang: str) -> str | None:
        """The caption note, None without one."""
        return self.noting(data.to_json(), lang) if self.noting else None


def chart(
    fig_id: str,
    doc: str | None,
    file: str,
    query: Callable[[duckdb.DuckDBPyConnection], Payload],
    draw: Callable[[Payload, str, Path], Path],
    *,
    subject: str,
    seed_figure: int | None = None,
    datasets: tuple[str, ...] = (),
    forecasts: tuple[str, ...] = (),
    raw_tables: tuple[str, ...] = (),
    note: Callable[[Payload, str], str] | None = None,
) -> CodedFigure:
    """A chart defined by a module (`doc` and `file`: its `__doc__` and `__file__`)."""
    return CodedFigure(
        id=fig_id,
        kind="chart",
        subject=subject,
        seed_figure=seed_figure,
        datasets=datasets,
        forecasts=forecasts,
        raw_tables=raw_tables,
        description=doc or fig_id,
        source=Path(file),
        query=query,
        drawing=draw,
        noting=note,
    )


def table(
    fig_id: str,
    doc: str | None,
    file: str,
    query: Callable[[duckdb.DuckDBPyConnection], Payload],
    rows: Callable[[Payload, str], Payload],
    *,
    seed_figure: int | None = None,
) -> CodedFigure:
    """A table defined by a module (`doc` and `file`: its `__doc__` and `__file__`)."""
    return CodedFigure(
        id=fig_id,
        kind="table",
        seed_figure=seed_figure,
        description=doc or fig_id,
        source=Path(file),
        query=query,
        tabulating=rows,
    )
