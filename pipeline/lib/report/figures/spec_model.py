"""The chart spec format (report_templates/charts/<figure id>.yaml): a standard chart declared as data, validated by
pydantic models that refuse unknown keys; every problem names the file, the line and the key at fault.

The docs' key tables (docs/chart-specs.md) are generated from these models (`keys_tables`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from pipeline.lib import yamlio
from pipeline.lib.errors import Problem, SourceError
from pipeline.lib.report import fmt
from pipeline.lib.validation import InputModel, message

ChartType = Literal["line", "bar", "grouped_bar", "stacked_bar", "projection_band", "small_multiples"]
Scenario = Literal["low", "base", "high"]
PROJECTING = ("projection_band", "small_multiples")  # the chart types that draw scenario projections
SCALES = {
    "zh": {word: factor for factor, word in fmt.ZH_SCALES},
    "en": {word.strip(): factor for factor, word in (*fmt.EN_SCALES, *fmt.EN_COUNT_SCALES)},
}


class Text(InputModel):
    """A string in both languages."""

    zh: str = Field(min_length=1, description="the Chinese text", examples=["中国数据中心能耗"])
    en: str = Field(min_length=1, description="the English text", examples=["Energy use of China's data centres"])

    def __call__(self, lang: str) -> str:
        """The text in `lang`."""
        return self.zh if lang == "zh" else self.en


class Selection(InputModel):
    """One series of the chart: which rows of the warehouse it shows."""

    id: str = Field(description="a series id of sources/series.csv", examples=["nev_sales"])
    geography: str = Field(default="CN", description="a geography code of sources/labels.csv", examples=["CN"])
    segment: str = Field(default="total", description="a segment code of sources/labels.csv", examples=["total"])
    first_year: int | None = Field(default=None, description="the first year shown (all years when absent)")
    last_year: int | None = Field(default=None, description="the last year shown (all years when absent)")
    vintage: Literal["latest"] = Field(
        default="latest", description="which vintage of each year: the latest published (the only choice)"
    )
    actuals: bool = Field(default=True, description="show the reported values")
    outlook: bool = Field(default=False, description="show published forecasts (outlook values) as diamonds")
    scenarios: tuple[Scenario, ...] = Field(
        default=(),
        description="scenario projections of forecast.projections to show (projection_band and small_multiples "
        "only): base as a dashed line, low–high as a band",
        examples=["[low, base, high]"],
    )
    label: Text | None = Field(default=None, description="legend entry and end label; the series' name if absent")


class Labels(InputModel):
    """The words of the chart, in both languages."""

    title: Text = Field(description="the caption title")
    axis: Text = Field(description="the value axis title, with its unit")
    note: Text | None = Field(default=None, description="a caption note under the chart")


class Scale(InputModel):
    """The unit multiple of the value axis per language (the words of the report's number formats)."""

    zh: str = Field(description=f"one of {', '.join(repr(w) for w in SCALES['zh'])}", examples=["亿"])
    en: str = Field(description=f"one of {', '.join(repr(w) for w in SCALES['en'])}", examples=["bn"])

    @field_validator("zh", "en")
    @classmethod
    def _known(cls, word: str, info: Any) -> str:
        words = SCALES[info.field_name]
        if word not in words:
            raise ValueError(f"scale {word!r} is not one of {', '.join(repr(w) for w in words)}")
        return word

    def divisor(self, lang: str) -> float:
        """What values are divided by on the axis in `lang`."""
        return SCALES[lang][self.zh if lang == "zh" else self.en]


class Highlight(InputModel):
    """What the chart stresses."""

    series: tuple[str, ...] = Field(default=(), description="series ids drawn bold", examples=["[nev_sales]"])
    years: tuple[int, ...] = Field(default=(), description="years shaded on the chart", examples=["[2025]"])


class Annotation(InputModel):
    """A note pointing at one value of a series."""

    series: str = Field(description="the id of a series of the chart", examples=["nev_sales"])
    year: int = Field(description="the year of the value pointed at", examples=[2022])
    text: Text = Field(description="the note (words; the value itself is printed from the data)")


class FigureHeader(InputModel):
    """The keys every figure file has, chart spec or diagram: its asset, its text in the UI, its KPMG counterpart."""

    subject: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$", description="its asset key: charts/<subject>", examples=["nev_sales"]
    )
    description: str = Field(min_length=1, description="what it shows (the asset's description in the UI)")
    seed_figure: int | None = Field(default=None, description="its number in the KPMG report, if it has one")


class ChartSpec(FigureHeader):
    """One chart: report_templates/charts/<figure id>.yaml."""

    type: ChartType = Field(description="the kind of chart", examples=["line"])
    series: tuple[Selection, ...] = Field(min_length=1, description="the series shown, in legend order")
    datasets: tuple[str, ...] = Field(
        min_length=1,
        description="the datasets whose rows the chart shows (a manifest entry's `dataset`, or its id): the chart's "
        "asset depends on exactly these; tests/test_figure_inputs.py checks them against the data",
        examples=["[caam_2021_annual, text_nev_auto]"],
    )
    labels: Labels = Field(description="title, axis and note in both languages")
    scale: Scale = Field(description="unit multiple of the value axis per language")
    highlight: Highlight = Field(default_factory=Highlight, description="series drawn bold and years shaded")
    annotations: tuple[Annotation, ...] = Field(default=(), description="notes pointing at values")


