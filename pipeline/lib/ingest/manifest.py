"""The sources manifest (`sources/manifest.yaml`) and the catalogues beside it (series, labels)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.lib import yamlio
from pipeline.lib.errors import Problem, SourceError

MANIFEST_FILE = "manifest.yaml"
SERIES_FILE = "series.csv"
LABELS_FILE = "labels.csv"
META_FILES = frozenset({MANIFEST_FILE, SERIES_FILE, LABELS_FILE, "README.md"})
STATUSES = ("solid", "approximate", "derived", "seed", "assumption", "estimate", "forecast")
# Statuses a year marker sets (2022E, 2025F, 2022年（预计）): such values are never read as actuals.
NOT_ACTUAL_STATUSES = ("estimate", "forecast")
TABLE_SUFFIXES = (".csv", ".xlsx", ".xlsm")
KINDS = ("observations", "reference", "fx")
LAYOUTS = ("long", "wide")
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,62}$")


@dataclass(frozen=True)
class KeyDoc:
    """One key of a manifest entry: the validator refuses keys not listed here, requires the required ones, and
    sources/README.md documents them from this list (`manifest_docs`), so the two cannot drift apart."""

    name: str
    required: bool
    meaning: str
    example: str = ""


ENTRY_KEYS = (
    KeyDoc("id", True, "snake_case, unique; becomes `raw.<id>` and `tidy.<id>`", "cloud_market_2023"),
    KeyDoc(
        "file", True, "the table's file name in sources/ (a plain name: no folders, no `..`)", "cloud_market_2023.csv"
    ),
    KeyDoc(
        "publisher",
        True,
        "`中文名 (English name)`: the zh edition shows the first part, the en edition the "
        "bracket; a name without Chinese is shown as it is",
        "中国信息通信研究院 (CAICT)",
    ),
    KeyDoc("title_zh", True, "the table's title in Chinese", "云计算白皮书（2023年）：中国云计算市场规模"),
    KeyDoc("title_en", True, "the table's title in English", "Cloud Computing White Paper (2023): China cloud market"),
    KeyDoc("published", True, "publication date of the table (YYYY-MM-DD) = its vintage", "2023-07-25"),
    KeyDoc(
        "reference",
        True,
        "where the numbers sit in their publication: a locator or a `中文 / English` phrase (below)",
        "白皮书第12页 / white paper, p. 12",
    ),
    KeyDoc("status", True, "default status of the values (table below); a `status` column overrides per row", "solid"),
    KeyDoc(
        "kind",
        False,
        "`observations` (numbers → core.observations, default), `reference` (a text table, kept in raw only) or `fx`",
        "observations",
    ),
    KeyDoc("measure", False, "what is measured, in words", "market size"),
    KeyDoc(
        "unit",
        False,
        "default unit when neither a unit column, a header, a row label nor a `单位：` title row gives one",
        "亿元",
    ),
    KeyDoc("layout", False, "`long` (a year column, default) or `wide` (one column per year)", "wide"),
    KeyDoc("series", False, "default series when the file has no series column", "cloud_market"),
    KeyDoc("geography", False, "default geography when neither a geography column nor the row label gives one", "CN"),
    KeyDoc("segment", False, "default segment (default `total`)", "total"),
    KeyDoc("encoding", False, "CSV encoding: `utf-8` (default) or `gbk` for GBK/GB18030 exports", "gbk"),
    KeyDoc("sheet", False, "XLSX only: the sheet to read (default: the first)", "数据"),
    KeyDoc("header_rows", False, "XLSX only: rows of the (merged) header, default 1", "2"),
    KeyDoc(
        "columns",
        False,
        "map a header to a role (column roles below), also to override a header the built-in "
        "names already know, or `ignore` to skip a column",
        "{口径说明: ignore, 指标名称: series}",
    ),
    KeyDoc(
        "rows",
        False,
        "map a row label, for this table only, to a series id, or `ignore` to keep the row in raw only (a total row)",
        "{合计: ignore}",
    ),
    KeyDoc(
        "dataset",
        False,
        "tables sharing a dataset are vintages of one table: a newer release gets its own "
        "entry, a later `published` date and the same `dataset`; the report uses the latest",
        "fig11_market_size",
    ),
    KeyDoc("url", False, "where the publication can be found", ""),
    KeyDoc("note", False, "anything a reader of the sources appendix should know", ""),
    KeyDoc(
        "accept_outliers",
        False,
        "values outside the intake bounds that are right, each with why (docs/add-a-source.md)",
        "[{series: cloud_market, year: 2022, reason: ...}]",
    ),
)
REQUIRED_KEYS = tuple(k.name for k in ENTRY_KEYS if k.required)
CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
BILINGUAL_NAME = re.compile(r"^(?P<zh>[^()]+?)\s*\((?P<en>[^()]+)\)$")


def publisher_in(publisher: str, lang: str) -> str:
    """The publisher's name in `lang`: "中国信息通信研究院 (CAICT)" gives the part before the brackets in zh and
    the part inside them in en; a name without Chinese characters is the same in both."""
    match = BILINGUAL_NAME.match(publisher.strip()) if CJK.search(publisher) else None
    return publisher if match is None else match["zh" if lang == "zh" else "en"].strip()


def publisher_problem(publisher: str) -> str | None:
    """Why a publisher name cannot be shown in both editions (None if it can)."""
    if not CJK.search(publisher):
        return None
    match = BILINGUAL_NAME.match(publisher.strip())
    if match is None or CJK.search(match["en"]):
        return (
            f"publisher {publisher!r} has Chinese characters but does not read '中文名 (English name)'; the "
            "English edition shows the part in brackets"
        )
    return None


SEED_FIGURE = re.compile(r"(?<!KPMG )(图\s*|Figures?\s+)(\d+)")
SEED_FIGURE_PAIR = re.compile(r"图\s*(\d+)\s*/\s*Figure\s+(\d+)")
BILINGUAL_PHRASE = re.compile(r"^(?P<zh>[^/;]*[\u4e00-\u9fff][^/;]*?)\s*/\s*(?P<en>[^/;\u4e00-\u9fff]+)$")
# The locator words of a `reference`, in the Chinese edition (applied in this order).
ZH_LOCATOR = (
    (re.compile(r"\bsections?\s+"), ""),
    (re.compile(r"\s*\(p\. (\d+) ff\.\)"), r"（第\1页起）"),
    (re.compile(r"\s*\(pp?\. ([\d-]+)\)"), r"（第\1页）"),
    (re.compile(r"\bpp?\. ([\d-]+)"), r"第\1页"),
    (re.compile(r"(?<=, )(\d+) ff\."), r"第\1页起"),
    (re.compile(r"\s*\bcase (\d+)"), r" 案例\1"),
    (re.compile(r"(?<=[\u4e00-\u9fff]) to (?=[\u4e00-\u9fff])"), "至"),
    (re.compile(r",? and the abstract$"), "及摘要"),
    (re.compile(r", "), "、"),
)
ZH_KEPT_WORDS = frozenset({"KPMG", "source"})  # allowed in the Chinese edition's locator (a name, a column)


def reference_in(reference: str, lang: str) -> str:
    """Where in the seed report, for one edition: a '图11 / Figure 11' becomes 'KPMG 图11' (zh) or 'KPMG fig. 11'
    (en), a whole '中文 / English' phrase its language's half, any other figure number of the seed is marked
    'KPMG' (so that none is read as a figure of this report), and in zh the locator words are translated
    ('section 04 识局 (p. 29 ff.)' → '04 识局（第29页起）')."""
    text = SEED_FIGURE_PAIR.sub(lambda m: f"KPMG 图{m[1]}" if lang == "zh" else f"KPMG fig. {m[2]}", reference)
    phrase = BILINGUAL_PHRASE.match(text.strip())
    if phrase:
        return phrase["zh" if lang == "zh" else "en"].strip()
    text = SEED_FIGURE.sub(lambda m: f"KPMG {'图' if m.group(1).startswith('图') else 'fig. '}{m.group(2)}", text)
    if lang == "zh":
        for pattern, replacement in ZH_LOCATOR:
            text = pattern.sub(replacement, text)
    return text


def reference_problem(reference: str) -> str | None:
    """Why a reference cannot be shown in the Chinese edition (None if it can): words outside the locator
    grammar stay English there."""
    words = sorted(set(re.findall(r"[A-Za-z]{2,}", reference_in(reference, "zh"))) - ZH_KEPT_WORDS)
    if not words:
        return None
    return (
        f"reference {reference!r} has words the Chinese edition cannot show ({', '.join(words)}): write a "
        "locator (图N / Figure N, section NN 名 (p. N ff.), pp. A-B, case N, 案例一 to 案例三, and the abstract) "
        "or a whole '中文 / English' phrase, and put explanations in note"
    )


@dataclass(frozen=True)
class OutlierAcceptance:
    """An entry's explicit acceptance of one value outside the intake bounds (`accept_outliers:`), with why."""

    series: str
    year: int
    reason: str
    geography: str | None = None
    segment: str | None = None

    def matches(self, series: str, geography: str, segment: str, year: int) -> bool:
        """Whether this acceptance covers the observation (a missing geography/segment matches any)."""
        return (
            self.series == series
            and self.year == year
            and self.geography in (None, geography)
            and self.segment in (None, segment)
        )


