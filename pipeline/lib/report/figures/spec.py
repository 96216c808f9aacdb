"""A standard chart declared as data (`SpecFigure`): one `Figure` per file of report_templates/charts/, read and
checked by `spec_model`, its inputs the datasets it declares, drawn by chart type.

Greyscale-readable by construction: series differ by line style and marker (lines) or hatch (bars), never by hue
alone, and end labels name the series where a chart shows more than one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pipeline.config import sources_dir, templates_dir
from pipeline.lib.errors import SourceError
from pipeline.lib.report import fmt, style
from pipeline.lib.report.figures import _common as c
from pipeline.lib.report.figures.base import DeclaredFigure
from pipeline.lib.report.figures.spec_model import ChartSpec, FigureHeader, problems_in, read_spec
from pipeline.lib.report.records import FigureData, Source, TableBody

if TYPE_CHECKING:
    import duckdb

Payload = dict[str, Any]
LINESTYLES, MARKERS, HATCHES = style.LINESTYLES, style.MARKERS, style.HATCHES
FORECASTS = ("projections", "assumptions")  # what scenario projections are read from


def charts_dir() -> Path:
    """report_templates/charts: one spec file per chart."""
    return templates_dir() / "charts"


def _catalogue_codes() -> dict[str, set[str]] | None:
    """{'series' | 'geography' | 'segment' | 'dataset': codes} of sources/series.csv, labels.csv and the
    manifest; None if unreadable (the ingest then reports why)."""
    from pipeline.lib.ingest.catalog import LabelRow, SeriesRow, read_catalog
    from pipeline.lib.ingest.manifest import load_manifest

    try:
        series, _ = read_catalog(sources_dir(), "series.csv", SeriesRow)
        labels, _ = read_catalog(sources_dir(), "labels.csv", LabelRow)
        tables = load_manifest(sources_dir())
    except SourceError:
        return None
    codes: dict[str, set[str]] = {
        "series": {r.series_id for _, r in series},
        "geography": set(),
        "segment": set(),
        "dataset": {t.dataset_id for t in tables} | {t.id for t in tables},
    }
    for _, r in labels:
        codes.setdefault(r.dimension, set()).add(r.code)
    return codes


def load_specs(folder: Path | None = None) -> list[SpecFigure]:
    """Every chart spec of `folder` (report_templates/charts) as a figure, by file name; SourceError naming each
    file, line and key at fault."""
    folder = folder or charts_dir()
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    read = [(path, *read_spec(path, f"{folder.name}/{path.name}")) for path in files]
    known = _catalogue_codes()
    problems = [p for path, spec, lines in read for p in problems_in(spec, lines, f"{folder.name}/{path.name}", known)]
    if problems:
        raise SourceError(problems)
    return [SpecFigure(id=path.stem, spec=spec, source=path) for path, spec, _ in read]


@dataclass(frozen=True, kw_only=True)
class SpecFigure(DeclaredFigure):
    """A `Figure` from a chart spec: its data is the selected series' rows, its inputs follow from them."""

    id: str
    spec: ChartSpec
    source: Path
    kind: Literal["chart"] = "chart"
    raw_tables: tuple[str, ...] = ()
    image_format: Literal["png"] = "png"
    citations: tuple[Source, ...] = ()

    @property
    def header(self) -> FigureHeader:
        """The spec file's subject, description and KPMG counterpart."""
        return self.spec

    @property
    def datasets(self) -> tuple[str, ...]:
        """The datasets the spec declares (checked against its data by tests/test_figure_inputs.py)."""
        return self.spec.datasets

    @property
    def forecasts(self) -> tuple[str, ...]:
        """The forecast tables read: those of the projections, if any scenario is shown."""
        return FORECASTS if any(s.scenarios for s in self.spec.series) else ()

    def title(self, lang: str) -> str:
        """The caption title."""
        return self.spec.labels.title(lang)

    @staticmethod
    def code() -> tuple[Path, ...]:
        """The modules that read, check and draw every spec chart."""
        here = Path(__file__).parent
        return tuple(here / f"{name}.py" for name in ("spec", "spec_model"))

    def data(self, con: duckdb.DuckDBPyConnection) -> FigureData:
        """The selected rows of each series (history, scenarios, outlook), in the spec's order."""
        series = [_selected(con, sel) for sel in self.spec.series]
        flagged = any(s["scenarios"] or s["outlook"] for s in series) or any(
            h["mark"] for s in series for h in s["history"]
        )
        return FigureData(
            id=self.id, source_ids=tuple(c.projection_sources(series)), flagged=flagged, body={"series": series}
        )

    def draw(self, data: FigureData, lang: str, path: Path) -> Path:
        """The chart of the spec's type in `lang`."""
        plt = style.setup()
        series = [dict(s) for s in data.body["series"]]
        for s, sel in zip(series, self.spec.series, strict=True):
            s["name"] = {"zh": sel.label.zh, "en": sel.label.en} if sel.label else s["name"]
        divisor = self.spec.scale.divisor(lang)
        drawer = DRAWERS[self.spec.type]
        if self.spec.type == "small_multiples":
            cols = min(len(series), 3)
            rows = -(-len(series) // cols)
            fig, axes = plt.subplots(rows, cols, figsize=(style.FIGSIZE[0], 2.4 * rows), squeeze=False)
            for ax in axes.flat[len(series) :]:
                ax.set_visible(False)
            for i, (ax, s) in enumerate(zip(axes.flat, series, strict=False)):
                _panel(self, ax, s, i, lang, divisor)
            axes.flat[0].set_ylabel(self.spec.labels.axis(lang))
        else:
            fig, ax = plt.subplots(figsize=style.FIGSIZE)
            handles = drawer(self, ax, series, lang, divisor)
            ax.set_ylabel(self.spec.labels.axis(lang))
            for year in self.spec.highlight.years:
                ax.axvspan(year - 0.45, year + 0.45, color=c.LIGHT_BG, zorder=0, linewidth=0)
            _annotate(self, ax, series, lang, divisor)
            c.legend(ax, handles, loc="upper left")
        return style.save(fig, path)

    def table(self, data: FigureData, lang: str) -> TableBody:
        """A chart has no table."""
        raise TypeError(f"figure {self.id} is a chart: it has no table")

    def note(self, data: FigureData, lang: str) -> str | None:
        """The spec's caption note, if any."""
        note = self.spec.labels.note
        return c.shared("note", lang, text=note(lang)) if note else None


def _selected(con: duckdb.DuckDBPyConnection, sel: Any) -> Payload:
    s = c.projection_series(
        con, sel.id, sel.geography, sel.segment, actuals=sel.actuals, outlook=sel.outlook, scenarios=sel.scenarios
    )

    def inside(year: int) -> bool:
        return (sel.first_year is None or year >= sel.first_year) and (sel.last_year is None or year <= sel.last_year)

    if sel.first_year is not None or sel.last_year is not None:
        s["history"] = [h for h in s["history"] if inside(h["year"])]
        s["outlook"] = [o for o in s["outlook"] if inside(o["year"])]
        for sc in s["scenarios"].values():
            sc["points"] = [p for p in sc["points"] if inside(p["year"])]
    return s


def _value_label(unit: str | None, lang: str, divisor: float) -> Callable[[float, str | None], str]:
    """How a value is printed on the chart: money at the axis' scale, other quantities in their own words."""
    if unit == "CNY":
        return lambda v, q: c.qualifier(q, lang) + fmt.money(v, lang, "CNY", divisor)
    return lambda v, q: c.quantity_label(v, unit or "", lang, q)


def _bold(fig: SpecFigure, series_id: str) -> bool:
    return series_id in fig.spec.highlight.series


def _projection_band(fig: SpecFigure, ax: Any, series: list[Payload], lang: str, divisor: float) -> list[Any]:
    label = _value_label(series[0]["unit"], lang, divisor)
    handles = c.draw_projections(ax, series, lang, divisor, label, markers=MARKERS if len(series) > 1 else None)
    if len(series) > 1:
        c.end_names(ax, [(s["history"][-1] if s["history"] else None, s) for s in series], lang, divisor)
    return handles


def _line(fig: SpecFigure, ax: Any, series: list[Payload], lang: str, divisor: float) -> list[Any]:
    years: set[int] = set()
    handles = []
    ends = []
    for i, s in enumerate(series):
        color = style.PALETTE[i % len(style.PALETTE)]
        points = sorted(s["history"], key=lambda h: h["year"])
        xs, ys = [h["year"] for h in points], [h["value"] / divisor for h in points]
        years |= set(xs)
        width = 2.4 if _bold(fig, s["series_id"]) else 1.4
        kw = {"color": color, "linewidth": width, "linestyle": LINESTYLES[i % len(LINESTYLES)]}
        ax.plot(xs, ys, marker=MARKERS[i % len(MARKERS)], markersize=4, **kw)
        for o in s["outlook"]:
            years.add(o["year"])
            ax.plot([o["year"]], [o["value"] / divisor], marker="D", markerfacecolor="white", color=color)
        handles.append(c.line_handle(s["name"][lang], marker=MARKERS[i % len(MARKERS)], **kw))
        ends.append((points[-1] if points else None, s))
    if years:
        c.year_axis(ax, sorted(years))
        ax.set_xlim(min(years) - 0.5, max(years) + 1.5)
    ax.set_ylim(bottom=0)
    c.number_axis(ax, "y", lang)
    if len(series) > 1:
        c.end_names(ax, ends, lang, divisor)
    return handles


def _bars(fig: SpecFigure, ax: Any, series: list[Payload], lang: str, divisor: float) -> list[Any]:
    stacked = fig.spec.type == "stacked_bar"
    years = sorted({h["year"] for s in series for h in s["history"]})
    width = 0.8 if stacked or len(series) == 1 else 0.8 / len(series)
    bottoms = dict.fromkeys(years, 0.0)
    handles = []
    marks: set[str | None] = set()
    for i, s in enumerate(series):
        color = style.PALETTE[i % len(style.PALETTE)]
        hatch = HATCHES[i % len(HATCHES)]
        for h in s["history"]:
            x = h["year"] + (0 if stacked or len(series) == 1 else (i - (len(series) - 1) / 2) * width)
            kw = c.bar_style(color, h["mark"]) | ({"hatch": hatch} if hatch and h["mark"] is None else {})
            kw["linewidth"] = 1.6 if _bold(fig, s["series_id"]) else kw.get("linewidth", 0.6)
            ax.bar(x, h["value"] / divisor, width, bottom=bottoms[h["year"]] if stacked else 0, **kw)
            marks.add(h["mark"])
            if stacked:
                bottoms[h["year"]] += h["value"] / divisor
        handles.append(c.bar_patch(None, s["name"][lang], color) if not hatch else _hatched(s["name"][lang], color))
    handles += c.legend_marks(lang, marks)
    c.year_axis(ax, years)
    c.number_axis(ax, "y", lang)
    return handles


def _hatched(label: str, color: str) -> Any:
    from matplotlib.patches import Patch

    i = style.PALETTE.index(color) % len(HATCHES)
    return Patch(label=label, facecolor=color, edgecolor=c.DARK, hatch=HATCHES[i], linewidth=0.6)


def _panel(fig: SpecFigure, ax: Any, s: Payload, i: int, lang: str, divisor: float) -> None:
    """One small multiple: a series with its projections, titled with its name."""
    color = [style.PALETTE[i % len(style.PALETTE)]]
    label = _value_label(s["unit"], lang, divisor)
    if s["scenarios"]:
        c.draw_projections(ax, [s], lang, divisor, label, colors=color)
    else:
        _line(fig, ax, [s], lang, divisor)
    ax.set_title(s["name"][lang], fontsize=7.6, loc="left")


def _annotate(fig: SpecFigure, ax: Any, series: list[Payload], lang: str, divisor: float) -> None:
    """The spec's notes, each pointing at its series' value of its year (the value printed from the data)."""
    by_id = {s["series_id"]: s for s in series}
    for note in fig.spec.annotations:
        rows = [h for h in by_id[note.series]["history"] + by_id[note.series]["outlook"] if h["year"] == note.year]
        if not rows:
            continue
        row = rows[0]
        value = _value_label(by_id[note.series]["unit"], lang, divisor)(row["value"], row.get("qualifier"))
        ax.annotate(
            f"{note.text(lang)} {value}",
            (note.year, row["value"] / divisor),
            xytext=(-10, 14),
            textcoords="offset points",
            ha="right",
            fontsize=c.SMALL,
            color=c.DARK,
            arrowprops={"arrowstyle": "-", "color": c.GREY, "linewidth": 0.6},
        )


DRAWERS: dict[str, Callable[[SpecFigure, Any, list[Payload], str, float], list[Any]]] = {
    "line": _line,
    "bar": _bars,
    "grouped_bar": _bars,
    "stacked_bar": _bars,
    "projection_band": _projection_band,
    "small_multiples": _projection_band,
}
