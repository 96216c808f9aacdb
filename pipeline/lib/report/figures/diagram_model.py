"""The diagram format (report_templates/computing_power/diagrams/<figure id>.yaml): a conceptual figure declared as
data (boxes, labels in both languages, arrows implied by its layout, its source), validated by pydantic models that
refuse unknown keys; every problem names the file, the line and the key at fault.

The docs' key tables (docs/chart-specs.md, section "Diagrams") are generated from these models (`MODELS`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from pipeline.lib import yamlio
from pipeline.lib.errors import Problem, SourceError
from pipeline.lib.ingest.manifest import publisher_problem, reference_problem
from pipeline.lib.report.figures.spec_model import FigureHeader, Text, _line_of, _lines, key_name
from pipeline.lib.validation import InputModel, message

Layout = Literal["timeline", "columns", "layers", "hub", "quadrant"]
Level = Literal["low", "mid", "high", "top"]
Position = Literal["left", "right", "top", "bottom"]
SourceStatus = Literal["seed", "solid"]
# the keys each layout draws (besides the common ones): any other layout key is refused
LAYOUT_KEYS: dict[str, tuple[str, ...]] = {
    "timeline": ("events", "phases"),
    "columns": ("groups", "flow", "top", "bottom"),
    "layers": ("groups", "flow", "top", "bottom", "side"),
    "hub": ("centre", "groups", "top", "bottom"),
    "quadrant": ("axes", "points", "target"),
}
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "timeline": ("events",),
    "columns": ("groups",),
    "layers": ("groups",),
    "hub": ("centre", "groups"),
    "quadrant": ("axes", "points"),
}


class Node(InputModel):
    """A box: its label and an optional smaller second line."""

    label: Text = Field(description="the box's words")
    detail: Text | None = Field(default=None, description="a second, smaller line under the label")
    emphasis: bool = Field(default=False, description="drawn in the accent shade (a darker fill)")


class Group(InputModel):
    """A column, a layer or a panel: a titled set of boxes."""

    title: Text = Field(description="the group's heading (a column's head, a layer's name)")
    subtitle: Text | None = Field(default=None, description="a line under the heading")
    nodes: tuple[Node, ...] = Field(default=(), description="its boxes, in reading order")
    position: Position | None = Field(
        default=None, description="where a hub panel stands around the centre (hub only)", examples=["left"]
    )


class Event(InputModel):
    """A dated event of a timeline, on the wave at its level."""

    year: int = Field(description="the year of the event", examples=[1956])
    until: int | None = Field(default=None, description="the last year of an event that lasted several years")
    label: Text = Field(description="what happened")
    level: Level = Field(description="the height of the wave at the event: low, mid, high or top", examples=["high"])

    @model_validator(mode="after")
    def _ordered(self) -> Event:
        if self.until is not None and self.until < self.year:
            raise ValueError(f"until {self.until} is before year {self.year}")
        return self


class Phase(InputModel):
    """A named span of a timeline, shaded under the wave."""

    start: int = Field(description="its first year", examples=[1956])
    end: int | None = Field(default=None, description="its last year (open to the right when absent)")
    label: Text = Field(description="its name")


class Axes(InputModel):
    """The two dimensions of a quadrant."""

    x: Text = Field(description="the horizontal dimension")
    y: Text = Field(description="the vertical dimension")


class Point(InputModel):
    """A box placed on a quadrant at a qualitative position (0 to 1 along each dimension, never printed)."""

    label: Text = Field(description="the box's words")
    detail: Text | None = Field(default=None, description="a second, smaller line under the label")
    x: float = Field(ge=0, le=1, description="position along the horizontal dimension, 0 to 1")
    y: float = Field(ge=0, le=1, description="position along the vertical dimension, 0 to 1")


class Citation(InputModel):
    """Where the diagram's content comes from: a row of the sources appendix, cited under the figure."""

    publisher: str = Field(
        min_length=1, description="'中文名 (English name)', as in the manifest", examples=["毕马威中国 (KPMG China)"]
    )
    title: Text = Field(description="the title of the cited figure or text")
    published: dt.date = Field(description="its publication date", examples=["2023-07-01"])
    reference: str = Field(
        min_length=1,
        description="where in it, in the manifest's locator grammar",
        examples=["图1 / Figure 1, section 01 顺势 (p. 5 ff.)"],
    )
    status: SourceStatus = Field(default="seed", description="the status shown in the sources appendix")

    @field_validator("publisher")
    @classmethod
    def _bilingual(cls, publisher: str) -> str:
        if problem := publisher_problem(publisher):
            raise ValueError(problem)
        return publisher

    @field_validator("reference")
    @classmethod
    def _locator(cls, reference: str) -> str:
        if problem := reference_problem(reference):
            raise ValueError(problem)
        return reference