ACCEPTANCE_KEYS = ("series", "year", "reason", "geography", "segment")


def plain_file_name_problem(name: object) -> str | None:
    """Why `name` cannot be a table's file name inside sources/ (None if it can): a plain name, no folders, no
    `..`, not absolute, not hidden or a catalogue, with a table suffix."""
    accepted = f"a plain file name such as `cloud_market_2023.csv` ({', '.join(TABLE_SUFFIXES)}) inside sources/"
    if not isinstance(name, str) or not name.strip():
        return f"file {name!r} is not a file name; expected {accepted}"
    if "/" in name or "\\" in name or "\0" in name or name in (".", ".."):
        return f"file {name!r} names a path, not a file; expected {accepted}"
    if name.startswith((".", "_")):
        return f"file {name!r} starts with '.' or '_' (names the pipeline ignores); expected {accepted}"
    if name in META_FILES:
        return f"file {name!r} is a catalogue of sources/, not a table; expected {accepted}"
    if Path(name).suffix.lower() not in TABLE_SUFFIXES:
        return f"file {name!r} has no table suffix; expected {accepted}"
    return None


def _acceptances(raw: object) -> tuple[tuple[OutlierAcceptance, ...], list[str]]:
    """The `accept_outliers` list of an entry, and why any item of it cannot be read."""
    if raw in (None, []):
        return (), []
    if not isinstance(raw, list):
        return (), ["accept_outliers must be a list of {series, year, reason} mappings"]
    out, problems = [], []
    for n, item in enumerate(raw, start=1):
        where = f"accept_outliers item {n}"
        if not isinstance(item, dict):
            problems.append(f"{where} must be a mapping with series, year and reason")
            continue
        unknown = sorted(set(map(str, item)) - set(ACCEPTANCE_KEYS))
        missing = [k for k in ("series", "year", "reason") if item.get(k) in (None, "")]
        if unknown or missing:
            problems.append(
                f"{where}: "
                + "; ".join(
                    ([f"unknown key(s) {unknown}"] if unknown else []) + ([f"missing {missing}"] if missing else [])
                )
                + " (keys: series, year, reason, optional geography and segment)"
            )
            continue
        if not isinstance(item["year"], int) or isinstance(item["year"], bool):
            problems.append(f"{where}: year {item['year']!r} must be a whole year such as 2021")
            continue
        if len(str(item["reason"]).strip()) < 10:
            problems.append(f"{where}: give a reason a reviewer can check (at least 10 characters)")
            continue
        out.append(
            OutlierAcceptance(
                str(item["series"]),
                item["year"],
                str(item["reason"]).strip(),
                None if item.get("geography") is None else str(item["geography"]),
                None if item.get("segment") is None else str(item["segment"]),
            )
        )
    return tuple(out), problems


