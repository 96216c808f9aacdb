"""`reportctl add-source` used as a careless or hostile analyst would: path escapes, symbolic links, cells that
used to become silent wrong numbers, and misleading messages.

After every refusal: exit code 1, the exact message, nothing outside sources/ changed (a sentinel tree standing
where `../..` and absolute paths lead), and sources/, the warehouse and the published PDFs byte-identical.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import random
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import project_env, run_cli

from pipeline import cli
from pipeline.config import PROJECT_ROOT
from pipeline.lib.warehouse.build import build_warehouse
from pipeline.services.intake import _copy_sources

EXAMPLE = PROJECT_ROOT / "docs" / "examples"
CLOUD_CSV = (EXAMPLE / "cloud_market_2023.csv").read_text(encoding="utf-8")
CLOUD_ENTRY = yaml.safe_load((EXAMPLE / "cloud_market_2023.yaml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Project:
    """A published build on a copy of the bundled sources, and a sentinel tree outside it."""

    root: Path
    sources: Path
    out: Path
    outside: Path  # the temp root: `../..` from the validation copy of sources/ lands here
    env: dict[str, str]


def _tree(root: Path) -> dict[str, str]:
    """Every file and link under `root` (links as their target, never followed) with its content hash."""
    state = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                state[rel] = "link:" + os.readlink(path)
            elif path.is_file():
                state[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


@pytest.fixture(scope="module")
def project(built_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Project:
    from conftest import copy_project

    root = copy_project(built_template, tmp_path_factory.mktemp("intake"))
    sources = root / "sources"
    outside = root / "outside"
    (outside / "etc").mkdir(parents=True)
    (outside / "etc" / "passwd").write_text("root:x:0:0:sentinel\n", encoding="utf-8")
    (outside / "etc" / "hostname").write_text("sentinel-host\n", encoding="utf-8")
    (outside / "data").mkdir()
    (outside / "data" / "cloud_market_2023.csv").write_text(CLOUD_CSV, encoding="utf-8")
    env = project_env(sources, root, TMPDIR=str(outside))
    return Project(root, sources, root / "out", outside, env)


@pytest.fixture()
def run(project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """`reportctl add-source ARGS` in-process against the project; returns (exit code, stderr). Asserts that no
    temp folder of the command is left behind."""
    monkeypatch.setenv("REPORT_SOURCES_DIR", str(project.sources))
    monkeypatch.setenv("REPORT_OUTPUT_DIR", str(project.out))
    monkeypatch.setattr(tempfile, "tempdir", str(project.outside))

    def call(*args: str | Path) -> tuple[int, str]:
        capsys.readouterr()
        code = cli.main(["add-source", *map(str, args)])
        err = capsys.readouterr().err
        assert not list(project.outside.glob("add-source-*")), "the command's temp folder was left behind"
        return code, err

    return call


@pytest.fixture()
def unchanged(project: Project):
    """Snapshot sources/, the output (warehouse and published PDFs) and the sentinel tree; assert they are
    byte-identical when the test ends."""
    before = {
        name: _tree(path)
        for name, path in (("sources", project.sources), ("out", project.out), ("outside", project.outside))
    }
    yield
    for name, path in (("sources", project.sources), ("out", project.out), ("outside", project.outside)):
        assert _tree(path) == before[name], f"{name} changed after a refusal"


def _entry(tmp_path: Path, **changes: object) -> Path:
    path = tmp_path / "entry.yaml"
    path.write_text(yaml.safe_dump({**CLOUD_ENTRY, **changes}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _line_of(path: Path, key: str) -> int:
    return next(
        i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.startswith(f"{key}:")
    )


def _table(tmp_path: Path, text: str = CLOUD_CSV, name: str = "cloud_market_2023.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- path escapes ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "why"),
    [
        ("../../etc/passwd", "names a path, not a file"),
        ("sub/cloud.csv", "names a path, not a file"),
        ("..", "names a path, not a file"),
        ("series.csv", "is a catalogue of sources/, not a table"),
        ("manifest.yaml", "is a catalogue of sources/, not a table"),
        (".hidden.csv", "starts with '.' or '_'"),
        ("cloud.txt", "has no table suffix"),
    ],
)
def test_entry_file_that_is_not_a_plain_name_is_refused(run, project, unchanged, tmp_path, file, why) -> None:
    entry = _entry(tmp_path, file=file)
    code, err = run(_table(tmp_path), "--entry", entry)
    assert code == 1
    assert f"  {entry}, row {_line_of(entry, 'file')}, column 'file': file {file!r} {why}" in err
    assert "Traceback" not in err


def test_absolute_entry_path_is_refused_before_anything_is_written(run, project, unchanged, tmp_path) -> None:
    target = project.outside / "etc" / "passwd"
    entry = _entry(tmp_path, file=str(target))
    code, err = run(_table(tmp_path), "--entry", entry)
    assert code == 1
    assert f"file {str(target)!r} names a path, not a file" in err
    assert target.read_text(encoding="utf-8") == "root:x:0:0:sentinel\n"


def test_refusal_from_the_command_line_is_one_message_without_traceback(project, tmp_path) -> None:
    entry = _entry(tmp_path, file="../../etc/passwd")
    before = _tree(project.outside)
    proc = run_cli(project.env, "add-source", str(_table(tmp_path)), "--entry", str(entry))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[0].startswith(f"add-source: {tmp_path / 'cloud_market_2023.csv'} was NOT added")
    assert _tree(project.outside) == before


# --- symbolic links --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["data/cloud_market_2023.csv", "etc/hostname", "missing.csv"])
def test_table_given_as_a_link_is_refused(run, project, tmp_path, target) -> None:
    link = project.sources / "cloud_market_2023.csv"
    link.symlink_to(project.outside / target)
    try:
        before = {
            name: _tree(path)
            for name, path in (("sources", project.sources), ("out", project.out), ("outside", project.outside))
        }
        code, err = run(link, "--entry", _entry(tmp_path))
        assert code == 1
        assert f"  {link}: is a symbolic link; give the table file itself" in err
        assert {
            name: _tree(path)
            for name, path in (("sources", project.sources), ("out", project.out), ("outside", project.outside))
        } == before
    finally:
        link.unlink()


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_link_inside_sources_is_refused(run, project, tmp_path, kind) -> None:
    link = project.sources / ("ext" if kind == "folder" else "notes.csv")
    link.symlink_to(project.outside / "data" if kind == "folder" else project.outside / "etc" / "passwd")
    try:
        before = {name: _tree(path) for name, path in (("sources", project.sources), ("out", project.out))}
        code, err = run(_table(tmp_path), "--entry", _entry(tmp_path))
        assert code == 1
        assert f"  sources/{link.name}: is a symbolic link; keep the file itself in sources/" in err
        assert {name: _tree(path) for name, path in (("sources", project.sources), ("out", project.out))} == before
    finally:
        link.unlink()


def test_validation_copy_keeps_links_as_links(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "manifest.yaml").write_text("tables: []\n", encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (sources / "folder_link").symlink_to(outside)
    (sources / "file_link.csv").symlink_to(outside / "secret.csv")
    _copy_sources(sources, tmp_path / "copy")
    assert (tmp_path / "copy" / "folder_link").is_symlink()
    assert (tmp_path / "copy" / "file_link.csv").is_symlink()
    assert os.readlink(tmp_path / "copy" / "file_link.csv") == str(outside / "secret.csv")


# --- cells that used to become silent wrong numbers -------------------------------------------------------------


def test_xlsx_formula_without_stored_result_is_refused_naming_sheet(run, unchanged, tmp_path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append(["指标", "2020年（亿元）", "2021年（亿元）"])
    ws.append(["云计算", 2091, "=B2*1.544"])
    book = tmp_path / "cloud_market_2023.xlsx"
    wb.save(book)
    code, err = run(book, "--entry", _entry(tmp_path, file="cloud_market_2023.xlsx"))
    assert code == 1
    assert f"  {book}, sheet '数据', row 2, column '2021年（亿元）': formula =B2*1.544 has no stored result" in err


def test_absurd_value_in_yi_yuan_is_refused_with_the_numbers(run, unchanged, tmp_path) -> None:
    table = _table(tmp_path, CLOUD_CSV.replace('"3,229"', "322900000000"))
    code, err = run(table, "--entry", _entry(tmp_path))
    assert code == 1
    assert (
        f"  {table}, row 2, column '2021年（亿元）': cloud_market CN 2021 = '322900000000' 亿元 "
        "(3.229e+19 CNY) is above the bound for cloud_market's kind of value (1,000万亿元 / RMB 1,000 tn, "
        "more than the world's GDP)"
    ) in err
    assert "accept_outliers: [{series: cloud_market, year: 2021, reason: ...}]" in err


def test_scientific_notation_out_of_range_is_refused_by_the_bound(run, unchanged, tmp_path) -> None:
    code, err = run(_table(tmp_path, CLOUD_CSV.replace('"4,550"', "3.229e30")), "--entry", _entry(tmp_path))
    assert code == 1
    assert "cloud_market CN 2022 = '3.229e30' 亿元 (3.229e+38 CNY) is above the bound" in err


def test_hundredfold_jump_is_refused_as_a_yearly_change(run, unchanged, tmp_path) -> None:
    table = _table(tmp_path, CLOUD_CSV.replace('"4,550"', '"455,000"'))
    code, err = run(table, "--entry", _entry(tmp_path))
    assert code == 1
    assert (
        f"  {table}, row 2, column '2022年（亿元）': cloud_market CN 2022 = '455,000' 亿元 is 140.9x the 2021 "
        "value '3,229' 亿元 (more than x5 a year)"
    ) in err


def test_unused_acceptance_is_refused_in_the_entry_file(run, unchanged, tmp_path) -> None:
    entry = _entry(
        tmp_path,
        accept_outliers=[{"series": "cloud_market", "year": 2022, "reason": "checked against the white paper, p. 12"}],
    )
    code, err = run(_table(tmp_path), "--entry", entry)
    assert code == 1
    assert (
        f"  {entry}, column 'accept_outliers': accept_outliers item for cloud_market 2022 matches no value "
        "outside the intake bounds; remove it"
    ) in err


def test_accepted_outlier_is_kept_with_its_reason_and_listed_in_the_changelog(built_template, tmp_path) -> None:
    """An explicit acceptance publishes the value and says so: warehouse, changes.json and both PDFs. On a private
    copy of the built project (the module's `project` is shared by the in-process tests)."""
    from conftest import copy_project
    from pypdf import PdfReader

    reason = "CAICT revised its definition in 2023 (white paper p. 12); checked by the analyst"
    table = _table(tmp_path, CLOUD_CSV.replace('"4,550"', '"45,500"'))
    entry = _entry(tmp_path, accept_outliers=[{"series": "cloud_market", "year": 2022, "reason": reason}])
    root = copy_project(built_template, tmp_path / "project")
    bounds = root / "sources" / "forecast_bounds.csv"  # a ×14 year also makes the forecasts grow past the bound:
    bounds.write_text(bounds.read_text(encoding="utf-8").replace("money,,-30,60,", "money,,-30,600,"), "utf-8")
    env = project_env(root / "sources", root)
    for args in (["add-source", str(table), "--entry", str(entry)], ["refresh"]):
        proc = run_cli(env, *args)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    con = duckdb.connect(str(root / "out" / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT source_id, series_id, year, value, reason, rule FROM core.accepted_outliers"
        ).fetchall()
    finally:
        con.close()
    assert rows == [("cloud_market_2023", "cloud_market", 2022, 45500e8, reason, "yearly change")]
    latest = (root / "out" / "latest").resolve()
    changes = yaml.safe_load((latest / "changes.json").read_text(encoding="utf-8"))
    assert [(a["series_id"], a["year"], a["reason"]) for a in changes["accepted_outliers"]] == [
        ("cloud_market", 2022, reason)
    ]
    for pdf, words in (
        ("report_zh.pdf", ("确认异常值", "云计算市场规模（2022年）", "4.55万亿元：")),
        ("report_en.pdf", ("Acceptedoutlier", "Cloudcomputingmarketsize(2022)", "RMB4.55tn:")),
    ):
        text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(latest / pdf).pages))
        assert all(w in text for w in words), pdf
        assert re.sub(r"\s+", "", reason) in text


