"""The sources manifest (`sources/manifest.yaml`): one `TableSpec` per entry, validated as a pydantic model
(unknown keys refused, each problem naming the line and key)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticUndefined

from pipeline.lib import yamlio
from pipeline.lib.errors import Problem, SourceError
from pipeline.lib.validation import InputModel, validate

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


SEED_FIGURE = re.compile(r"(?<!KPMG )(?<!毕马威报告)(图\s*|Figures?\s+)(\d+)")
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
ZH_KEPT_WORDS = frozenset({"KPMG"})  # allowed in the Chinese edition's locator (a name)
ZH_NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
# The locator words of a `reference`, in the English edition: a section keeps its number, not its Chinese name.
EN_SECTION_NAME = re.compile(r"\b(\d{2})\s+[\u4e00-\u9fff][\u4e00-\u9fff：:]*")
ZH_CASE = re.compile(r"案例([一二三四五六七八九十]+)")
ZH_CASE_RANGE = re.compile(r"案例([一二三四五六七八九十]+) to 案例([一二三四五六七八九十]+)")


def _zh_numeral(text: str) -> int:
    """一 … 十九 as a number."""
    if text.startswith("十"):
        return 10 + (ZH_NUMERALS[text[1]] if len(text) > 1 else 0)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return ZH_NUMERALS[tens] * 10 + (ZH_NUMERALS[ones] if ones else 0)
    return ZH_NUMERALS[text]


def reference_in(reference: str, lang: str) -> str:
    """Where in the seed report, for one edition: a '图11 / Figure 11' becomes '毕马威报告图11' (zh) or 'KPMG fig. 11'
    (en), a whole '中文 / English' phrase its language's half, any other figure number of the seed is marked
    'KPMG' (so that none is read as a figure of this report), and the locator words are translated: in zh
    'section 04 识局 (p. 29 ff.)' → '04 识局（第29页起）', in en the section keeps its number only ('section 04 (p. 29
    ff.)') and '案例一 to 案例十一' reads 'cases 1 to 11'."""
    text = SEED_FIGURE_PAIR.sub(lambda m: f"毕马威报告图{m[1]}" if lang == "zh" else f"KPMG fig. {m[2]}", reference)
    phrase = BILINGUAL_PHRASE.match(text.strip())
    if phrase:
        return phrase["zh" if lang == "zh" else "en"].strip()
    text = SEED_FIGURE.sub(lambda m: f"毕马威报告图{m[2]}" if lang == "zh" else f"KPMG fig. {m[2]}", text)
    if lang == "zh":
        for pattern, replacement in ZH_LOCATOR:
            text = pattern.sub(replacement, text)
        return text
    text = EN_SECTION_NAME.sub(r"\1", text)
    text = ZH_CASE_RANGE.sub(lambda m: f"cases {_zh_numeral(m[1])} to {_zh_numeral(m[2])}", text)
    return ZH_CASE.sub(lambda m: f"case {_zh_numeral(m[1])}", text)


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


class OutlierAcceptance(InputModel):
    """An entry's explicit acceptance of one value outside the intake bounds (`accept_outliers:`), with why."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    series: str = Field(min_length=1, description="the series of the value")
    year: int = Field(description="the year of the value, a whole year such as 2021")
    reason: str = Field(description="why the value is right, at least 10 characters a reviewer can check")
    geography: str | None = Field(None, description="the value's geography (default: any)")
    segment: str | None = Field(None, description="the value's segment (default: any)")

    @model_validator(mode="before")
    @classmethod
    def _blank_is_missing(cls, data: Any) -> Any:
        return _without_blanks(data, ("series", "year", "reason"))

    @field_validator("year", mode="before")
    @classmethod
    def _whole_year(cls, value: Any) -> Any:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"year {value!r} must be a whole year such as 2021")
        return value

    @field_validator("reason", mode="before")
    @classmethod
    def _checkable_reason(cls, value: Any) -> Any:
        if len(str(value).strip()) < 10:
            raise ValueError("give a reason a reviewer can check (at least 10 characters)")
        return str(value).strip()

    def matches(self, series: str, geography: str, segment: str, year: int) -> bool:
        """Whether this acceptance covers the observation (a missing geography/segment matches any)."""
        return (
            self.series == series
            and self.year == year
            and self.geography in (None, geography)
            and self.segment in (None, segment)
        )


def _without_blanks(data: Any, required: Sequence[str]) -> Any:
    """A mapping without its None values and without empty required keys (so that those read as missing)."""
    if not isinstance(data, dict):
        return data
    return {k: v for k, v in data.items() if v is not None and not (k in required and v == "")}


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


def _key(description: str, example: str = "", default: Any = PydanticUndefined, **kwargs: Any) -> Any:
    """A manifest key: what it means and an example, as sources/README.md's key table shows them."""
    return Field(default, description=description, examples=[example] if example else None, **kwargs)


