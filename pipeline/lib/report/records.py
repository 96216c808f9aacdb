"""The report's typed records: what crosses the borders between the report's modules (the context, its facts,
headline claims, citations, figure data and changelog, and the per-edition view the templates render).

`Headline` and `Assumption` are rows of forecast.headlines and forecast.assumptions as the report reads them back
(plus the columns it joins in); they do not extend the forecast layer's own records, whose module imports DuckDB,
which the PDF worker processes never load.

Records are frozen dataclasses. `to_json` turns one into the JSON-ready value stored in context.json (the one
edge where records become dicts); each record's `from_json` reads it back. A field declared with `absent()` is
left out of the JSON while it is None, so a stored context keeps the keys it always had.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Number = int | float  # kept as DuckDB returns it: an int stays an int in the JSON

_OMIT_NONE = "omit_none"


def absent() -> Any:
    """A field that is None when it does not apply, and then not written to the JSON."""
    return field(default=None, metadata={_OMIT_NONE: True})


def to_json(value: Any) -> Any:
    """A record (or a list, tuple or dict of them) as plain JSON-ready values."""
    if isinstance(value, FigureData):
        return value.to_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        own = vars(value)
        return {
            f.name: to_json(own[f.name])
            for f in dataclasses.fields(value)
            if not (f.metadata.get(_OMIT_NONE) and own[f.name] is None)
        }
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, Mapping):
        return {k: to_json(v) for k, v in value.items()}
    return value


def _known(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of `data` that are fields of `cls` (a context stored by an older version may hold more)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def _by_lang(record: Any, stem: str, lang: str) -> str:
    return vars(record)[f"{stem}_{lang}"]


# --- what the context holds ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Meta:
    """The edition's date (latest publication reported on) and its creation timestamp (that date, midnight UTC)."""

    published: str
    created: str


@dataclass(frozen=True, kw_only=True)
class Source:
    """A citation: one row of core.sources."""

    source_id: str
    publisher: str
    title_zh: str
    title_en: str
    published: str
    reference: str
    status: str

    def title(self, lang: str) -> str:
        """The title in `lang`."""
        return _by_lang(self, "title", lang)


@dataclass(frozen=True, kw_only=True)
class Headline:
    """One evaluated claim (a row of forecast.headlines) with the canonical unit of its target."""

    claim_id: str
    target: str
    year: int
    comparator: str
    claimed: Number
    tolerance: Number
    ours: Number | None
    from_year: int | None
    from_value: Number | None
    implied_cagr: Number | None
    needed_cagr: Number | None
    historical_cagr: Number | None
    history_from: Number | None
    gap: Number | None
    verdict: str
    passed: bool
    base_method: str | None
    text_zh: str
    text_en: str
    source: str
    unit: str = "CNY"  # a context stored before claims carried their unit: all were amounts in yuan

    def text(self, lang: str) -> str:
        """The claim's wording in `lang`."""
        return _by_lang(self, "text", lang)


@dataclass(frozen=True, kw_only=True)
class Assumption:
    """One scenario assumption of forecast.assumptions with its series' unit and the growth it makes."""

    assumption_id: str
    series_id: str
    geography: str
    segment: str
    scenario: str
    method: str
    rate: Number | None
    horizon: int
    target_value: Number | None
    target_year: Number | None
    driver: str | None
    share_series: str | None
    rationale_zh: str
    rationale_en: str
    source: str
    row: int
    unit: str
    effective_rate: Number | None
    fitted_method: str | None

    def rationale(self, lang: str) -> str:
        """The rationale in `lang`."""
        return _by_lang(self, "rationale", lang)


@dataclass(frozen=True, kw_only=True)
class Backtest:
    """One row of forecast.backtest: a method's error on held-out years of a series."""

    series_id: str
    geography: str
    segment: str
    method: str
    holdout_years: int
    train_from: int
    train_to: int
    n_train: int
    n_origins: int
    rate: Number | None
    mape: Number | None


