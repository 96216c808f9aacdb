"""The report context: every number, label and citation the templates need, read from the warehouse.

`build_context` is language-independent (canonical values and the report's pages, a `ReportContext`);
`edition_view` renders it for one language: the pages' prose with their references resolved, numbered figures and
tables.
"""

from __future__ import annotations

import functools
import hashlib
import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import templates_dir
from pipeline.lib import yamlio
from pipeline.lib.db import fetch_records
from pipeline.lib.ingest.manifest import publisher_in, reference_in
from pipeline.lib.report import fmt
from pipeline.lib.report.facts import opens_with_qualifier, prose_text
from pipeline.lib.report.pages import (
    Directive,
    Numbered,
    Resolver,
    figure_ids,
    load_report,
    numbering,
    read_chapters,
    render_chapter,
    resolve_numbers,
)
from pipeline.lib.report.queries import labels, sources
from pipeline.lib.report.records import (
    AcceptedOutlier,
    Assumption,
    Backtest,
    Block,
    Cell,
    Changes,
    EditionView,
    FigureBlock,
    GlossaryEntry,
    Headline,
    Meta,
    Paragraph,
    ReportContext,
    Section,
    Source,
    TableBlock,
)
from pipeline.lib.report.references import CrossRef, NumberRef
from pipeline.lib.report.statuses import statuses
from pipeline.lib.report.tables import column_widths

if TYPE_CHECKING:  # duckdb only for type hints: the PDF processes need not import it
    import duckdb

    from pipeline.lib.report.figures import Figure


@functools.cache
def _yaml(name: str) -> Any:
    return yamlio.load((templates_dir() / name).read_text(encoding="utf-8"))


def catalog(lang: str) -> dict[str, Any]:
    """The language's string catalogue (report_templates/i18n/<lang>.yaml)."""
    return _yaml(f"i18n/{lang}.yaml")


def figures() -> dict[str, Figure]:
    """The registered figures (pipeline/lib/report/figures)."""
    from pipeline.lib.report.figures import FIGURES

    return FIGURES


def headline_rows(con: duckdb.DuckDBPyConnection) -> tuple[Headline, ...]:
    """forecast.headlines with the canonical unit of each claim's target (a series, or an aggregate's members)."""
    rows = fetch_records(
        con,
        "SELECT h.*, coalesce(any_value(o.unit), 'CNY') AS unit FROM forecast.headlines h "
        "LEFT JOIN forecast.aggregates a ON a.aggregate_id = h.target "
        "LEFT JOIN core.observations o ON o.series_id = coalesce(a.member_series_id, h.target) "
        "GROUP BY ALL ORDER BY h.claim_id",
    )
    return tuple(Headline(**r) for r in rows)