class Diagram(FigureHeader):
    """One diagram: report_templates/computing_power/diagrams/<figure id>.yaml."""

    layout: Layout = Field(description="how it is drawn", examples=["columns"])
    title: Text = Field(description="the caption title")
    note: Text | None = Field(default=None, description="a caption note under the diagram")
    source: Citation = Field(description="where its content comes from")
    groups: tuple[Group, ...] = Field(default=(), description="columns, layers or hub panels, in reading order")
    flow: bool = Field(
        default=False,
        description="arrows from each column to the next (columns) or from each layer up to the one above (layers)",
    )
    top: Node | None = Field(default=None, description="a band across the top (columns, layers, hub)")
    bottom: Node | None = Field(default=None, description="a band across the bottom (columns, layers, hub)")
    side: Node | None = Field(default=None, description="a band down the right side of all layers (layers)")
    centre: Node | None = Field(default=None, description="the hub's centre (hub)")
    events: tuple[Event, ...] = Field(default=(), description="dated events, in time order (timeline)")
    phases: tuple[Phase, ...] = Field(default=(), description="named spans under the wave (timeline)")
    axes: Axes | None = Field(default=None, description="the two dimensions (quadrant)")
    points: tuple[Point, ...] = Field(default=(), description="boxes on the plane, joined in order (quadrant)")
    target: Point | None = Field(default=None, description="where the path leads, drawn emphasised (quadrant)")


MODELS: tuple[type[BaseModel], ...] = (Diagram, Group, Node, Event, Phase, Axes, Point, Citation)


def layout_problems(diagram: Diagram, lines: Mapping[tuple[str | int, ...], int], where: str) -> list[Problem]:
    """What a valid diagram still gets wrong for its layout: keys it needs or does not draw, events out of order,
    hub panels without a place."""
    problems = []
    present = diagram.model_fields_set

    def at(loc: tuple[str | int, ...], text: str) -> None:
        problems.append(Problem(where, text, _line_of(lines, loc), key_name(loc)))

    drawn = LAYOUT_KEYS[diagram.layout]
    others = sorted({k for keys in LAYOUT_KEYS.values() for k in keys} - set(drawn))
    for key in others:
        if key in present:
            at((key,), f"a {diagram.layout} diagram does not draw {key!r}; it draws {', '.join(drawn)}")
    for key in REQUIRED_KEYS[diagram.layout]:
        if not getattr(diagram, key):
            at((key,), f"a {diagram.layout} diagram needs {key!r}")
    years = [e.year for e in diagram.events]
    if years != sorted(years):
        at(("events",), "events are not in time order")
    if diagram.layout == "hub":
        taken: set[str] = set()
        for i, group in enumerate(diagram.groups):
            if group.position is None:
                at(("groups", i), "a hub panel needs a position: left, right, top or bottom")
            elif group.position in taken:
                at(("groups", i, "position"), f"another panel already stands at the {group.position}")
            taken.add(group.position or "")
    elif any(g.position for g in diagram.groups):
        i = next(i for i, g in enumerate(diagram.groups) if g.position)
        at(("groups", i, "position"), f"a {diagram.layout} diagram places its groups itself; position is for hub")
    return problems


def read_diagram(path: Path, where: str) -> Diagram:
    """The diagram in `path`; SourceError naming `where`, the line and the key of every problem otherwise."""
    text = path.read_text(encoding="utf-8")
    try:
        doc, root = yamlio.load(text), yamlio.compose(text)
    except yaml.YAMLError as exc:
        mark = exc.problem_mark if isinstance(exc, yaml.MarkedYAMLError) else None
        raise SourceError(Problem(where, f"not valid YAML: {exc}", mark.line + 1 if mark else None)) from None
    lines = dict(_lines(root)) if root is not None else {}
    try:
        diagram = Diagram.model_validate(doc if doc is not None else {})
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            text = message(error, Diagram)
            text = text.split(": ", 1)[1] if len(loc) > 1 else text  # the key is named apart
            problems.append(Problem(where, text, _line_of(lines, loc), key_name(loc) or None))
        raise SourceError(problems) from None
    if problems := layout_problems(diagram, lines, where):
        raise SourceError(problems)
    return diagram