def _warehouse_from(sources: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    build_warehouse(con, sources)
    return con


def _added(tmp_path: Path, text: str, **entry: object) -> Path:
    """A private copy of the sources with the table added through the add-source code path."""
    from conftest import copy_sources

    from pipeline.services.intake import add_source

    sources = copy_sources(tmp_path / "sources")
    add_source(_table(tmp_path, text), _entry(tmp_path, **entry), sources)
    return sources


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("2022E（亿元）", "estimate"),
        ("2022年（预计）（亿元）", "estimate"),
        ("2022年E（亿元）", "estimate"),
        ("2022F（亿元）", "forecast"),
    ],
)
def test_marked_year_in_a_wide_header_is_not_an_actual(tmp_path: Path, header: str, status: str) -> None:
    sources = _added(tmp_path, CLOUD_CSV.replace("2022年（亿元）", header))
    con = _warehouse_from(sources)
    try:
        got = con.execute(
            "SELECT status, is_outlook FROM core.observations WHERE series_id = 'cloud_market' "
            "AND year = 2022 AND source_id = 'cloud_market_2023'"
        ).fetchone()
        latest_actual = con.execute(
            "SELECT max(year) FROM core.observations_latest WHERE series_id = "
            "'cloud_market' AND geography = 'CN' AND NOT is_outlook"
        ).fetchone()[0]
    finally:
        con.close()
    assert got == (status, True)
    assert latest_actual == 2021


