"""A conceptual figure declared as data (`DiagramFigure`): one `Figure` per file of the report folder's
`diagrams/`, read and checked by `diagram_model`, drawn by `diagram_draw` as vector graphics (SVG, text as paths in
the bundled font). Its data is the file's content (it reads nothing from the warehouse); its citation is the source
the file names, a row of the sources appendix like a table's."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pipeline.lib.errors import SourceError
from pipeline.lib.report import style
from pipeline.lib.report.figures import _common as c
from pipeline.lib.report.figures.base import DeclaredFigure
from pipeline.lib.report.figures.diagram_model import Diagram, read_diagram
from pipeline.lib.report.figures.spec_model import FigureHeader
from pipeline.lib.report.records import FigureData, Source, TableBody

if TYPE_CHECKING:
    import duckdb

SOURCE_PREFIX = "diagram:"  # the citation id of a diagram's source: never a core.sources id (those have no colon)


def diagrams_dir() -> Path:
    """report_templates/computing_power/diagrams: one file per diagram."""
    from pipeline.lib.report.pages import report_dir

    return report_dir() / "diagrams"


def load_diagrams(folder: Path | None = None) -> list[DiagramFigure]:
    """Every diagram of `folder` (the report's diagrams/) as a figure, by file name; SourceError naming each file,
    line and key at fault."""
    folder = folder or diagrams_dir()
    problems, found = [], []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            diagram = read_diagram(path, f"{folder.name}/{path.name}")
            found.append(DiagramFigure(id=path.stem, diagram=diagram, source=path))
        except SourceError as exc:
            problems += exc.problems
    if problems:
        raise SourceError(problems)
    return found


@dataclass(frozen=True, kw_only=True)
class DiagramFigure(DeclaredFigure):
    """A `Figure` from a diagram file: drawn from the file alone, cited to the source it names."""

    id: str
    diagram: Diagram
    source: Path
    kind: Literal["chart"] = "chart"
    image_format: Literal["svg"] = "svg"
    datasets: tuple[str, ...] = ()
    forecasts: tuple[str, ...] = ()
    raw_tables: tuple[str, ...] = ()

    @property
    def header(self) -> FigureHeader:
        """The diagram file's subject, description and KPMG counterpart."""
        return self.diagram

    @property
    def source_id(self) -> str:
        """The id of its citation (a row of the sources appendix)."""
        return f"{SOURCE_PREFIX}{self.id}"

    @property
    def citations(self) -> tuple[Source, ...]:
        """The source the file names, as a row of the sources appendix."""
        s = self.diagram.source
        return (
            Source(
                source_id=self.source_id,
                publisher=s.publisher,
                title_zh=s.title.zh,
                title_en=s.title.en,
                published=s.published.isoformat(),
                reference=s.reference,
                status=s.status,
            ),
        )

    def title(self, lang: str) -> str:
        """The caption title."""
        return self.diagram.title(lang)

    @staticmethod
    def code() -> tuple[Path, ...]:
        """The modules that read, check and draw every diagram."""
        here = Path(__file__).parent
        return tuple(here / f"{name}.py" for name in ("diagram", "diagram_model", "diagram_draw"))

    def data(self, con: duckdb.DuckDBPyConnection) -> FigureData:
        """The diagram's content (the file, checked), cited to its source; nothing is read from `con`."""
        return FigureData(
            id=self.id,
            source_ids=(self.source_id,),
            flagged=False,
            body={"diagram": self.diagram.model_dump(mode="json")},
        )

    def draw(self, data: FigureData, lang: str, path: Path) -> Path:
        """The diagram in `lang`: an SVG for the report, a PNG (a preview) for any other suffix."""
        from pipeline.lib.report.figures.diagram_draw import figure

        fig = figure(Diagram.model_validate(data.body["diagram"]), lang)
        return style.save_vector(fig, path) if path.suffix == ".svg" else style.save(fig, path)

    def table(self, data: FigureData, lang: str) -> TableBody:
        """A diagram has no table."""
        raise TypeError(f"figure {self.id} is a diagram: it has no table")

    def note(self, data: FigureData, lang: str) -> str | None:
        """The file's caption note, if any."""
        note = self.diagram.note
        return c.shared("note", lang, text=note(lang)) if note else None