@dataclass(frozen=True, kw_only=True)
class GlossaryEntry:
    """A term of report_templates/glossary.yaml."""

    zh: str
    en: str
    def_zh: str
    def_en: str

    def definition(self, lang: str) -> str:
        """The definition in `lang`."""
        return _by_lang(self, "def", lang)


@dataclass(frozen=True, kw_only=True)
class _Fact:
    value: Number | None
    unit: str
    year: int
    status: str
    source_ids: tuple[str, ...]
    format: str | None = absent()


@dataclass(frozen=True, kw_only=True)
class ObservationFact(_Fact):
    """A fact read from core.observations_latest (its status 'forecast' where the year is an outlook)."""

    value_low: Number | None
    value_high: Number | None
    quantity: str | None
    value_orig: Number | None
    unit_orig: str | None
    currency_orig: str | None
    qualifier: str | None
    series_id: str
    geography: str
    segment: str
    same_year_as: str | None = absent()


@dataclass(frozen=True, kw_only=True)
class HeadlineFact(_Fact):
    """A field of an evaluated claim: an amount, a growth rate, or the assessment (`verdict`, value = the gap)."""

    claim: str
    field: str
    verdict: str | None = absent()


@dataclass(frozen=True, kw_only=True)
class ProjectionFact(_Fact):
    """A projected value (or, with field 'rate', its growth rate) of forecast.projections."""

    series_id: str
    geography: str
    scenario: str
    field: str | None = absent()


@dataclass(frozen=True, kw_only=True)
class GrowthFact(_Fact):
    """The average annual growth of a series' actuals from `from_year` to `year`."""

    from_year: int
    series_id: str
    geography: str
    segment: str


Fact = ObservationFact | HeadlineFact | ProjectionFact | GrowthFact


def fact_from_json(data: Mapping[str, Any]) -> Fact:
    """A stored fact: a headline field has a `claim`, a projection a `scenario`, a growth a `from_year`, anything
    else is an observation."""
    cls = (
        HeadlineFact
        if "claim" in data
        else ProjectionFact
        if "scenario" in data
        else GrowthFact
        if "from_year" in data
        else ObservationFact
    )
    values = _known(cls, data)
    values["source_ids"] = tuple(values["source_ids"])
    return cls(**values)


@dataclass(frozen=True, kw_only=True)
class FigureData:
    """What a figure's query found: the citations and whether any value is flagged, which the caption shows, and
    the figure's own payload (`body`, JSON-ready, read only by the figure's module to draw or tabulate it)."""

    id: str
    source_ids: tuple[str, ...]
    flagged: bool
    body: Mapping[str, Any]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FigureData:
        """A figure's data from its JSON form (what its module's query returns)."""
        body = {k: v for k, v in data.items() if k not in ("id", "source_ids", "flagged")}
        return cls(id=data["id"], source_ids=tuple(data["source_ids"]), flagged=bool(data["flagged"]), body=body)

    def to_json(self) -> dict[str, Any]:
        """The JSON form: the payload with the id, citations and flag beside it."""
        return {**self.body, "id": self.id, "source_ids": list(self.source_ids), "flagged": self.flagged}


# --- the changelog ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ChangedSource:
    """An input added, removed or changed since the previous edition, under its readers' title."""

    source_id: str
    change: Literal["added", "removed", "changed"]
    title_zh: str
    title_en: str

    def title(self, lang: str) -> str:
        """The title in `lang`."""
        return _by_lang(self, "title", lang)


@dataclass(frozen=True, kw_only=True)
class MovedNumber:
    """A number of the prose that prints differently (or for another year) than in the previous edition."""

    name: str
    old: Number | None
    new: Number | None
    old_year: int | None
    new_year: int | None
    old_zh: str
    new_zh: str
    item_zh: str
    old_en: str
    new_en: str
    item_en: str

    def shown(self, lang: str) -> tuple[str, str, str]:
        """(item, old, new) as printed in `lang`."""
        return tuple(_by_lang(self, stem, lang) for stem in ("item", "old", "new"))  # type: ignore[return-value]