@pytest.mark.parametrize(("header", "scored"), [("2022年（亿元）", True), ("2022E（亿元）", False)])
def test_forecast_vs_actual_never_scores_against_an_estimate(tmp_path: Path, header: str, scored: bool) -> None:
    from pipeline.lib.forecast.engine import run_forecasts

    sources = _added(tmp_path, CLOUD_CSV.replace("2022年（亿元）", header))
    con = _warehouse_from(sources)
    try:
        run_forecasts(con)
        years = con.execute(
            "SELECT DISTINCT year FROM forecast.forecast_vs_actual WHERE series_id = 'cloud_market' "
            "AND actual_vintage = DATE '2023-07-25'"
        ).fetchall()
    finally:
        con.close()
    assert years == ([(2022,)] if scored else [])


def test_marked_years_in_a_long_table(tmp_path: Path) -> None:
    text = (
        '指标,年份,数值（亿元）\n云计算,2021,"3,229"\n云计算,2022E,"4,550"\n云计算,2025F,"10,000"\n'
        '云计算,2023年（预计）,"6,000"\n'
    )
    sources = _added(tmp_path, text, layout="long")
    con = _warehouse_from(sources)
    try:
        rows = con.execute(
            "SELECT year, status, is_outlook FROM core.observations WHERE source_id = 'cloud_market_2023' ORDER BY year"
        ).fetchall()
    finally:
        con.close()
    assert rows == [
        (2021, "solid", False),
        (2022, "estimate", True),
        (2023, "estimate", True),
        (2025, "forecast", True),
    ]