@dataclass(frozen=True)
class TableSpec:
    """One manifest entry: a source table, where it comes from and how to read it."""

    id: str
    file: str
    publisher: str
    title_zh: str
    title_en: str
    published: dt.date
    reference: str
    status: str
    kind: str = "observations"
    measure: str = ""
    unit: str | None = None
    layout: str = "long"
    series: str | None = None
    geography: str | None = None
    segment: str = "total"
    encoding: str = "utf-8"
    sheet: str | None = None
    header_rows: int = 1
    columns: dict[str, str] = field(default_factory=dict)
    rows: dict[str, str] = field(default_factory=dict)
    dataset: str | None = None
    url: str | None = None
    note: str | None = None
    accept_outliers: tuple[OutlierAcceptance, ...] = ()

    @property
    def dataset_id(self) -> str:
        """Tables sharing a dataset id are vintages of one table."""
        return self.dataset or self.id

    def path(self, sources_dir: Path) -> Path:
        """Absolute path of the file (checked to stay inside `sources_dir` by `load_manifest`)."""
        return (sources_dir / self.file).resolve()

    @property
    def entry_sha256(self) -> str:
        """Hash of the entry itself: editing how a table is read (unit, columns, ...) is a change like a new
        file, even when the file's bytes stay the same."""
        fields = dataclasses.asdict(self)
        for key in ("accept_outliers", "rows"):  # keep the hashes of entries written before these keys existed
            if not fields[key]:
                del fields[key]
        text = json.dumps(fields, sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _entry_lines(text: str) -> list[int]:
    """Line number (1-based) where each entry of `tables:` starts, for error messages."""
    try:
        root = yamlio.compose(text)
    except yaml.YAMLError:
        return []
    for key, value in getattr(root, "value", []):
        if getattr(key, "value", None) == "tables" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _entry_problems(
    entry: dict[str, Any],
    index: int,
    sources_dir: Path,
    where: str,
    line: int | None = None,
    key_lines: dict[str, int] | None = None,
) -> list[Problem]:
    """Problems of one entry: `line` is where it starts in `where`; with `key_lines` (an entry file of its own)
    each problem names the line of its key instead."""
    problems: list[Problem] = []
    label = f"entry {index + 1} (id {entry.get('id')!r})"

    def bad(msg: str, key: str | None = None) -> None:
        if key_lines is None:
            problems.append(Problem(where, f"{label}: {msg}", row=line, column=key))
        else:
            problems.append(Problem(where, msg, row=key_lines.get(key or "", line), column=key))

    for key in REQUIRED_KEYS:
        if entry.get(key) in (None, ""):
            bad(f"missing required key {key!r}", key)
    if problems:
        return problems
    if not ID_PATTERN.match(str(entry["id"])):
        bad("id must be snake_case ascii (a-z, 0-9, _), starting with a letter", "id")
    target = (sources_dir / str(entry["file"])).resolve()
    if not target.is_relative_to(sources_dir.resolve()):
        bad(f"file {entry['file']!r} points outside sources/; keep every table inside sources/", "file")
    elif not target.is_file():
        bad(f"file {entry['file']!r} does not exist in sources/", "file")
    if (why := publisher_problem(str(entry["publisher"]))) is not None:
        bad(why, "publisher")
    if (why := reference_problem(str(entry["reference"]))) is not None:
        bad(why, "reference")
    if entry["status"] not in STATUSES:
        bad(f"status {entry['status']!r} is not one of {', '.join(STATUSES)}", "status")
    if entry.get("kind", "observations") not in KINDS:
        bad(f"kind {entry.get('kind')!r} is not one of {', '.join(KINDS)}", "kind")
    if entry.get("layout", "long") not in LAYOUTS:
        bad(f"layout {entry.get('layout')!r} is not one of {', '.join(LAYOUTS)}", "layout")
    if not isinstance(entry["published"], dt.date):
        try:
            dt.date.fromisoformat(str(entry["published"]))
        except ValueError:
            bad(f"published {entry['published']!r} is not an ISO date (YYYY-MM-DD)", "published")
    if not isinstance(entry.get("rows") or {}, dict):
        bad("rows must map a row label to a series id or `ignore`, e.g. {合计: ignore}", "rows")
    for why in _acceptances(entry.get("accept_outliers"))[1]:
        bad(why, "accept_outliers")
    unknown = set(map(str, entry)) - {k.name for k in ENTRY_KEYS}
    if unknown:
        bad(
            f"unknown key(s) {sorted(unknown)}; the keys are {', '.join(k.name for k in ENTRY_KEYS)} "
            "(sources/README.md)",
            sorted(unknown)[0],
        )
    return problems


def key_lines(text: str) -> dict[str, int]:
    """Line (1-based) of each top-level key of a YAML mapping document (an entry file), for messages."""
    try:
        root = yamlio.compose(text)
    except yaml.YAMLError:
        return {}
    return {
        str(key.value): key.start_mark.line + 1
        for key, _ in getattr(root, "value", [])
        if isinstance(root, yaml.MappingNode)
    }


def entry_file_problems(entry: dict[str, Any], text: str, sources_dir: Path, where: str) -> list[Problem]:
    """Problems of a manifest entry kept in a file of its own (`reportctl add-source --entry`), each naming that
    file and the line of the key at fault."""
    return _entry_problems(entry, 0, sources_dir, where, line=1, key_lines=key_lines(text))


OWN_STATUSES = ("assumption", "derived")


def load_manifest(sources_dir: Path) -> list[TableSpec]:
    """Read and validate the manifest; raise SourceError listing every bad entry."""
    path = sources_dir / MANIFEST_FILE
    where = f"sources/{MANIFEST_FILE}"
    if not path.is_file():
        raise SourceError(Problem(where, "manifest not found"))
    try:
        text = path.read_text(encoding="utf-8")
        doc = yamlio.load(text) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SourceError(Problem(where, f"not valid UTF-8 YAML: {exc}")) from exc
    entries = doc.get("tables") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise SourceError(Problem(where, "expected a top-level key 'tables' holding a list of entries"))
    problems: list[Problem] = []
    specs: list[TableSpec] = []
    seen: set[str] = set()
    lines = _entry_lines(text)
    for i, entry in enumerate(entries):
        line = lines[i] if i < len(lines) else None
        if not isinstance(entry, dict):
            problems.append(Problem(where, f"entry {i + 1} is not a mapping of keys", row=line))
            continue
        entry_problems = _entry_problems(entry, i, sources_dir, where, line)
        if entry.get("id") in seen:
            entry_problems.append(Problem(where, f"entry {i + 1}: duplicate id {entry['id']!r}", row=line, column="id"))
        seen.add(entry.get("id"))
        problems += entry_problems
        if not entry_problems:
            values = dict(entry)
            if not isinstance(values["published"], dt.date):
                values["published"] = dt.date.fromisoformat(str(values["published"]))
            values["columns"] = {str(k): str(v) for k, v in (values.get("columns") or {}).items()}
            values["rows"] = {str(k): str(v) for k, v in (values.get("rows") or {}).items()}
            values["accept_outliers"] = _acceptances(values.get("accept_outliers"))[0]
            specs.append(TableSpec(**{k: v for k, v in values.items()}))
    problems += _dating_problems(specs, lines, where)
    if problems:
        raise SourceError(problems)
    return specs


def _dating_problems(specs: list[TableSpec], lines: list[int], where: str) -> list[Problem]:
    """Tables of our own (assumptions, derived values) are dated by their inputs or the edition: never later than
    the latest table someone else published."""
    published = [s.published for s in specs if s.status not in OWN_STATUSES]
    if not published:
        return []
    latest = max(published)
    return [
        Problem(
            where,
            f"{s.id}: published {s.published} is later than every published input (latest {latest}); date a table "
            "of assumptions or derived values by its inputs or the edition, not by the day it was written",
            row=lines[i] if i < len(lines) else None,
            column="published",
        )
        for i, s in enumerate(specs)
        if s.status in OWN_STATUSES and s.published > latest
    ]


def unlisted_files(sources_dir: Path, specs: list[TableSpec]) -> list[str]:
    """Files in sources/ that no manifest entry names (meta files and hidden names excepted; `_` names count:
    a scratch file is still a file the pipeline must not take by surprise)."""
    listed = {spec.path(sources_dir) for spec in specs}
    out = []
    for path in sorted(sources_dir.rglob("*")):
        rel = path.relative_to(sources_dir)
        if not path.is_file() or rel.as_posix() in META_FILES:
            continue
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.resolve() not in listed:
            out.append(rel.as_posix())
    return out


def read_catalog(sources_dir: Path, name: str, required: tuple[str, ...]) -> list[dict[str, str]]:
    """Read a UTF-8 CSV catalogue (series.csv, labels.csv), checking its header."""
    path = sources_dir / name
    where = f"sources/{name}"
    if not path.is_file():
        raise SourceError(Problem(where, "catalogue file not found"))
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise SourceError(Problem(where, f"missing column(s) {missing}", row=1))
        return [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]
