"""The report as a folder (report_templates/computing_power/): `report.yaml` (the editions' titles and the chapter
order) and one Markdown page per chapter per language (`zh/01-background.md`, `en/01-background.md`, …).

`load_report` reads them, `read_chapters` parses and checks them (blocking: file:line and what is wrong, all at
once, as an `AuthoringError`), `resolve_numbers` queries every number they reference, and `render_chapter`
turns a chapter into HTML runs and directives for the edition view. The syntax is in `references.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token
from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.config import PROJECT_ROOT, templates_dir
from pipeline.lib import yamlio
from pipeline.lib.report.facts import FactError, FactQuery, named_queries, resolve_fact
from pipeline.lib.report.records import EditionTitles, Fact, Page
from pipeline.lib.report.references import CrossRef, NumberRef, Reference, markdown

if TYPE_CHECKING:
    import duckdb

LANGS = ("zh", "en")
REPORT = "computing_power"
# the tables made from the context (pipeline/lib/report/context.py), besides the figures' own tables
CONTEXT_TABLES = ("headlines", "sources", "assumptions", "backtest_errors", "glossary", "changes", "figures")


class AuthoringError(ValueError):
    """Problems in the report's pages, each 'file:line: what is wrong'."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"the report's pages have {len(problems)} problem(s):\n  " + "\n  ".join(problems))


class _Edition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    title: str
    subtitle: str
    author: str


class _Definition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    editions: dict[str, _Edition]
    chapters: list[str]
    appendix: list[str] = []


def report_dir() -> Path:
    """The report's folder."""
    return templates_dir() / REPORT