def test_unreadable_year_cell_is_refused_with_its_text(run, unchanged, tmp_path) -> None:
    table = _table(tmp_path, '指标,年份,数值（亿元）\n云计算,2022年底,"4,550"\n')
    code, err = run(table, "--entry", _entry(tmp_path, layout="long"))
    assert code == 1
    assert (
        f"  {table}, row 2, column '年份': year '2022年底' is not understood; expected 2022, 2022年, or with a "
        "marker: 2022E / 2022年（预计） (estimate), 2025F / 2025P (forecast)"
    ) in err


def test_spreadsheet_normal_cells_are_read(tmp_path: Path) -> None:
    text = CLOUD_CSV.replace('"3,229"', "\t3.229E+03 ").replace('"4,550"', "\u30004550\u00a0")
    sources = _added(tmp_path, text)
    con = _warehouse_from(sources)
    try:
        values = con.execute(
            "SELECT year, value_orig FROM core.observations WHERE source_id = 'cloud_market_2023' ORDER BY year"
        ).fetchall()
    finally:
        con.close()
    assert values == [(2021, 3229.0), (2022, 4550.0)]


# --- messages --------------------------------------------------------------------------------------------------


def test_random_bytes_are_not_called_a_gbk_export(run, unchanged, tmp_path) -> None:
    table = tmp_path / "cloud_market_2023.csv"
    table.write_bytes(b"\xff\xfe" + random.Random(7).randbytes(4000))
    code, err = run(table, "--entry", _entry(tmp_path))
    assert code == 1
    assert "GBK/GB18030 text: re-save" not in err and "reads as GBK" not in err
    assert "it is neither UTF-8 nor GBK/GB18030 text; is it really a CSV table?" in err