def current_inputs(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """{source id, entry:<source id> or catalog:<file>: sha256} of everything the warehouse was built from."""
    inputs = dict(con.execute("SELECT source_id, sha256 FROM core.sources").fetchall())
    inputs |= {
        f"entry:{sid}": h
        for sid, h in con.execute(
            "SELECT source_id, entry_sha256 FROM core.sources WHERE entry_sha256 IS NOT NULL"
        ).fetchall()
    }
    inputs |= {f"catalog:{f}": h for f, h in con.execute("SELECT file, sha256 FROM raw.catalog_files").fetchall()}
    return dict(sorted(inputs.items()))


def edition_date(con: duckdb.DuckDBPyConnection) -> str:
    """The report's date: the latest publication among the tables it reports on (not assumptions, and not the
    exchange-rate tables that only convert other tables' amounts)."""
    return con.execute(
        "SELECT max(published)::VARCHAR FROM core.sources WHERE status <> 'assumption' AND source_id NOT IN "
        "(SELECT DISTINCT source_id FROM core.fx_rates)"
    ).fetchone()[0]


def build_context(con: duckdb.DuckDBPyConnection) -> ReportContext:
    """Query everything the report shows, in canonical units. The changelog (`changes`) is added by the caller
    (`report.changes.compute_changes`, then `ReportContext.with_changes`), from the previous edition."""
    published = edition_date(con)
    editions, pages = load_report()
    chapters = read_chapters(pages, figure_kinds())
    used = figure_ids(chapters)
    shown = {fid: figure.data(con) for fid, figure in figures().items() if fid in used}
    assumptions = fetch_records(
        con,
        "SELECT * FROM (SELECT a.*, coalesce(any_value(o.unit), 'CNY') AS unit, "
        "any_value(p.rate) AS effective_rate, any_value(p.fitted_method) AS fitted_method "
        "FROM forecast.assumptions a LEFT JOIN core.observations o USING (series_id) "
        "LEFT JOIN forecast.projections p ON p.assumption_id = a.assumption_id AND p.year = a.horizon "
        "GROUP BY ALL) ORDER BY series_id, list_position(['low', 'base', 'high'], scenario)",
    )
    backtest = fetch_records(  # the series the report projects, not every series with a history
        con,
        "SELECT * FROM forecast.backtest WHERE series_id IN (SELECT series_id FROM forecast.assumptions) "
        "ORDER BY series_id, holdout_years, method",
    )
    accepted = fetch_records(
        con,
        "SELECT a.*, any_value(o.unit) AS unit FROM core.accepted_outliers a "
        "LEFT JOIN core.observations o USING (source_id, series_id, geography, "
        "segment, year) GROUP BY ALL ORDER BY a.source_id, a.series_id, a.year",
    )
    return ReportContext(
        meta=Meta(published=published, created=f"{published}T00:00:00+00:00"),
        inputs=current_inputs(con),
        labels=labels(con),
        facts=resolve_numbers(con, chapters),
        figures=shown,
        headlines=headline_rows(con),
        assumptions=tuple(Assumption(**a) for a in assumptions),
        backtest=tuple(Backtest(**b) for b in backtest),
        sources=_cited_sources(con, used),
        glossary=tuple(GlossaryEntry(**g) for g in _yaml("glossary.yaml")),
        accepted_outliers=tuple(AcceptedOutlier(**a) for a in accepted),
        editions=editions,
        pages=pages,
    )


def _cited_sources(con: duckdb.DuckDBPyConnection, used: Iterable[str]) -> tuple[Source, ...]:
    """The rows of the sources appendix, in id order: every table of the warehouse, and the sources that the
    figures shown cite themselves (a diagram's)."""
    registered = figures()
    own = {s.source_id: s for fid in used if fid in registered for s in registered[fid].citations}
    return tuple(sorted([*(Source(**s) for s in sources(con)), *own.values()], key=lambda s: s.source_id))


def source_numbers(ctx: ReportContext) -> dict[str, int]:
    """Each source's number: its row in the sources appendix (the `sources` table)."""
    return {s.source_id: n for n, s in enumerate(ctx.sources, 1)}


def _citation(ctx: ReportContext, ids: Iterable[str], lang: str, t: Mapping[str, Any]) -> str:
    """The short source line of a figure or table: each publisher once, in the appendix' order, with the years of
    its sources and their numbers in the sources appendix, e.g. 'CAICT (2022, 2023) [7, 8, 11]; Gartner (2023) [15]'.
    The full citations are the appendix' rows."""
    numbers = source_numbers(ctx)
    by_id = {s.source_id: s for s in ctx.sources}
    groups: dict[str, list[tuple[str, int]]] = {}
    for sid in sorted(set(ids) & set(numbers), key=numbers.__getitem__):
        s = by_id[sid]
        groups.setdefault(publisher_in(s.publisher, lang), []).append((s.published[:4], numbers[sid]))
    w = t["citation"]
    return w["sep"].join(
        w["item"].format(
            publisher=publisher,
            year=w["number_sep"].join(sorted({year for year, _n in shown})),
            numbers=w["number_sep"].join(str(n) for _year, n in shown),
        )
        for publisher, shown in groups.items()
    )


def assumption_tag(found: list[str | None], t: Mapping[str, Any]) -> str | None:
    """The caption tag of a figure or table whose values (their statuses) are all or partly analyst assumptions."""
    assumed = found.count("assumption")
    if not assumed:
        return None
    return t["assumption_tag"] if assumed == len(found) else t["some_assumptions_tag"]


def _source_statuses(ctx: ReportContext, ids: Iterable[str]) -> list[str | None]:
    by_id = {s.source_id: s.status for s in ctx.sources}
    return [by_id.get(sid) for sid in ids]


@dataclass(frozen=True, kw_only=True)
class ContextTable:
    """A table made from the context (not a figure's): its body, citations, flag and CSS class."""

    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    source_ids: tuple[str, ...]
    flagged: bool
    css_class: str = ""


def _cell(text: str, num: bool = False, flag: bool = False) -> Cell:
    return Cell(text=text, num=num, flag=flag)


def _context_tables(ctx: ReportContext, lang: str, t: Mapping[str, Any]) -> dict[str, ContextTable]:
    c = t["columns"]
    name = {k: v[lang] for k, v in ctx.labels.items()}

    def series_name(sid: str) -> str:
        return name.get(f"series:{sid}", sid)

    def rate(value: float | None) -> Cell:
        return _cell(fmt.percent(value, lang) if value is not None else "–", True)

    headlines = [
        (
            _cell(h.text(lang)),
            _cell(fmt.quantity(h.ours, h.unit, lang) if h.ours is not None else "–", True, True),
            rate(h.implied_cagr),
            rate(h.needed_cagr),
            rate(h.historical_cagr),
            _cell(t["verdict_words"][h.verdict]),
        )
        for h in ctx.headlines
    ]
    assumptions = []
    for a in ctx.assumptions:
        method = t["methods"][a.method]
        if a.method == "best" and a.fitted_method:
            method += t["method_detail"].format(detail=t["methods"][a.fitted_method])
        elif a.method in ("driver", "share_of"):
            drivers = (name.get(f"series:{d}", name.get(f"aggregate:{d}", d)) for d in (a.share_series, a.driver))
            method += t["method_detail"].format(detail=" × ".join(d for d in drivers if d))
        if a.method == "target":
            growth = f"→ {fmt.quantity(a.target_value, a.unit, lang)}{t['year_aside'].format(year=int(a.target_year))}"
        else:
            growth = "–" if a.effective_rate is None else fmt.percent(a.effective_rate, lang)
        assumptions.append(
            (
                _cell(series_name(a.series_id)),
                _cell(t["scenarios"][a.scenario]),
                _cell(method),
                _cell(growth, True),
                _cell(a.rationale(lang)),
            )
        )
    backtest = [
        (
            _cell(series_name(b.series_id)),
            _cell(str(b.holdout_years), True),
            _cell(t["methods"][b.method]),
            _cell(fmt.percent(b.mape, lang), True),
        )
        for b in ctx.backtest
    ]
    sources_rows = [
        (
            _cell(str(n), num=True),
            _cell(publisher_in(s.publisher, lang)),
            _cell(s.title(lang)),
            _cell(s.published),
            _cell(reference_in(s.reference, lang)),
            _cell(t["status"][s.status]),
        )
        for n, s in enumerate(ctx.sources, 1)
    ]
    glossary = [(_cell(g.zh), _cell(g.en), _cell(g.definition(lang))) for g in ctx.glossary]
    changes = ctx.changes if ctx.changes is not None else Changes(previous=None)
    changes_rows = _changes_rows(changes, lang, t)
    if accepted := _accepted_rows(changes, lang, t, name):
        changes_rows = [r for r in changes_rows if r[0].text != c["no_changes"]] + accepted
    forecast_ids = ("forecast_assumptions", "forecast_claims")
    return {
        "headlines": ContextTable(
            header=(c["claim"], c["ours"], c["cagr"], c["needed"], c["history_growth"], c["result"]),
            rows=tuple(headlines),
            source_ids=forecast_ids,
            flagged=True,
        ),
        "assumptions": ContextTable(
            header=(c["series"], c["scenario"], c["method"], c["rate"], c["rationale"]),
            rows=tuple(assumptions),
            source_ids=("forecast_assumptions",),
            flagged=True,
        ),
        "backtest_errors": ContextTable(
            header=(c["series"], c["horizon"], c["method"], c["mape"]),
            rows=tuple(backtest),
            source_ids=tuple(sorted({s.source_id for s in ctx.sources if s.source_id.startswith("fig11")})),
            flagged=False,
        ),
        "sources": ContextTable(
            header=(c["number"], c["publisher"], c["title"], c["date"], c["reference"], c["status"]),
            rows=tuple(sources_rows),
            source_ids=(),
            flagged=False,
            css_class="small",
        ),
        "glossary": ContextTable(
            header=(c["term"], c["english"], c["definition"]), rows=tuple(glossary), source_ids=(), flagged=False
        ),
        "changes": ContextTable(
            header=(c["change_kind"], c["change_item"], c["old"], c["new"]),
            rows=tuple(changes_rows),
            source_ids=(),
            flagged=False,
        ),
    }


def _changes_rows(changes: Changes, lang: str, t: Mapping[str, Any]) -> list[tuple[Cell, ...]]:
    c = t["columns"]
    if changes.previous is None:
        return [(_cell(c["first_edition"]), _cell("–"), _cell("–"), _cell("–"))]
    rows = [
        (_cell(c["kind_source"]), _cell(s.title(lang)), _cell(c[f"change_{s.change}"]), _cell(""))
        for s in changes.sources
    ]
    for n in changes.numbers:
        item, old, new = n.shown(lang)
        if n.old_year != n.new_year:  # the latest actual moved to another year: say which
            old += t["year_aside"].format(year=n.old_year)
            new += t["year_aside"].format(year=n.new_year)
        rows.append((_cell(c["kind_number"]), _cell(item), _cell(old, True), _cell(new, True)))
    for f in changes.forecasts:
        text, old, new = f.shown(lang)
        rows.append((_cell(c["kind_forecast"]), _cell(text), _cell(old, True), _cell(new, True)))
    return rows or [(_cell(c["no_changes"]), _cell("–"), _cell("–"), _cell("–"))]


def _accepted_rows(
    changes: Changes, lang: str, t: Mapping[str, Any], name: Mapping[str, str]
) -> list[tuple[Cell, ...]]:
    """Values outside the intake bounds that their source's entry accepted in this edition, with the reason."""
    c = t["columns"]
    rows = []
    for a in changes.accepted_outliers:
        series = name.get(f"series:{a.series_id}", a.series_id)
        value = fmt.quantity(a.value, a.unit or "", lang, t["units"])
        item, shown = (
            (f"{series}（{a.year}年）", f"{value}：{a.reason}")
            if lang == "zh"
            else (f"{series} ({a.year})", f"{value}: {a.reason}")
        )
        rows.append((_cell(c["kind_accepted"]), _cell(item), _cell("–"), _cell(shown)))
    return rows


IMAGE_SCHEME = "chart:"


def image_url(path: Path) -> str:
    """How the HTML names a chart: by its content (`chart:<sha256>.png`), never by where it was built, so the same
    charts give the same PDF bytes in any output folder (WeasyPrint names an embedded image after its URL).
    `render.layout` serves these URLs from the chart files."""
    return f"{IMAGE_SCHEME}{hashlib.sha256(path.read_bytes()).hexdigest()}{path.suffix}"


def _xref_label(ref: CrossRef, numbers: Mapping[str, Numbered], t: Mapping[str, Any]) -> str:
    """'图5' / 'Figure 5'; several: '图9和图10' / 'Figures 9 and 10'."""
    words = t["xref"]
    items = [numbers[i] for i in ref.ids]
    kind = items[0].kind
    if len(items) == 1:
        return f"{t[kind]}{words['space']}{items[0].number}"
    shown = [f"{t[kind]}{words['space']}{i.number}" if words["each"] else str(i.number) for i in items]
    head = "" if words["each"] else f"{words[kind + 's']}{words['space']}"
    return head + words["sep"].join(shown[:-1]) + words["and"] + shown[-1]


FIGURE_LIST = "figures"  # the annex table listing every figure with its counterpart in the KPMG report


def _figure_list(
    numbers: Mapping[str, Numbered], registered: Mapping[str, Figure], lang: str, t: Mapping[str, Any]
) -> ContextTable:
    """One row per figure of the edition (and per table that stands for a figure of the KPMG report), in order of
    appearance: its number and title here and its counterpart in the KPMG report ('—' where none)."""
    c, words = t["columns"], t["xref"]
    rows = []
    for fid, n in numbers.items():
        figure = registered.get(fid)
        if figure is None or (n.kind == "table" and figure.seed_figure is None):
            continue
        seed = figure.seed_figure
        rows.append(
            (
                _cell(f"{t[n.kind]}{words['space']}{n.number}"),
                _cell(figure.title(lang)),
                _cell(t["counterpart"].format(number=seed) if seed is not None else "—"),
            )
        )
    return ContextTable(
        header=(c["exhibit"], c["title"], c["counterpart"]), rows=tuple(rows), source_ids=(), flagged=False
    )


def figure_kinds() -> dict[str, str]:
    """{figure id: chart or table} of the registered figures."""
    return {fid: f.kind for fid, f in figures().items()}


def edition_view(ctx: ReportContext, lang: str, chart_paths: Mapping[str, Path]) -> EditionView:
    """Everything a template renders for one language: the pages' prose with their references resolved, numbered
    captions, tables."""
    t = catalog(lang)
    registered = figures()
    context_tables = _context_tables(ctx, lang, t)
    chapters = read_chapters([p for p in ctx.pages if p.lang == lang], figure_kinds())
    numbers = numbering(chapters)
    context_tables[FIGURE_LIST] = _figure_list(numbers, registered, lang, t)
    shown: list[str] = []

    def number(ref: NumberRef) -> str:
        fact = ctx.facts[ref.key]
        if ref.year_only:
            return str(fact.year)
        text = prose_text(fact, ctx.facts, lang, t)
        shown.append(text)
        return text

    resolver = Resolver(
        number=number,
        qualified=lambda ref: not ref.year_only and opens_with_qualifier(ctx.facts[ref.key], t),
        xref=lambda ref: _xref_label(ref, numbers, t),
        copulas=tuple(t["copulas"]),
    )

    def block(d: Directive) -> Block:
        key, n = d.id, numbers[d.id].number
        if d.kind == "figure":
            data = ctx.figures[key]
            return FigureBlock(
                id=key,
                number=n,
                title=registered[key].title(lang),
                image=image_url(chart_paths[key]),
                flagged=data.flagged,
                assumption=assumption_tag(statuses(data.body), t),
                source_line=_citation(ctx, data.source_ids, lang, t),
                note=registered[key].note(data, lang),
            )
        if key in registered:
            data = ctx.figures[key]
            body = registered[key].table(data, lang)
            table = ContextTable(
                header=body.header,
                rows=body.rows,
                source_ids=data.source_ids,
                flagged=data.flagged,
                css_class=body.css_class,
            )
            title, tag = registered[key].title(lang), assumption_tag(statuses(data.body), t)
        else:
            table = context_tables[key]
            title = t["tables"][key]
            tag = assumption_tag(_source_statuses(ctx, table.source_ids), t)
        return TableBlock(
            id=key,
            number=n,
            title=title,
            header=table.header,
            rows=table.rows,
            flagged=table.flagged,
            assumption=tag,
            widths=tuple(column_widths(table.header, table.rows, table.css_class)),
            css_class=table.css_class,
            source_line=_citation(ctx, table.source_ids, lang, t),
        )

    def prose(html_text: str) -> Paragraph:
        return Paragraph(html=html_text, text=html.unescape(re.sub(r"<[^>]+>", "", html_text)).strip())

    sections = {
        appendix: tuple(
            Section(
                id=c.page.chapter,
                heading=c.heading,
                blocks=tuple(prose(p) if isinstance(p, str) else block(p) for p in render_chapter(c, resolver)),
            )
            for c in chapters
            if c.page.appendix == appendix
        )
        for appendix in (False, True)
    }
    return EditionView(
        lang=lang,
        titles=next(e for e in ctx.editions if e.lang == lang),
        t=t,
        meta=ctx.meta,
        cover_date=fmt.month_year(ctx.meta.published, lang),
        sections=sections[False],
        appendix=sections[True],
        images={image_url(path): path for path in chart_paths.values()},
        numbers=tuple(sorted(set(shown))),
        refs={fid: n.number for fid, n in numbers.items()},
    )