def shown_path(path: Path) -> str:
    """A file as the messages name it: relative to the project where it is inside it."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def load_report(folder: Path | None = None) -> tuple[tuple[EditionTitles, ...], tuple[Page, ...]]:
    """The editions' titles and every page (chapters, then the appendix; per chapter one page per language)."""
    folder = folder or report_dir()
    definition_path = folder / "report.yaml"
    try:
        definition = _Definition.model_validate(yamlio.load(definition_path.read_text(encoding="utf-8")))
    except ValidationError as exc:
        raise AuthoringError(
            [f"{shown_path(definition_path)}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        ) from None
    problems = []
    if tuple(definition.editions) != LANGS:
        problems.append(f"{shown_path(definition_path)}: editions must be {', '.join(LANGS)} in that order")
    pages, named = [], [*definition.chapters, *definition.appendix]
    for lang in LANGS:
        for chapter in named:
            path = folder / lang / f"{chapter}.md"
            if not path.is_file():
                problems.append(f"{shown_path(path)}: missing (chapter {chapter!r} of report.yaml)")
                continue
            text = path.read_text(encoding="utf-8")
            pages.append(
                Page(
                    chapter=chapter,
                    lang=lang,
                    appendix=chapter in definition.appendix,
                    path=shown_path(path),
                    text=text,
                )
            )
        extra = sorted(p.stem for p in (folder / lang).glob("*.md") if p.stem not in named)
        problems += [f"{shown_path(folder / lang / f'{c}.md')}: not a chapter of report.yaml" for c in extra]
    if problems:
        raise AuthoringError(problems)
    editions = tuple(EditionTitles(lang=lang, **definition.editions[lang].model_dump()) for lang in LANGS)
    return editions, tuple(pages)


@dataclass(frozen=True, kw_only=True)
class Directive:
    """A figure or table placed on a page."""

    kind: Literal["figure", "table"]
    id: str
    line: int


@dataclass(frozen=True, kw_only=True)
class Use:
    """A reference where it is written."""

    ref: Reference
    line: int


@dataclass(frozen=True, kw_only=True)
class Chapter:
    """A parsed page: its heading, the markdown-it tokens after it, its directives and references in order."""

    page: Page
    heading: str
    tokens: tuple[Token, ...]
    directives: tuple[Directive, ...]
    uses: tuple[Use, ...]


def _parse(page: Page, md: MarkdownIt, problems: list[str]) -> Chapter:
    tokens = md.parse(page.text)
    where = page.path
    heading = ""
    if len(tokens) >= 3 and tokens[0].type == "heading_open" and tokens[0].tag == "h1":
        heading, body = tokens[1].content, tokens[3:]
    else:
        problems.append(f"{where}:1: a page starts with its chapter heading ('# heading')")
        body = tokens
    directives, uses = [], []
    block_line = 1
    for token in body:
        if token.map:
            block_line = token.map[0] + 1
        if token.type == "heading_open" and token.tag == "h1":
            problems.append(f"{where}:{block_line}: a second '#' heading (one chapter per page; use '##' inside it)")
        if token.type == "directive":
            if "error" in token.meta:
                problems.append(f"{where}:{block_line}: {token.meta['error']}")
            else:
                directives.append(Directive(kind=token.meta["kind"], id=token.meta["id"], line=block_line))
        for child in token.children or ():
            line = block_line + child.meta.get("offset", 0) if child.meta else block_line
            if child.type == "ref_error":
                problems.append(f"{where}:{line}: {child.meta['error']}")
            elif child.type in ("numref", "xref"):
                uses.append(Use(ref=child.meta["ref"], line=line))
    return Chapter(page=page, heading=heading, tokens=tuple(body), directives=tuple(directives), uses=tuple(uses))


def read_chapters(pages: Iterable[Page], figure_kinds: Mapping[str, str]) -> tuple[Chapter, ...]:
    """Parse every page and check what needs no warehouse: the syntax, the figure and table ids (`figure_kinds`:
    each registered figure's kind, chart or table), cross-references within each edition, and that the editions
    show the same figures and tables in the same order. Raises AuthoringError with every problem found."""
    md = markdown()
    problems: list[str] = []
    chapters = tuple(_parse(page, md, problems) for page in pages)
    for chapter in chapters:
        for d in chapter.directives:
            problems += _directive_problems(d, chapter.page.path, figure_kinds)
    for lang in LANGS:
        own = [c for c in chapters if c.page.lang == lang]
        shown = {d.id: d.kind for c in own for d in c.directives}
        seen: dict[tuple[str, str], str] = {}
        for c in own:
            for d in c.directives:
                at = f"{c.page.path}:{d.line}"
                if (d.kind, d.id) in seen:
                    problems.append(f"{at}: {d.kind} {d.id!r} is already shown at {seen[(d.kind, d.id)]}")
                seen.setdefault((d.kind, d.id), at)
            for use in c.uses:
                if isinstance(use.ref, CrossRef):
                    problems += [
                        f"{c.page.path}:{use.line}: {m}" for m in _xref_problems(use.ref, shown, figure_kinds, lang)
                    ]
    problems += _step_problems(chapters)
    if problems:
        raise AuthoringError(problems)
    return chapters


def _kind_of(fid: str, figure_kinds: Mapping[str, str]) -> str | None:
    if fid in CONTEXT_TABLES:
        return "table"
    kind = figure_kinds.get(fid)
    return None if kind is None else "figure" if kind == "chart" else "table"


def _directive_problems(d: Directive, path: str, figure_kinds: Mapping[str, str]) -> list[str]:
    kind = _kind_of(d.id, figure_kinds)
    if kind is None:
        return [f"{path}:{d.line}: unknown {d.kind} {d.id!r}"]
    if kind != d.kind:
        return [f"{path}:{d.line}: {d.id!r} is a {kind}: write '::: {kind} {d.id}'"]
    return []


def _xref_problems(ref: CrossRef, shown: Mapping[str, str], figure_kinds: Mapping[str, str], lang: str) -> list[str]:
    problems = []
    for fid in ref.ids:
        kind = _kind_of(fid, figure_kinds)
        if kind is None:
            problems.append(f"unknown figure or table {fid!r} in {ref.text}")
        elif fid not in shown:
            problems.append(f"{ref.text} refers to {kind} {fid!r}, which is not in the {lang} edition")
    kinds = {_kind_of(fid, figure_kinds) for fid in ref.ids} - {None}
    if len(kinds) > 1:
        problems.append(f"{ref.text} mixes figures and tables (one reference for each)")
    return problems


def _step_problems(chapters: Sequence[Chapter]) -> list[str]:
    """Where the editions show different figures or tables, or the same ones in another order: the first
    difference of each chapter."""
    problems = []
    by_chapter: dict[str, dict[str, Chapter]] = {}
    for c in chapters:
        by_chapter.setdefault(c.page.chapter, {})[c.page.lang] = c
    first, other = LANGS
    for name, pair in by_chapter.items():
        if set(pair) != set(LANGS):
            continue
        a, b = pair[first].directives, pair[other].directives
        for i in range(max(len(a), len(b))):
            da, db = (a[i] if i < len(a) else None), (b[i] if i < len(b) else None)
            if da is not None and db is not None and (da.kind, da.id) == (db.kind, db.id):
                continue
            (here, lang, d), (there, other_lang, od) = sorted(
                [(pair[first], first, da), (pair[other], other, db)], key=lambda x: x[2] is None
            )
            elsewhere = (
                f"{other_lang} shows {od.kind} {od.id!r} ({there.page.path}:{od.line})"
                if od is not None
                else f"{other_lang} shows nothing more in chapter {name!r}"
            )
            problems.append(
                f"{here.page.path}:{d.line}: the editions are out of step: {lang} shows {d.kind} {d.id!r} here, "
                f"{elsewhere}"
            )
            break
    return problems


def resolve_numbers(con: duckdb.DuckDBPyConnection, chapters: Iterable[Chapter]) -> dict[str, Fact]:
    """Every named fact of facts.yaml and every number the pages reference, keyed by name (`{fact:NAME}`) or by
    the reference's canonical form (`v:cloud_market/CN/total@latest`). Raises AuthoringError naming each
    reference (file:line) the warehouse cannot answer."""
    problems: list[str] = []
    facts: dict[str, Fact] = {}
    facts_file = shown_path(templates_dir() / "facts.yaml")
    try:
        named = named_queries()
    except FactError as exc:
        raise AuthoringError([f"{facts_file}: {exc}"]) from None
    for name, query in named.items():
        try:
            facts[name] = resolve_fact(con, query, facts)
        except FactError as exc:
            problems.append(f"{facts_file}: fact {name!r}: {exc}")
    failed: dict[str, str] = {}
    for chapter in chapters:
        for use in chapter.uses:
            ref = use.ref
            if not isinstance(ref, NumberRef) or ref.key in facts:
                continue
            if ref.key not in failed:
                failed[ref.key] = _resolve_one(con, ref, facts)
            if failed[ref.key]:
                problems.append(f"{chapter.page.path}:{use.line}: {failed[ref.key]} in {ref.text}")
    if problems:
        raise AuthoringError(problems)
    return facts


def _resolve_one(con: duckdb.DuckDBPyConnection, ref: NumberRef, facts: dict[str, Fact]) -> str:
    """Resolve `ref` into `facts`; '' if it worked, else what is wrong."""
    if ref.query is None:
        return f"unknown fact {ref.key!r}"
    try:
        facts[ref.key] = resolve_fact(con, ref.query, facts)
    except FactError as exc:
        return str(exc)
    return ""


def prose_queries() -> dict[str, FactQuery]:
    """Every number of the prose as a query, by its key (the named facts, then the pages' references), read from
    the pages as they are now (without checking them)."""
    md = markdown()
    queries = named_queries()
    for page in load_report()[1]:
        for child in (c for t in md.parse(page.text) for c in t.children or () if c.type == "numref"):
            ref = child.meta["ref"]
            if ref.query is not None:
                queries.setdefault(ref.key, ref.query)
    return queries


def figure_ids(chapters: Iterable[Chapter]) -> set[str]:
    """The ids of every figure and table the pages show."""
    return {d.id for c in chapters for d in c.directives}


@dataclass(frozen=True, kw_only=True)
class Numbered:
    """A figure's or table's number in its edition."""

    kind: Literal["figure", "table"]
    number: int


def numbering(chapters: Iterable[Chapter]) -> dict[str, Numbered]:
    """{id: its number}: figures and tables counted apart, in order of appearance (one edition's chapters in
    reading order)."""
    counters = {"figure": 0, "table": 0}
    numbers = {}
    for c in chapters:
        for d in c.directives:
            counters[d.kind] += 1
            numbers[d.id] = Numbered(kind=d.kind, number=counters[d.kind])
    return numbers


@dataclass(frozen=True, kw_only=True)
class Resolver:
    """How one edition prints references: a number's text (and whether it starts with a qualifier that replaces the
    catalogue's copula), its year, and a cross-reference's label."""

    number: Callable[[NumberRef], str]
    qualified: Callable[[NumberRef], bool]
    xref: Callable[[CrossRef], str]
    copulas: tuple[str, ...]  # words a value that opens with its qualifier replaces: 为, 达到, 达 (longest first)


def _numref(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    from markupsafe import escape

    return str(escape(env["resolver"].number(tokens[idx].meta["ref"])))


def _xref(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    from markupsafe import escape

    return str(escape(env["resolver"].xref(tokens[idx].meta["ref"])))


def _drop_copulas(tokens: Iterable[Token], resolver: Resolver) -> None:
    """'为{v:…}' reads '为1.5万亿元' but '超1.5万亿元', never '为超1.5万亿元' (nor '达到超过…'): the copula before a
    value that opens with its qualifier is left out."""
    copulas = sorted(resolver.copulas, key=len, reverse=True)
    if not copulas:
        return
    for token in tokens:
        children = token.children or []
        for before, child in zip(children, children[1:], strict=False):
            if child.type != "numref" or before.type != "text" or not resolver.qualified(child.meta["ref"]):
                continue
            word = next((c for c in copulas if before.content.endswith(c)), None)
            if word:
                before.content = before.content[: -len(word)]


def render_chapter(chapter: Chapter, resolver: Resolver) -> list[str | Directive]:
    """The chapter's body as HTML runs between its directives, references resolved by `resolver`."""
    md = markdown()
    md.add_render_rule("numref", _numref)
    md.add_render_rule("xref", _xref)
    tokens = [t.copy() for t in chapter.tokens]
    for t in tokens:
        t.children = [c.copy() for c in t.children] if t.children else t.children
        if t.type in ("heading_open", "heading_close"):
            t.tag = f"h{min(int(t.tag[1:]) + 1, 6)}"  # the chapter's title is the section's h2
    _drop_copulas(tokens, resolver)
    parts: list[str | Directive] = []
    run: list[Token] = []
    directives = iter(chapter.directives)
    for token in [*tokens, None]:
        if token is not None and token.type != "directive":
            run.append(token)
            continue
        if run:
            parts.append(md.renderer.render(run, md.options, {"resolver": resolver}))
            run = []
        if token is not None and "error" not in token.meta:
            parts.append(next(directives))
    return parts