@dataclass(frozen=True, kw_only=True)
class RevisedForecast:
    """A claim whose base-scenario value prints differently than in the previous edition."""

    claim_id: str
    old: Number | None
    new: Number | None
    unit: str
    text_zh: str
    text_en: str
    old_zh: str
    new_zh: str
    old_en: str
    new_en: str

    def shown(self, lang: str) -> tuple[str, str, str]:
        """(claim, old, new) as printed in `lang`."""
        return tuple(_by_lang(self, stem, lang) for stem in ("text", "old", "new"))  # type: ignore[return-value]


@dataclass(frozen=True, kw_only=True)
class AcceptedOutlier:
    """A value outside the intake bounds that its manifest entry accepted (core.accepted_outliers), with its
    series' unit."""

    source_id: str
    series_id: str
    geography: str
    segment: str
    year: int
    value: Number
    rule: str
    reason: str
    unit: str | None

    def key(self) -> tuple[Any, ...]:
        """What identifies an acceptance across editions."""
        return (self.source_id, self.series_id, self.geography, self.segment, self.year, self.reason)


@dataclass(frozen=True, kw_only=True)
class Changes:
    """What changed since the previous edition (`previous` None: this is the first)."""

    previous: str | None
    sources: tuple[ChangedSource, ...] = ()
    numbers: tuple[MovedNumber, ...] = ()
    forecasts: tuple[RevisedForecast, ...] = ()
    accepted_outliers: tuple[AcceptedOutlier, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Changes:
        """The changelog from its JSON form."""
        return cls(
            previous=data["previous"],
            sources=tuple(ChangedSource(**_known(ChangedSource, s)) for s in data.get("sources", [])),
            numbers=tuple(MovedNumber(**_known(MovedNumber, n)) for n in data.get("numbers", [])),
            forecasts=tuple(RevisedForecast(**_known(RevisedForecast, f)) for f in data.get("forecasts", [])),
            accepted_outliers=tuple(
                AcceptedOutlier(**_known(AcceptedOutlier, a)) for a in data.get("accepted_outliers", [])
            ),
        )


# --- the pages ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EditionTitles:
    """One edition's name (its bookmark in the bilingual volume), title, subtitle and author (report.yaml)."""

    lang: str
    name: str
    title: str
    subtitle: str
    author: str


@dataclass(frozen=True, kw_only=True)
class Page:
    """One chapter of one edition as written: its chapter name, whether it is in the appendix, its file (relative
    to the project) and its Markdown."""

    chapter: str
    lang: str
    appendix: bool
    path: str
    text: str


# --- the context -----------------------------------------------------------------------------------------------

Labels = Mapping[str, Mapping[str, str]]  # 'series:<id>' / '<dimension>:<code>' / 'aggregate:<id>' → {zh, en}


@dataclass(frozen=True, kw_only=True)
class ReportContext:
    """Everything the report shows, language-independent and in canonical units (report/context.json).
    `changes` is None until the caller has compared with the previous edition."""

    meta: Meta
    inputs: Mapping[str, str]
    labels: Labels
    facts: Mapping[str, Fact]
    figures: Mapping[str, FigureData]
    headlines: tuple[Headline, ...]
    assumptions: tuple[Assumption, ...]
    backtest: tuple[Backtest, ...]
    sources: tuple[Source, ...]
    glossary: tuple[GlossaryEntry, ...]
    accepted_outliers: tuple[AcceptedOutlier, ...]
    editions: tuple[EditionTitles, ...]
    pages: tuple[Page, ...]
    changes: Changes | None = absent()

    def with_changes(self, changes: Changes) -> ReportContext:
        """This context with its changelog."""
        return dataclasses.replace(self, changes=changes)

    def label(self, kind: str, code: str | None, lang: str) -> str | None:
        """The name of a series, aggregate or label code in `lang`, None if it has none."""
        return self.labels.get(f"{kind}:{code}", {}).get(lang) if code else None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReportContext:
        """A context from its JSON form (context.json). An older context may lack keys added since; they read as
        empty."""

        def rows(record: type, key: str) -> tuple[Any, ...]:
            return tuple(record(**_known(record, r)) for r in data.get(key, []))

        return cls(
            meta=Meta(**data["meta"]),
            inputs=data.get("inputs", {}),
            labels=data.get("labels", {}),
            facts={name: fact_from_json(f) for name, f in data.get("facts", {}).items()},
            figures={fid: FigureData.from_json(f) for fid, f in data.get("figures", {}).items()},
            headlines=rows(Headline, "headlines"),
            assumptions=rows(Assumption, "assumptions"),
            backtest=rows(Backtest, "backtest"),
            sources=rows(Source, "sources"),
            glossary=rows(GlossaryEntry, "glossary"),
            accepted_outliers=rows(AcceptedOutlier, "accepted_outliers"),
            editions=rows(EditionTitles, "editions"),
            pages=rows(Page, "pages"),
            changes=Changes.from_json(data["changes"]) if data.get("changes") is not None else None,
        )


# --- one edition's view (what the templates render) ------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Cell:
    """A table cell: its text, right-aligned if a number, with the status marker if flagged."""

    text: str
    num: bool = False
    flag: bool = False


@dataclass(frozen=True, kw_only=True)
class TableBody:
    """A table's header, rows of cells and CSS class ("small": the small table type) (what a table figure's
    `rows` makes)."""

    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    css_class: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TableBody:
        """From {"header": [...], "rows": [[{"text", "num", "flag"}, ...], ...], "class": optional}."""
        return cls(
            header=tuple(data["header"]),
            rows=tuple(tuple(Cell(**c) for c in row) for row in data["rows"]),
            css_class=data.get("class", ""),
        )


@dataclass(frozen=True, kw_only=True)
class Paragraph:
    """Prose between two figures or tables, its references resolved: the HTML the page shows and its plain
    text."""

    html: str
    text: str
    type: Literal["p"] = "p"


@dataclass(frozen=True, kw_only=True)
class FigureBlock:
    """A numbered chart with its caption, image URL, note and citation line."""

    id: str
    number: int
    title: str
    image: str
    flagged: bool
    assumption: str | None
    source_line: str
    note: str | None
    type: Literal["figure"] = "figure"


@dataclass(frozen=True, kw_only=True)
class TableBlock:
    """A numbered table with its caption, column widths (percent), CSS class and citation line."""

    id: str
    number: int
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    flagged: bool
    assumption: str | None
    widths: tuple[float, ...]
    css_class: str
    source_line: str
    type: Literal["table"] = "table"


Block = Paragraph | FigureBlock | TableBlock


@dataclass(frozen=True, kw_only=True)
class Section:
    """A chapter (or appendix) of an edition."""

    id: str
    heading: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True, kw_only=True)
class EditionView:
    """Everything the templates render for one language: its titles, the string catalogue `t`, numbered sections,
    the chart images by URL, the numbers the prose shows and the figure and table numbers (`refs`, by id)."""

    lang: str
    titles: EditionTitles
    t: Mapping[str, Any]
    meta: Meta
    cover_date: str  # the edition's date as its cover prints it ('2023年7月' / 'July 2023')
    sections: tuple[Section, ...]
    appendix: tuple[Section, ...]
    images: Mapping[str, Path]
    numbers: tuple[str, ...]
    refs: Mapping[str, int]

    def template_values(self) -> dict[str, Any]:
        """The view's fields as the templates' top-level names."""
        return {f.name: vars(self)[f.name] for f in dataclasses.fields(self)}
