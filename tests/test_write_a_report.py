"""docs/write-a-report.md, the walkthrough, step by step on a copy of the project: a new chart spec from the doc,
its paragraph and directive added to both editions, `reportctl build`; the new chart is an asset of the run and
both PDFs show the two numbers formatted and the chart's number. Expected values come from the warehouse the build
made, the figure number from counting the pages' figures."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import yaml
from conftest import copy_sources, project_env
from pypdf import PdfReader

from pipeline.config import PROJECT_ROOT

DOC = PROJECT_ROOT / "docs" / "write-a-report.md"
PAGES = Path("report_templates") / "computing_power"


def _snippets() -> dict[str, str]:
    """{file: text} of the doc's fenced blocks whose info string names a file: `markdown <lang>/<page>.md` or
    `yaml charts/<id>.yaml`."""
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"^( *)```(?:markdown|yaml) (\S+\.(?:md|yaml))\n(.*?)^\1```", text, re.MULTILINE | re.DOTALL)
    return {page: re.sub(rf"^{indent}", "", body, flags=re.MULTILINE) for indent, page, body in blocks}


def _figures_before_end_of(project: Path, lang: str, chapter: str) -> int:
    """How many figures the edition shows up to the end of `chapter`, counted from the report definition and its
    pages."""
    order = yaml.safe_load((project / PAGES / "report.yaml").read_text(encoding="utf-8"))["chapters"]
    count = 0
    for name in order[: order.index(chapter) + 1]:
        text = (project / PAGES / lang / f"{name}.md").read_text(encoding="utf-8")
        count += len(re.findall(r"^::: figure ", text, re.MULTILINE))
    return count


def _copy_project(target: Path) -> Path:
    ignore = shutil.ignore_patterns(".*", "__pycache__", "output", "tests", "docs", "sources", "*.egg-info")
    shutil.copytree(PROJECT_ROOT, target, ignore=ignore)
    copy_sources(target / "sources")
    return target


def _context_code(project: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", "from pipeline.defs.report.assets import CONTEXT_CODE; print(CONTEXT_CODE)"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


def _text(pdf: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(pdf).pages)


def test_walkthrough(built_template: Path, tmp_path: Path) -> None:
    """The analyst's project has been built before (its output and Dagster home: copies of the session's build)."""
    project = _copy_project(tmp_path / "project")
    for name in ("out", "home"):
        shutil.copytree(built_template / name, tmp_path / name, symlinks=True)
    before = _context_code(project)
    snippets = _snippets()
    assert set(snippets) == {"charts/de_share.yaml", "zh/02-concept.md", "en/02-concept.md"}

    # step 1: the chart spec, a new file
    spec_path = project / "report_templates" / "charts" / "de_share.yaml"
    assert not spec_path.exists(), "the walkthrough's chart is new"
    spec_path.write_text(snippets["charts/de_share.yaml"], encoding="utf-8")
    # steps 2 and 3: the paragraph and its directive at the end of chapter 2, in both languages
    for page in ("zh/02-concept.md", "en/02-concept.md"):
        path = project / PAGES / page
        path.write_text(path.read_text(encoding="utf-8") + "\n" + snippets[page], encoding="utf-8")
    assert _context_code(project) != before, "an edited page makes the report context stale"
    number = {lang: _figures_before_end_of(project, lang, "02-concept") for lang in ("zh", "en")}

    # step 4: build
    env = project_env(project / "sources", tmp_path)
    built = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "build"], env=env, cwd=project, capture_output=True, text=True
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert "charts/digital_economy_gdp_share" in built.stdout, "the new chart is an asset of the run"

    con = duckdb.connect(str(tmp_path / "out" / "warehouse.duckdb"), read_only=True)
    try:
        values = dict(
            con.execute(
                "SELECT year, value FROM core.observations_latest WHERE series_id = 'digital_economy_gdp_share' "
                "AND geography = 'CN' AND segment = 'total' AND NOT is_outlook"
            ).fetchall()
        )
    finally:
        con.close()
    latest = max(values)
    first, last = (f"{round(values[year], 1):g}%" for year in (2016, latest))
    spec = yaml.safe_load(snippets["charts/de_share.yaml"])
    title = spec["labels"]["title"]

    zh = re.sub(r"\s+", "", _text(tmp_path / "out" / "report_zh.pdf"))
    caption = re.escape(re.sub(r"\s+", "", title["zh"]))
    assert re.search(rf"图{number['zh']}\|{caption}", zh), "the chart is captioned with its number"
    assert f"其占GDP的比重从2016年的{first}升至{latest}年的{last}（见图{number['zh']}）。" in zh

    en = " ".join(_text(tmp_path / "out" / "report_en.pdf").split())
    assert f"Figure {number['en']} | {' '.join(title['en'].split())}" in en
    assert f"its share of GDP rose from {first} in 2016 to {last} in {latest} (Figure {number['en']})." in en