class TableSpec(InputModel):
    """One manifest entry: a source table, where it comes from and how to read it. Its fields are the keys an
    entry may have; sources/README.md's key table is generated from them (`manifest_docs`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    id: str = _key("snake_case, unique; becomes `raw.<id>` and `tidy.<id>`", "cloud_market_2023")
    file: str = _key("the table's file name in sources/ (a plain name: no folders, no `..`)", "cloud_market_2023.csv")
    publisher: str = _key(
        "`中文名 (English name)`: the zh edition shows the first part, the en edition the "
        "bracket; a name without Chinese is shown as it is",
        "中国信息通信研究院 (CAICT)",
    )
    title_zh: str = _key("the table's title in Chinese", "云计算白皮书（2023年）：中国云计算市场规模")
    title_en: str = _key("the table's title in English", "Cloud Computing White Paper (2023): China cloud market")
    published: dt.date = _key("publication date of the table (YYYY-MM-DD) = its vintage", "2023-07-25")
    reference: str = _key(
        "where the numbers sit in their publication: a locator or a `中文 / English` phrase (below)",
        "白皮书第12页 / white paper, p. 12",
    )
    status: Literal[STATUSES] = _key(
        "default status of the values (table below); a `status` column overrides per row", "solid"
    )
    kind: Literal[KINDS] = _key(
        "`observations` (numbers → core.observations, default), `reference` (a text table, kept in raw only) or `fx`",
        "observations",
        "observations",
    )
    measure: str = _key("what is measured, in words", "market size", "")
    unit: str | None = _key(
        "default unit when neither a unit column, a header, a row label nor a `单位：` title row gives one",
        "亿元",
        None,
    )
    layout: Literal[LAYOUTS] = _key("`long` (a year column, default) or `wide` (one column per year)", "wide", "long")
    series: str | None = _key("default series when the file has no series column", "cloud_market", None)
    geography: str | None = _key(
        "default geography when neither a geography column nor the row label gives one", "CN", None
    )
    segment: str = _key("default segment (default `total`)", "total", "total")
    encoding: str = _key("CSV encoding: `utf-8` (default) or `gbk` for GBK/GB18030 exports", "gbk", "utf-8")
    sheet: str | None = _key("XLSX only: the sheet to read (default: the first)", "数据", None)
    header_rows: int = _key("XLSX only: rows of the (merged) header, default 1", "2", 1)
    columns: dict[str, str] = _key(
        "map a header to a role (column roles below), also to override a header the built-in "
        "names already know, or `ignore` to skip a column",
        "{口径说明: ignore, 指标名称: series}",
        default_factory=dict,
    )
    rows: dict[str, str] = _key(
        "map a row label, for this table only, to a series id, or `ignore` to keep the row in raw only (a total row)",
        "{合计: ignore}",
        default_factory=dict,
    )
    dataset: str | None = _key(
        "tables sharing a dataset are vintages of one table: a newer release gets its own "
        "entry, a later `published` date and the same `dataset`; the report uses the latest",
        "fig11_market_size",
        None,
    )
    url: str | None = _key("where the publication can be found", default=None)
    note: str | None = _key("anything a reader of the sources appendix should know", default=None)
    accept_outliers: tuple[OutlierAcceptance, ...] = _key(
        "values outside the intake bounds that are right, each with why (docs/add-a-source.md)",
        "[{series: cloud_market, year: 2022, reason: ...}]",
        (),
    )

    @model_validator(mode="before")
    @classmethod
    def _blank_is_missing(cls, data: Any) -> Any:
        return _without_blanks(data, REQUIRED_KEYS)

    @field_validator("id")
    @classmethod
    def _snake_case(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError(f"id {value!r} must be snake_case ascii (a-z, 0-9, _), starting with a letter")
        return value

    @field_validator("publisher", "reference")
    @classmethod
    def _shown_in_both_editions(cls, value: str, info: ValidationInfo) -> str:
        problem = publisher_problem if info.field_name == "publisher" else reference_problem
        if (why := problem(value)) is not None:
            raise ValueError(why)
        return value

    @field_validator("published", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"published {value!r} is not an ISO date (YYYY-MM-DD)") from None

    @field_validator("rows", mode="before")
    @classmethod
    def _row_map(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise ValueError("rows must map a row label to a series id or `ignore`, e.g. {合计: ignore}")
        return value

    @field_validator("accept_outliers", mode="before")
    @classmethod
    def _acceptance_list(cls, value: Any) -> Any:
        if value == []:
            return ()
        if not isinstance(value, list | tuple):
            raise ValueError("accept_outliers must be a list of {series, year, reason} mappings")
        return value

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
        fields = self.model_dump()
        for key in ("accept_outliers", "rows"):  # keep the hashes of entries written before these keys existed
            if not fields[key]:
                del fields[key]
        text = json.dumps(fields, sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


REQUIRED_KEYS = tuple(name for name, info in TableSpec.model_fields.items() if info.is_required())


class ManifestFile(InputModel):
    """The top level of sources/manifest.yaml."""

    tables: list[Any] = Field(description="one entry per source table, each a mapping of the keys of `TableSpec`")


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


def _entry(
    entry: dict[str, Any],
    index: int,
    sources_dir: Path,
    where: str,
    line: int | None = None,
    key_lines: dict[str, int] | None = None,
) -> tuple[TableSpec | None, list[Problem]]:
    """One entry as a record, or its problems: `line` is where it starts in `where`; with `key_lines` (an entry
    file of its own) each problem names the line of its key instead."""
    label = "" if key_lines is not None else f"entry {index + 1} (id {entry.get('id')!r})"
    spec, problems = validate(TableSpec, entry, where, line, label=label, key_rows=key_lines)
    file = entry.get("file")
    if isinstance(file, str) and file:
        target = (sources_dir / file).resolve()
        why = None
        if not target.is_relative_to(sources_dir.resolve()):
            why = f"file {file!r} points outside sources/; keep every table inside sources/"
        elif not target.is_file():
            why = f"file {file!r} does not exist in sources/"
        if why is not None:
            row = line if key_lines is None else key_lines.get("file", line)
            problems.append(Problem(where, f"{label}: {why}" if label else why, row=row, column="file"))
    return (None if problems else spec), problems


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
    return _entry(entry, 0, sources_dir, where, line=1, key_lines=key_lines(text))[1]


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
    if not isinstance(doc, dict):
        raise SourceError(Problem(where, "expected a top-level key 'tables' holding a list of entries"))
    top, problems = validate(ManifestFile, doc, where, None, key_rows=key_lines(text))
    if top is None:
        raise SourceError(problems)
    specs: list[TableSpec] = []
    seen: set[str] = set()
    lines = _entry_lines(text)
    for i, entry in enumerate(top.tables):
        line = lines[i] if i < len(lines) else None
        if not isinstance(entry, dict):
            problems.append(Problem(where, f"entry {i + 1} is not a mapping of keys", row=line))
            continue
        spec, entry_problems = _entry(entry, i, sources_dir, where, line)
        if entry.get("id") in seen:
            entry_problems.append(Problem(where, f"entry {i + 1}: duplicate id {entry['id']!r}", row=line, column="id"))
        seen.add(entry.get("id"))
        problems += entry_problems
        if spec is not None and not entry_problems:
            specs.append(spec)
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