MODELS: tuple[type[BaseModel], ...] = (ChartSpec, Selection, Labels, Scale, Highlight, Annotation, Text)


# --- reading --------------------------------------------------------------------------------------------------


def _lines(node: yaml.Node, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], int]]:
    """(key path, line) of every key and list item under `node`."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            here = (*path, str(key.value))
            yield here, key.start_mark.line + 1
            yield from _lines(value, here)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield (*path, i), item.start_mark.line + 1
            yield from _lines(item, (*path, i))


def _line_of(lines: Mapping[tuple[str | int, ...], int], loc: Sequence[str | int]) -> int:
    """The line of the deepest part of `loc` the file has (a missing key: the line of its parent)."""
    for end in range(len(loc), 0, -1):
        if tuple(loc[:end]) in lines:
            return lines[tuple(loc[:end])]
    return 1


def key_name(loc: Sequence[str | int]) -> str:
    """`series[2].id` for a location."""
    out = ""
    for part in loc:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def read_spec(path: Path, where: str) -> tuple[ChartSpec, dict[tuple[str | int, ...], int]]:
    """The spec in `path` and the line of each of its keys; SourceError naming `where`, line and key otherwise."""
    text = path.read_text(encoding="utf-8")
    try:
        doc, root = yamlio.load(text), yamlio.compose(text)
    except yaml.YAMLError as exc:
        mark = exc.problem_mark if isinstance(exc, yaml.MarkedYAMLError) else None
        raise SourceError(Problem(where, f"not valid YAML: {exc}", mark.line + 1 if mark else None)) from None
    lines = dict(_lines(root)) if root is not None else {}
    try:
        return ChartSpec.model_validate(doc if doc is not None else {}), lines
    except ValidationError as exc:
        problems = []
        errors = exc.errors()
        for error in errors:
            loc = tuple(error["loc"])
            if error["type"] == "too_short" and any(
                tuple(e["loc"])[: len(loc)] == loc != tuple(e["loc"]) for e in errors
            ):
                continue  # a list whose items are refused: the items' own problems say why
            text = message(error, ChartSpec)
            text = text.split(": ", 1)[1] if len(loc) > 1 else text  # the key is named apart
            problems.append(Problem(where, text, _line_of(lines, loc), key_name(loc) or None))
        raise SourceError(problems) from None


def problems_in(
    spec: ChartSpec,
    lines: Mapping[tuple[str | int, ...], int],
    where: str,
    known: Mapping[str, set[str]] | None,
) -> list[Problem]:
    """What a valid spec still gets wrong: datasets the manifest lacks, series, geographies and segments the
    catalogues lack (`known`: {'series' | 'geography' | 'segment' | 'dataset': codes}, None when they cannot be
    read), scenarios on a chart type that draws none, highlights and annotations of series the chart does not
    show."""
    problems = []

    def at(loc: tuple[str | int, ...], text: str) -> None:
        problems.append(Problem(where, text, _line_of(lines, loc), key_name(loc)))

    if known is not None:
        for i, dataset in enumerate(spec.datasets):
            if dataset not in known["dataset"]:
                at(("datasets", i), f"unknown dataset {dataset!r}: not a `dataset` or `id` of sources/manifest.yaml")
    for i, sel in enumerate(spec.series):
        if known is not None:
            for key, dimension, file in (
                ("id", "series", "series.csv"),
                ("geography", "geography", "labels.csv"),
                ("segment", "segment", "labels.csv"),
            ):
                code = sel.id if key == "id" else sel.geography if key == "geography" else sel.segment
                if code not in known[dimension]:
                    at(("series", i, key), f"unknown {dimension} {code!r}: not in sources/{file}")
        if sel.scenarios and spec.type not in PROJECTING:
            at(("series", i, "scenarios"), f"a {spec.type} chart draws no scenarios; use {' or '.join(PROJECTING)}")
    shown = {sel.id for sel in spec.series}
    for j, sid in enumerate(spec.highlight.series):
        if sid not in shown:
            at(("highlight", "series", j), f"series {sid!r} is not one of the chart's series")
    for j, note in enumerate(spec.annotations):
        if note.series not in shown:
            at(("annotations", j, "series"), f"series {note.series!r} is not one of the chart's series")
    if spec.type == "bar" and len(spec.series) != 1:
        at(("series",), "a bar chart shows one series; use grouped_bar or stacked_bar for more")
    return problems


def keys_tables(models: Sequence[type[BaseModel]] = MODELS) -> str:
    """Markdown tables of every key of every model of a format (the chart spec's unless given), from the models'
    schemas."""
    out = []
    for model in models:
        schema = model.model_json_schema()
        required = set(schema.get("required", []))
        out += [f"**{model.__name__}**: {model.__doc__.strip()}", "", "| key | required | meaning | example |"]
        out.append("|---|---|---|---|")
        for name, prop in schema["properties"].items():
            example = (prop.get("examples") or [""])[0]
            shown = f"`{example}`" if example != "" else ""
            what = prop.get("description", "").replace("|", "/")
            out.append(f"| `{name}` | {'yes' if name in required else ''} | {what} | {shown} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
