"""The report's Markdown pages (issue 13): inline references resolve from the warehouse, figures and tables are
numbered per edition, and every authoring mistake blocks with file:line and what is wrong.

Each mistake is made in a private copy of report_templates/computing_power; expected values come from SQL on the
warehouse the test reads itself."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import prose_context

from pipeline.lib.report.context import edition_view, figure_kinds
from pipeline.lib.report.pages import (
    CONTEXT_TABLES,
    AuthoringError,
    load_report,
    read_chapters,
    report_dir,
    resolve_numbers,
)
from pipeline.lib.report.references import CrossRef, MalformedReference, NumberRef, parse_reference
from pipeline.lib.report.render import html_for


@pytest.fixture()
def report(tmp_path: Path) -> Path:
    """An editable copy of the report's folder."""
    return Path(shutil.copytree(report_dir(), tmp_path / "computing_power"))


def _edit(path: Path, old: str, new: str) -> int:
    """Replace `old` by `new` once in `path`; the 1-based line where `new` starts."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, old
    at = text.index(old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text.count("\n", 0, at) + 1


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def _problems(folder: Path, con: duckdb.DuckDBPyConnection | None = None) -> tuple[str, ...]:
    try:
        _, pages = load_report(folder)
        chapters = read_chapters(pages, figure_kinds())
        if con is not None:
            resolve_numbers(con, chapters)
    except AuthoringError as exc:
        return exc.problems
    return ()


def test_the_bundled_pages_have_no_problem(warehouse_con: duckdb.DuckDBPyConnection) -> None:
    assert _problems(report_dir(), warehouse_con) == ()


# --- the blocking checks, each with its exact message --------------------------------------------------------------


def test_unknown_series(report: Path, warehouse_con: duckdb.DuckDBPyConnection) -> None:
    page = report / "zh" / "04-industry.md"
    line = _edit(page, "{v:cloud_market/CN@latest}", "{v:cloud_markt/CN@latest}")
    assert _problems(report, warehouse_con) == (
        f"{page}:{line}: unknown series 'cloud_markt' in {{v:cloud_markt/CN@latest}}",
    )


def test_unknown_fact_and_claim(report: Path, warehouse_con: duckdb.DuckDBPyConnection) -> None:
    page = report / "en" / "07-outlook.md"
    line = _edit(page, "{fact:de_latest}", "{fact:de_lastest}")
    claim_line = _edit(page, "{c:de_2030.ours}", "{c:de_2031.ours}")
    assert _problems(report, warehouse_con) == (
        f"{page}:{line}: unknown fact 'de_lastest' in {{fact:de_lastest}}",
        f"{page}:{claim_line}: unknown claim 'de_2031' in {{c:de_2031.ours}}",
    )


def test_a_year_without_a_value(report: Path, warehouse_con: duckdb.DuckDBPyConnection) -> None:
    page = report / "en" / "04-industry.md"
    line = _edit(page, "{v:cloud_market/CN@latest}", "{v:cloud_market/CN@1999}")
    assert _problems(report, warehouse_con) == (
        f"{page}:{line}: no value of cloud_market/CN/total for 1999 in {{v:cloud_market/CN@1999}}",
    )


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("{v:cloud_market}", "malformed reference {v:cloud_market}: expected {v:SERIES/GEO[/SEGMENT]@YEAR|latest}"),
        (
            "{g:cloud_market/CN@2019}",
            "malformed reference {g:cloud_market/CN@2019}: expected {g:SERIES/GEO[/SEGMENT]@Y1..Y2}",
        ),
        ("{c:de_2025.value}", "malformed reference {c:de_2025.value}: expected {c:CLAIM_ID.FIELD}"),
        (
            "{x:cloud_market}",
            "malformed reference {x:cloud_market}: unknown kind 'x' (one of v, y, g, f, c, fact, ref)",
        ),
        ("{v:cloud market}", "malformed reference {v:cloud market}: expected {kind:…} with no spaces or braces inside"),
        ("{cloud_latest}", "unexpected '{' in '{cloud_latest}': a reference is {kind:…}; write \\{ for a brace"),
    ],
)
def test_malformed_reference(report: Path, written: str, message: str) -> None:
    page = report / "zh" / "02-concept.md"
    line = _edit(page, "{fact:de_latest}", written)
    assert _problems(report) == (f"{page}:{line}: {message}",)


def test_unknown_figure_id(report: Path) -> None:
    zh, en = report / "zh" / "03-strategies.md", report / "en" / "03-strategies.md"
    lines = [_edit(p, "::: figure fig07", "::: figure fig99") for p in (zh, en)]
    ref_line = _edit(zh, "{ref:fig07}", "{ref:fig98}")
    assert _problems(report) == (
        f"{zh}:{lines[0]}: unknown figure 'fig99'",
        f"{en}:{lines[1]}: unknown figure 'fig99'",
        f"{zh}:{ref_line}: unknown figure or table 'fig98' in {{ref:fig98}}",
        f"{en}:{_line_of(en, '{ref:fig07}')}: {{ref:fig07}} refers to figure 'fig07', which is not in the en edition",
    )


def test_a_directive_of_the_wrong_kind_and_an_unknown_table(report: Path) -> None:
    zh, en = report / "zh" / "05-framework.md", report / "en" / "05-framework.md"
    lines = [_edit(p, "::: table fig14", "::: figure fig14") for p in (zh, en)]
    table_lines = [_edit(p, "::: table fig15", "::: table fig15s") for p in (zh, en)]
    assert _problems(report) == (
        f"{zh}:{lines[0]}: 'fig14' is a table: write '::: table fig14'",
        f"{zh}:{table_lines[0]}: unknown table 'fig15s'",
        f"{en}:{lines[1]}: 'fig14' is a table: write '::: table fig14'",
        f"{en}:{table_lines[1]}: unknown table 'fig15s'",
        f"{zh}:{_line_of(zh, '{ref:fig15}')}: {{ref:fig15}} refers to table 'fig15', which is not in the zh edition",
        f"{en}:{_line_of(en, '{ref:fig15}')}: {{ref:fig15}} refers to table 'fig15', which is not in the en edition",
    )


def test_a_cross_reference_to_a_figure_not_in_the_edition(report: Path) -> None:
    for lang in ("zh", "en"):
        _edit(report / lang / "01-background.md", "::: figure fig03\n", "")
    zh, en = report / "zh" / "01-background.md", report / "en" / "01-background.md"
    assert _problems(report) == (
        f"{zh}:{_line_of(zh, '{ref:fig03}')}: {{ref:fig03}} refers to figure 'fig03', which is not in the zh edition",
        f"{en}:{_line_of(en, '{ref:fig03}')}: {{ref:fig03}} refers to figure 'fig03', which is not in the en edition",
    )


def test_editions_out_of_step(report: Path) -> None:
    zh, en = report / "zh" / "06-demand.md", report / "en" / "06-demand.md"
    text = en.read_text(encoding="utf-8")
    en.write_text(
        text.replace("::: figure fig16", "::: figure TMP")
        .replace("::: figure fig17", "::: figure fig16")
        .replace("::: figure TMP", "::: figure fig17"),
        encoding="utf-8",
    )
    zh_line = zh.read_text(encoding="utf-8").splitlines().index("::: figure fig16") + 1
    en_line = en.read_text(encoding="utf-8").splitlines().index("::: figure fig17") + 1
    assert _problems(report) == (
        f"{zh}:{zh_line}: the editions are out of step: zh shows figure 'fig16' here, "
        f"en shows figure 'fig17' ({en}:{en_line})",
    )


def test_a_figure_missing_from_one_edition(report: Path) -> None:
    en = report / "en" / "07-outlook.md"
    _edit(en, "::: figure dc_energy\n", "")
    _edit(en, " ({ref:dc_energy})", "")
    zh = report / "zh" / "07-outlook.md"
    zh_line = zh.read_text(encoding="utf-8").splitlines().index("::: figure dc_energy") + 1
    assert _problems(report) == (
        f"{zh}:{zh_line}: the editions are out of step: zh shows figure 'dc_energy' here, "
        "en shows nothing more in chapter '07-outlook'",
    )


def test_every_problem_is_reported_at_once(report: Path) -> None:
    page = report / "zh" / "02-concept.md"
    _edit(page, "{fact:de_latest}", "{v:cloud}")
    _edit(report / "en" / "03-strategies.md", "{ref:fig07}", "{ref:fig7}")
    _edit(report / "zh" / "01-background.md", "# ", "")
    problems = _problems(report)
    assert len(problems) == 3, problems
    assert problems[0].endswith("01-background.md:1: a page starts with its chapter heading ('# heading')")


def test_a_page_missing_or_not_in_the_chapter_list(report: Path) -> None:
    (report / "en" / "03-strategies.md").rename(report / "en" / "03-strategy.md")
    assert _problems(report) == (
        f"{report / 'en' / '03-strategies.md'}: missing (chapter '03-strategies' of report.yaml)",
        f"{report / 'en' / '03-strategy.md'}: not a chapter of report.yaml",
    )


def test_figure_and_table_ids_never_collide() -> None:
    assert not set(CONTEXT_TABLES) & set(figure_kinds()), "a {ref:ID} must name one thing"


# --- the references resolve --------------------------------------------------------------------------------------


def test_reference_syntax() -> None:
    v = parse_reference("{v:compute_capacity/GLOBAL@latest}")
    assert isinstance(v, NumberRef) and v.key == "v:compute_capacity/GLOBAL/total@latest" and not v.year_only
    y = parse_reference("{y:compute_capacity/GLOBAL/total@latest}")
    assert y.key == v.key and y.year_only
    assert parse_reference("{y:c:de_2025.ours}").key == "c:de_2025.ours"
    assert parse_reference("{f:cloud_market/CN@2025:high}").query.scenario == "high"
    assert parse_reference("{f:cloud_market/CN@2025}").query.scenario == "base"
    assert parse_reference("{ref:fig16,fig17}") == CrossRef(text="{ref:fig16,fig17}", ids=("fig16", "fig17"))
    with pytest.raises(MalformedReference):
        parse_reference("{f:cloud_market/CN@latest}")


def _value(con: duckdb.DuckDBPyConnection, series: str, year: int, geography: str = "CN") -> float:
    return con.execute(
        "SELECT value FROM core.observations_latest WHERE series_id = ? AND geography = ? AND segment = 'total' "
        "AND year = ?",
        [series, geography, year],
    ).fetchone()[0]


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def _prose_report(tmp_path: Path, zh: str, en: str) -> Path:
    """A one-chapter report of the given prose (no figures)."""
    folder = tmp_path / "prose"
    shutil.copytree(report_dir(), folder, ignore=shutil.ignore_patterns("*.md"))
    definition = (folder / "report.yaml").read_text(encoding="utf-8")
    definition = re.sub(r"chapters:\n(  - .*\n)+appendix:\n(  - .*\n)+", "chapters:\n  - 01-one\n", definition)
    (folder / "report.yaml").write_text(definition, encoding="utf-8")
    for lang, text in (("zh", zh), ("en", en)):
        (folder / lang / "01-one.md").write_text(text, encoding="utf-8")
    return folder


def test_growth_forecast_and_claim_fields(tmp_path: Path, warehouse_con: duckdb.DuckDBPyConnection) -> None:
    con = warehouse_con
    de = (_value(con, "digital_economy_size", 2022) / _value(con, "digital_economy_size", 2016)) ** (1 / 6) - 1
    high = con.execute(
        "SELECT value FROM forecast.projections WHERE series_id = 'cloud_market' AND scenario = 'high' AND year = 2025"
    ).fetchone()[0]
    verdict = con.execute("SELECT verdict FROM forecast.headlines WHERE claim_id = 'de_2025'").fetchone()[0]
    zh_words = {"supported": "相符", "exceeded": "超出", "missed": "未达"}
    body = (
        "# 一\n\n增长{g:digital_economy_size/CN@2016..latest}（{y:g:digital_economy_size/CN@2016..latest}）；"
        "高情景{f:cloud_market/CN@2025:high}；结论{c:de_2025.verdict}。\n"
    )
    en = "# One\n\nGrowth {g:digital_economy_size/CN@2016..2022}; high {f:cloud_market/CN@2025:high}.\n"
    ctx = prose_context(con, _prose_report(tmp_path, body, en))
    zh_text = edition_view(ctx, "zh", {}).sections[0].blocks[0].text
    en_text = edition_view(ctx, "en", {}).sections[0].blocks[0].text
    assert f"增长{_pct(de)}（2022）" in zh_text
    assert f"结论{zh_words[verdict]}。" in zh_text
    assert f"高情景{high / 1e12:.2f}万亿元" in zh_text
    assert f"Growth {_pct(de)};" in en_text and f"high RMB {high / 1e12:.2f} tn." in en_text


def test_copula_gives_way_to_a_qualifier(tmp_path: Path, warehouse_con: duckdb.DuckDBPyConnection) -> None:
    """'为{v:…}' reads '为…' before a plain value and drops 为 (and 达到 / 达) before one that opens with 超 / 约."""
    zh = (
        "# 一\n\n核心产业规模为{fact:core_latest}，云计算为{v:cloud_market/CN@latest}。"
        "核心产业规模已达到{fact:core_latest}，即达{fact:core_latest}；云计算达到{v:cloud_market/CN@latest}。\n"
    )
    ctx = prose_context(warehouse_con, _prose_report(tmp_path, zh, "# One\n\nx\n"))
    text = edition_view(ctx, "zh", {}).sections[0].blocks[0].text
    core = r"(?:已超|超)[0-9.]+万亿元"
    assert re.fullmatch(
        rf"核心产业规模{core}，云计算为[0-9,]+亿元。核心产业规模已{core}，即{core}；云计算达到[0-9,]+亿元。", text
    ), text


def test_cjk_lines_join_without_a_space(tmp_path: Path, warehouse_con: duckdb.DuckDBPyConnection) -> None:
    ctx = prose_context(warehouse_con, _prose_report(tmp_path, "# 一\n\n第一行\n第二行 and\nmore\n", "# One\n\nx\n"))
    assert edition_view(ctx, "zh", {}).sections[0].blocks[0].text == "第一行第二行 and\nmore"


def test_rendered_html_holds_no_unresolved_reference(warehouse_con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    from pipeline.lib.report.changes import compute_changes
    from pipeline.lib.report.context import build_context

    ctx = build_context(warehouse_con)
    ctx = ctx.with_changes(compute_changes(None, ctx, ctx.inputs))
    paths = {}
    for fid in ctx.figures:
        paths[fid] = tmp_path / f"{fid}.png"
        paths[fid].write_bytes(fid.encode())
    for lang in ("zh", "en"):
        view = edition_view(ctx, lang, paths)
        text = html.unescape(re.sub(r"<[^>]+>", " ", html_for(view)))
        body = text.split("</head>")[-1]
        assert not re.search(r"\{[a-z]*:", body), re.findall(r".{0,30}\{.{0,30}", body)
        assert "{" not in re.sub(r"<style.*?</style>", "", body, flags=re.S)
        prose = " ".join(b.text for s in (*view.sections, *view.appendix) for b in s.blocks if b.type == "p")
        xrefs = re.findall(r"[图表](\d+)" if lang == "zh" else r"(?:Figure|Table)s? (\d+)", prose)
        assert len(xrefs) >= 15 and {int(n) for n in xrefs} <= set(view.refs.values())