def test_bom_followed_by_gbk_is_named_as_such(run, unchanged, tmp_path) -> None:
    table = tmp_path / "cloud_market_2023.csv"
    table.write_bytes(codecs.BOM_UTF8 + CLOUD_CSV.encode("gbk"))
    for entry in (_entry(tmp_path), _entry(tmp_path, encoding="gbk")):
        code, err = run(table, "--entry", entry)
        assert code == 1
        assert "starts with a UTF-8 byte-order mark but the rest is GBK/GB18030 text" in err
        assert "either" not in err


def test_utf8_table_declared_gbk_is_told_to_drop_the_declaration(run, unchanged, tmp_path) -> None:
    code, err = run(_table(tmp_path), "--entry", _entry(tmp_path, encoding="gbk"))
    assert code == 1
    assert "it reads as UTF-8 text: remove `encoding: gbk` from its manifest entry" in err


def test_entry_problem_names_the_entry_file_and_line(run, unchanged, tmp_path) -> None:
    entry = _entry(tmp_path, status="guess")
    code, err = run(_table(tmp_path), "--entry", entry)
    assert code == 1
    assert (
        f"  {entry}, row {_line_of(entry, 'status')}, column 'status': status 'guess' is not one of "
        "solid, approximate, derived, seed, assumption, estimate, forecast"
    ) in err
    assert "manifest.yaml" not in err


def test_broken_entry_yaml_names_its_line(run, unchanged, tmp_path) -> None:
    entry = tmp_path / "entry.yaml"
    entry.write_text("id: cloud_market_2023\nfile: [unclosed\n", encoding="utf-8")
    code, err = run(_table(tmp_path), "--entry", entry)
    assert code == 1
    assert re.search(rf"  {re.escape(str(entry))}, row \d+: is not valid YAML", err)


def test_missing_table_is_a_refusal(run, unchanged, tmp_path) -> None:
    code, err = run(tmp_path / "nowhere.csv", "--entry", _entry(tmp_path))
    assert code == 1
    assert f"  {tmp_path / 'nowhere.csv'}: not found" in err


# --- temp files ------------------------------------------------------------------------------------------------


def test_build_leaves_no_temp_folders(project: Project) -> None:
    """The fixture's build ran with TMPDIR = the sentinel root: WeasyPrint's font folders and the render
    workers' temp folders are gone after it."""
    left = sorted(p.name for p in project.outside.iterdir() if p.name not in ("etc", "data"))
    assert left == []


def test_manifest_diff_is_exactly_the_added_entry_and_the_docs_stay_current(tmp_path: Path) -> None:
    """Comments, order and formatting of the other entries stay byte-identical; the README's generated table
    follows the manifest without a manual step."""
    from conftest import copy_sources

    from pipeline.lib.ingest.manifest_docs import updated_readme
    from pipeline.services.intake import add_source

    sources = copy_sources(tmp_path / "sources")
    before = (sources / "manifest.yaml").read_text(encoding="utf-8")
    add_source(_table(tmp_path), _entry(tmp_path), sources)
    after = (sources / "manifest.yaml").read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n") + "\n")
    added = after[len(before.rstrip("\n")) + 1 :]
    assert yaml.safe_load(added)[0] == {**CLOUD_ENTRY, "published": CLOUD_ENTRY["published"]}
    readme = (sources / "README.md").read_text(encoding="utf-8")
    assert readme == updated_readme(readme, sources)
    assert "| cloud_market_2023 | `cloud_market_2023.csv` |" in readme
