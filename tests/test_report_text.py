"""Text that follows the data (issue 14, item 7) and a changelog for readers (item 8).

Expected texts are built from the source tables and catalogues the test reads itself (sources/*.csv, docs/examples),
never from the formatter under test; the new-vintage cases rebuild a warehouse from a copy of the sources."""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from conftest import copy_sources

from pipeline.config import PROJECT_ROOT
from pipeline.lib.errors import SourceError
from pipeline.lib.forecast.engine import run_forecasts
from pipeline.lib.ingest.units import parse_unit
from pipeline.lib.report import charts, style
from pipeline.lib.report.build import context_json
from pipeline.lib.report.changes import compute_changes
from pipeline.lib.report.context import build_context, current_inputs, edition_view
from pipeline.lib.report.figures import _common
from pipeline.lib.report.records import EditionView, FigureData, ReportContext
from pipeline.lib.report.render import html_for
from pipeline.lib.warehouse.build import build_warehouse

EXAMPLES = PROJECT_ROOT / "docs" / "examples"
SOURCES = PROJECT_ROOT / "sources"
FIGURE_STRINGS = PROJECT_ROOT / "report_templates" / "i18n" / "figures.yaml"


# --- helpers -----------------------------------------------------------------------------------------------------


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _names(dimension: str) -> dict[str, dict[str, str]]:
    """{code: {zh, en}} as the analysts typed them in sources/series.csv or labels.csv."""
    if dimension == "series":
        return {r["series_id"]: {"zh": r["name_zh"], "en": r["name_en"]} for r in _rows(SOURCES / "series.csv")}
    return {
        r["code"]: {"zh": r["name_zh"], "en": r["name_en"]}
        for r in _rows(SOURCES / "labels.csv")
        if r["dimension"] == dimension
    }


