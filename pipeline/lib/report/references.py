"""The syntax of the report's Markdown pages beyond CommonMark (docs/write-a-report.md): inline references to
numbers and to figures and tables, and the one-line figure and table directives.

    {v:SERIES/GEO[/SEGMENT]@YEAR|latest}   a value          {y:…same reference…}          its year
    {g:SERIES/GEO[/SEGMENT]@Y1..Y2}        average growth    {f:SERIES/GEO[/SEGMENT]@YEAR[:low|base|high]}
    {c:CLAIM_ID.FIELD}                     a claim's field   {fact:NAME}                    a fact of facts.yaml
    {ref:ID[,ID…]}                         "图5" / "Figure 5"
    ::: figure ID   /   ::: table ID       (on a line of their own)

`markdown()` is the parser: markdown-it-py (CommonMark, raw HTML off) with a block rule for the directives and an
inline rule that turns each reference into a `numref` or `xref` token (or a `ref_error` token naming what is
malformed), so a `{` never reaches a reader unresolved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline

from pipeline.lib.report.facts import CLAIM_FIELDS, FactQuery

KINDS = ("v", "y", "g", "f", "c", "fact", "ref")
_ID = r"[A-Za-z0-9_]+"
_YEAR = r"\d{4}|latest"
_SERIES = rf"(?P<series>{_ID})/(?P<geo>{_ID})(?:/(?P<segment>{_ID}))?"
_PATTERNS = {
    "v": (re.compile(rf"{_SERIES}@(?P<year>{_YEAR})"), "{v:SERIES/GEO[/SEGMENT]@YEAR|latest}"),
    "g": (re.compile(rf"{_SERIES}@(?P<from>{_YEAR})\.\.(?P<year>{_YEAR})"), "{g:SERIES/GEO[/SEGMENT]@Y1..Y2}"),
    "f": (
        re.compile(rf"{_SERIES}@(?P<year>\d{{4}})(?::(?P<scenario>low|base|high))?"),
        "{f:SERIES/GEO[/SEGMENT]@YEAR[:low|base|high]}",
    ),
    "c": (re.compile(rf"(?P<claim>{_ID})\.(?P<field>{'|'.join(CLAIM_FIELDS)})"), "{c:CLAIM_ID.FIELD}"),
    "fact": (re.compile(rf"(?P<name>{_ID})"), "{fact:NAME}"),
    "ref": (re.compile(rf"{_ID}(?:,{_ID})*"), "{ref:ID[,ID…]}"),
}
_REFERENCE = re.compile(r"\{(?P<kind>[a-z]+):(?P<body>[^{}\s]*)\}")
_OPENING = re.compile(r"\{[a-z]+:")


class MalformedReference(ValueError):
    """A `{…}` in a page that is no reference of the grammar (the message shows the expected form)."""


@dataclass(frozen=True, kw_only=True)
class NumberRef:
    """A number of the prose: the query it names, the fact's key in the context (a fact's name for `{fact:…}`),
    and whether the page shows its year (`{y:…}`) rather than its value."""

    text: str
    key: str
    query: FactQuery | None
    year_only: bool = False


@dataclass(frozen=True, kw_only=True)
class CrossRef:
    """A reference to numbered figures or tables by id."""

    text: str
    ids: tuple[str, ...]


Reference = NumberRef | CrossRef


def _year(text: str) -> int | Literal["latest"]:
    return "latest" if text == "latest" else int(text)


def _number(kind: str, body: str, text: str) -> NumberRef:
    pattern, form = _PATTERNS[kind]
    m = pattern.fullmatch(body)
    if m is None:
        raise MalformedReference(f"malformed reference {text}: expected {form}")
    if kind == "fact":
        return NumberRef(text=text, key=m["name"], query=None)
    if kind == "c":
        query = FactQuery(kind="headline", claim=m["claim"], field=m["field"])
        return NumberRef(text=text, key=f"c:{m['claim']}.{m['field']}", query=query)
    where = {"series": m["series"], "geography": m["geo"], "segment": m["segment"] or "total"}
    name = f"{m['series']}/{m['geo']}/{where['segment']}"
    if kind == "v":
        query = FactQuery(**where, year=_year(m["year"]))
        return NumberRef(text=text, key=f"v:{name}@{m['year']}", query=query)
    if kind == "g":
        query = FactQuery(kind="growth", **where, from_year=_year(m["from"]), year=_year(m["year"]))
        return NumberRef(text=text, key=f"g:{name}@{m['from']}..{m['year']}", query=query)
    scenario = m["scenario"] or "base"
    query = FactQuery(kind="projection", **where, year=int(m["year"]), scenario=scenario)
    return NumberRef(text=text, key=f"f:{name}@{m['year']}:{scenario}", query=query)


def parse_reference(text: str) -> Reference:
    """One `{kind:body}` reference as a typed record; MalformedReference says what is wrong."""
    m = _REFERENCE.fullmatch(text)
    if m is None:
        raise MalformedReference(f"malformed reference {text}: expected {{kind:…}} with no spaces or braces inside")
    kind, body = m["kind"], m["body"]
    if kind not in KINDS:
        raise MalformedReference(f"malformed reference {text}: unknown kind {kind!r} (one of {', '.join(KINDS)})")
    if kind == "ref":
        if not _PATTERNS["ref"][0].fullmatch(body):
            raise MalformedReference(f"malformed reference {text}: expected {_PATTERNS['ref'][1]}")
        return CrossRef(text=text, ids=tuple(body.split(",")))
    if kind == "y":
        inner_kind, _, inner = body.partition(":")
        if inner_kind in ("fact", "c", "f", "g", "v") and inner:
            ref = _number(inner_kind, inner, text)
        else:
            ref = _number("v", body, text)
        return NumberRef(text=text, key=ref.key, query=ref.query, year_only=True)
    return _number(kind, body, text)


# --- the markdown-it rules ---------------------------------------------------------------------------------------

_DIRECTIVE = re.compile(r":::\s*(?P<kind>figure|table)\s+(?P<id>[A-Za-z0-9_]+)\s*")


def _directive(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """`::: figure ID` / `::: table ID` on a line of its own: a `directive` token (meta kind, id; or error)."""
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    line = state.src[state.bMarks[start] + state.tShift[start] : state.eMarks[start]]
    if not line.startswith(":::"):
        return False
    if silent:
        return True
    token = state.push("directive", "", 0)
    m = _DIRECTIVE.fullmatch(line)
    token.meta = (
        {"kind": m["kind"], "id": m["id"]}
        if m
        else {"error": f"malformed directive {line.strip()!r}: expected '::: figure ID' or '::: table ID'"}
    )
    token.map = [start, start + 1]
    state.line = start + 1
    return True


def _reference(state: StateInline, silent: bool) -> bool:
    """At a `{`: a `numref` / `xref` token (meta: ref, line offset in the block), or a `ref_error` token."""
    if state.src[state.pos] != "{":
        return False
    m = _REFERENCE.match(state.src, state.pos)
    if m is None:
        close = state.src.find("}", state.pos)
        stop = close + 1 if close != -1 and (close - state.pos) < 60 else min(len(state.src), state.pos + 30)
        text = state.src[state.pos : stop]
        message = (
            f"malformed reference {text}: expected {{kind:…}} with no spaces or braces inside"
            if _OPENING.match(text)
            else f"unexpected '{{' in {text!r}: a reference is {{kind:…}}; write \\{{ for a brace"
        )
        end = state.pos + 1
    else:
        end, text = m.end(), m.group(0)
        try:
            ref = parse_reference(text)
            message = None
        except MalformedReference as exc:
            message = str(exc)
    if not silent:
        offset = state.src.count("\n", 0, state.pos)
        if message is None:
            token = state.push("numref" if isinstance(ref, NumberRef) else "xref", "", 0)
            token.meta = {"ref": ref, "offset": offset}
        else:
            token = state.push("ref_error", "", 0)
            token.meta = {"error": message, "offset": offset}
        token.content = text
    state.pos = end
    return True


def _cjk(ch: str) -> bool:
    return "\u2e80" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" or "\u3000" <= ch <= "\u303f"


def _softbreak(self: Any, tokens: list, idx: int, options: Any, env: dict) -> str:
    """A line break inside a paragraph: nothing between Chinese characters (a space would show), else a space."""
    before = tokens[idx - 1].content[-1:] if idx > 0 else ""
    after = tokens[idx + 1].content[:1] if idx + 1 < len(tokens) else ""
    return "" if _cjk(before) or _cjk(after) else "\n"


def markdown() -> MarkdownIt:
    """The pages' parser: CommonMark without raw HTML, plus the directive and reference rules."""
    md = MarkdownIt("commonmark", {"html": False})
    md.block.ruler.before(
        "fence", "report_directive", _directive, {"alt": ["paragraph", "reference", "blockquote", "list"]}
    )
    md.inline.ruler.before("emphasis", "report_reference", _reference)
    md.add_render_rule("softbreak", _softbreak)
    return md