def _build(sources: Path, path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    build_warehouse(con, sources)
    run_forecasts(con)
    return con


def _add_vintage(sources: Path, table: str) -> None:
    """Put an example release (docs/examples/<table>.csv + .yaml) into `sources` as a new manifest entry."""
    (sources / f"{table}.csv").write_bytes((EXAMPLES / f"{table}.csv").read_bytes())
    manifest = yaml.safe_load((sources / "manifest.yaml").read_text(encoding="utf-8"))
    manifest["tables"].append(yaml.safe_load((EXAMPLES / f"{table}.yaml").read_text(encoding="utf-8")))
    (sources / "manifest.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")


def _views(ctx: ReportContext, tmp_path: Path) -> dict[str, EditionView]:
    """Both editions' views, with placeholder chart files (the prose and tables do not depend on them)."""
    paths = {}
    for fid in ctx.figures:
        paths[fid] = tmp_path / f"{fid}.png"
        paths[fid].write_bytes(fid.encode())
    return {lang: edition_view(ctx, lang, paths) for lang in ("zh", "en")}


def _prose(view: EditionView) -> str:
    return "\n".join(b.text for s in (*view.sections, *view.appendix) for b in s.blocks if b.type == "p")


def _cell(value: str) -> str:
    """A number cell of a source table as the ingest reads it: no thousands separators."""
    return value.replace(",", "")


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Context and views of the bundled sources."""
    root = tmp_path_factory.mktemp("seed")
    con = _build(copy_sources(root / "sources"), root / "w.duckdb")
    try:
        ctx = build_context(con)
        inputs = current_inputs(con)
    finally:
        con.close()
    ctx = ctx.with_changes(compute_changes(None, ctx, inputs))
    return {"ctx": ctx, "inputs": inputs, "views": _views(ctx, root)}


# --- ranges, qualifiers, units -----------------------------------------------------------------------------------


def test_range_prints_as_a_range(seed: dict[str, Any]) -> None:
    row = next(r for r in _rows(SOURCES / "text_ai_compute.csv") if r["segment"] == "era_large_model")
    low, high = row["value"].split("-")
    zh, en = _prose(seed["views"]["zh"]), _prose(seed["views"]["en"])
    assert f"{low}–{high}个月" in zh
    assert f"{low}–{high} months" in en
    midpoint = (float(low) + float(high)) / 2
    assert f"{midpoint:g}个月" not in zh


@pytest.mark.parametrize(
    ("table", "key", "zh", "en"),
    [
        # (source table, its row's first cell, how the value reads in each language)
        ("fig12_core_related_industry.csv", "算力核心产业规模", "{q}{n}万亿元", "over RMB {n} tn"),
        ("fig12_core_related_industry.csv", "算力关联产业规模", "{q}{n}万亿元", "over RMB {n} tn"),
        ("fig07_national_investment_plans.csv", "欧盟", "{q}{n}亿欧元", "over EUR {n10} bn"),
        ("fig07_national_investment_plans.csv", "中国", "{q}{n:,}亿元", "over RMB {n10:g} bn"),
    ],
)
def test_qualifiers_print_in_both_languages(seed: dict[str, Any], table: str, key: str, zh: str, en: str) -> None:
    row = next(r for r in _rows(SOURCES / table) if next(iter(r.values())) == key)
    cell = next(v for v in row.values() if re.match(r"^\D+[0-9.]+$", v or ""))
    qualifier, number = re.match(r"^(\D+)([0-9.]+)$", cell).groups()
    n = float(number) if "." in number else int(number)
    assert qualifier in ("超", "已超", "超过"), "the seed's qualifier is in the value cell"
    zh_text = zh.format(q=qualifier, n=n, n10=n / 10)
    en_text = en.format(n=n, n10=n / 10 if n % 10 else n // 10)
    assert zh_text in _prose(seed["views"]["zh"])
    assert en_text in _prose(seed["views"]["en"])


def test_operations_per_second_are_not_flops(seed: dict[str, Any], sources_copy: Path, tmp_path: Path) -> None:
    row = next(r for r in _rows(SOURCES / "text_ai_compute.csv") if r["segment"] == "eniac")
    ops = f"{int(_cell(row['value'])):,}"
    zh, en = _prose(seed["views"]["zh"]), _prose(seed["views"]["en"])
    assert f"{ops}次/秒" in zh and f"{ops} operations per second" in en
    assert f"{ops} FLOPS" not in zh + en
    assert parse_unit(row["unit"]).canonical != parse_unit("FLOPS").canonical

    # the same row on a FLOPS series is refused, not converted
    path = sources_copy / "text_ai_compute.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(f"{row['series']},US,eniac", "computer_performance,US,eniac"), encoding="utf-8")
    with pytest.raises(SourceError, match="does not fit series computer_performance"):
        build_warehouse(duckdb.connect(str(tmp_path / "w.duckdb")), sources_copy)


def test_no_qualifier_is_doubled(seed: dict[str, Any]) -> None:
    """The templates never type a qualifier the value brings itself ('超过超过', 'exceed over')."""
    zh, en = _prose(seed["views"]["zh"]), _prose(seed["views"]["en"])
    assert not re.search(r"(约|超过|超|近|不低于)\1", zh)
    assert not re.search(r"为(约|超|近|已超)", zh)
    assert not re.search(r"\b(over|about|at least) (over|about|at least)\b", en)
    assert "exceed over" not in en


# --- assumptions -------------------------------------------------------------------------------------------------


def test_charts_of_assumed_values_say_so(seed: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = seed["ctx"].figures
    assumed = {
        fid
        for fid, data in figures.items()
        if any(r.get("status") == "assumption" for r in data.body.get("items", []) if isinstance(r, dict))
        or any(r.get("mark") == "assumption" for r in data.body.get("items", []) if isinstance(r, dict))
    }
    assert {"fig16", "fig17"} <= assumed, "the industry charts plot analyst assumptions"
    strings = yaml.safe_load(FIGURE_STRINGS.read_text(encoding="utf-8"))["_shared"]["stamp"]

    drawn: list[str] = []
    real = style._draw_stamp
    monkeypatch.setattr(style, "_draw_stamp", lambda fig, label: (drawn.append(label), real(fig, label)))
    jobs = [
        ("fig17", figures["fig17"], "zh", str(tmp_path / "a.png")),
        ("fig17", figures["fig17"], "en", str(tmp_path / "b.png")),
        ("fig16", figures["fig16"], "en", str(tmp_path / "c.png")),
        ("fig03", figures["fig03"], "en", str(tmp_path / "d.png")),
    ]
    charts.draw_jobs(jobs)
    assert drawn == [strings["assumption"]["zh"], strings["assumption"]["en"], strings["some_assumptions"]["en"]]


def test_assumption_label_follows_the_statuses() -> None:
    strings = yaml.safe_load(FIGURE_STRINGS.read_text(encoding="utf-8"))["_shared"]["stamp"]

    def data(items: list[dict[str, Any]]) -> FigureData:
        return FigureData(id="x", source_ids=(), flagged=True, body={"items": items})

    measured_items = [{"status": "solid", "mark": None}, {"status": "derived", "mark": "derived"}]
    assumed_items = [{"status": "assumption"}, {"nested": [{"mark": "assumption"}]}]
    measured, assumed, mixed = data(measured_items), data(assumed_items), data(measured_items + assumed_items)
    assert _common.assumption_label(measured, "en") is None
    assert _common.assumption_label(assumed, "zh") == strings["assumption"]["zh"]
    assert _common.assumption_label(mixed, "en") == strings["some_assumptions"]["en"]


def test_captions_tag_assumptions(seed: dict[str, Any]) -> None:
    for view in seed["views"].values():
        tags = {b.id: b.assumption for s in view.sections for b in s.blocks if b.type != "p"}
        t = view.t
        assert tags["fig17"] == t["assumption_tag"]
        assert tags["fig16"] == t["some_assumptions_tag"]
        assert tags["fig03"] is None and tags["fig11"] is None
        assert tags["headlines"] == t["some_assumptions_tag"], "the base scenario rests on analyst assumptions"
        page = html.unescape(html_for(view))
        assert f'<span class="assumption-tag">{t["assumption_tag"]}</span>' in page


# --- a new vintage moves the sentences ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vintage(tmp_path_factory: pytest.TempPathFactory, seed: dict[str, Any]) -> dict[str, Any]:
    """The bundled sources plus two later releases (global compute 2022, core industry 2022), and one value
    changed in its 6th significant digit; the changelog against an edition of the bundled sources."""
    root = tmp_path_factory.mktemp("vintage")
    sources = copy_sources(root / "sources")
    for table in ("compute_capacity_2023", "core_industry_2023"):
        _add_vintage(sources, table)
    market = sources / "fig11_market_size.csv"
    lines = market.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("云计算,"))
    old = [v for v in next(csv.reader([lines[at]])) if re.fullmatch(r"[0-9,.]+", v)][-1]
    assert len(_cell(old)) == 4, old
    nudged = f"{_cell(old)}.01"  # 6th significant digit
    lines[at] = lines[at].replace(f'"{old}"' if "," in old else old, nudged, 1)
    market.write_text("".join(lines), encoding="utf-8")

    previous = root / "previous"
    previous.mkdir()
    (previous / "context.json").write_text(context_json(seed["ctx"]), encoding="utf-8")
    (previous / "edition.json").write_text(json.dumps({"edition_id": "e1", "inputs": seed["inputs"]}), encoding="utf-8")
    con = _build(sources, root / "w.duckdb")
    try:
        ctx = build_context(con)
        ctx = ctx.with_changes(compute_changes(previous, ctx, current_inputs(con)))
    finally:
        con.close()
    return {"ctx": ctx, "views": _views(ctx, root), "cloud": (old, nudged)}


def _example(table: str) -> dict[str, tuple[str, str]]:
    """{row label: (year, value)} of the last column of an example release."""
    lines = (EXAMPLES / f"{table}.csv").read_text(encoding="utf-8").splitlines()
    header_at = next(i for i, line in enumerate(lines) if re.fullmatch(r"20\d\d年", line.split(",")[-1]))
    rows = list(csv.reader(lines[header_at:]))
    year = re.match(r"(20\d\d)", rows[0][-1]).group(1)
    return {r[0]: (year, r[-1]) for r in rows[1:] if len(r) > 1 and r[-1]}


def test_new_vintage_moves_year_and_value(seed: dict[str, Any], vintage: dict[str, Any]) -> None:
    compute = _example("compute_capacity_2023")
    (year, world), china = (
        next(v for k, v in compute.items() if "全球" in k),
        next(v for k, v in compute.items() if "中国" in k)[1],
    )
    zh_before, zh = _prose(seed["views"]["zh"]), _prose(vintage["views"]["zh"])
    en = _prose(vintage["views"]["en"])
    assert f"{year}年全球算力总规模为{world} EFLOPS，中国自身公布的算力规模为{china} EFLOPS" in zh
    assert f"{year}年全球算力总规模" not in zh_before
    assert f"Global computing capacity reached {world} EFLOPS in {year}; China reported {china} EFLOPS of its own" in en

    core_year, core = next(iter(_example("core_industry_2023").values()))
    seed_core = next(r for r in _rows(SOURCES / "fig12_core_related_industry.csv") if r["产业"] == "算力关联产业规模")
    related_year = re.search(r"(20\d\d)", next(k for k in seed_core if "年" in k)).group(1)
    # the core industry moves to the new year; related industries, without a value for it, say their own year
    assert f"{core_year}年，中国算力核心产业规模为{core}万亿元，" in zh
    assert f"（{related_year}年）" in zh.split(f"{core_year}年，中国算力核心产业规模", 1)[1].split("。", 1)[0]
    assert f"In {core_year}, China's core computing-power industry was RMB {core} tn" in en


# --- the changelog -----------------------------------------------------------------------------------------------


def test_changelog_names_numbers_for_readers(vintage: dict[str, Any]) -> None:
    changes = vintage["ctx"].changes
    series, geography = _names("series"), _names("geography")
    moved = {n.name: n for n in changes.numbers}
    assert moved, "the new vintages move numbers"
    world = moved["global_compute"]
    for lang in ("zh", "en"):
        item = world.shown(lang)[0]
        assert series["compute_capacity"][lang] in item
        assert geography["GLOBAL"][lang] in item
    ids = set(series) | set(moved) | {"GLOBAL", "CN"}
    for lang, view in vintage["views"].items():
        table = next(b for s in view.appendix for b in s.blocks if b.type != "p" and b.id == "changes")
        shown = [c.text for row in table.rows for c in row[:2]]
        assert not [
            text for text in shown if any(re.search(rf"(?<![A-Za-z_]){re.escape(i)}(?![A-Za-z_])", text) for i in ids)
        ]
        assert not [text for text in shown if re.search(r"[a-z]+_[a-z0-9_]+|\.csv|\.ya?ml", text)]
        sources = {s.source_id for s in changes.sources}
        assert {"compute_capacity_2023", "core_industry_2023"} <= sources
        titles = {s.title(lang) for s in vintage["ctx"].sources if s.source_id in sources}
        assert titles <= set(shown)


def test_changelog_lists_only_what_prints_differently(seed: dict[str, Any], vintage: dict[str, Any]) -> None:
    old, nudged = vintage["cloud"]
    assert float(nudged) != float(_cell(old))
    changes = vintage["ctx"].changes
    cloud = [n for n in changes.numbers if n.item_en.startswith(_names("series")["cloud_market"]["en"])]
    assert cloud == [], "a change in the 6th significant digit prints the same and is not listed"
    for n in changes.numbers:
        assert (n.old_zh, n.old_en, n.old_year) != (n.new_zh, n.new_en, n.new_year)
    for f in changes.forecasts:
        assert (f.old_zh, f.old_en) != (f.new_zh, f.new_en)
