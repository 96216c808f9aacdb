"""docs/write-a-report.md, the walkthrough, step by step on a copy of the project: the paragraphs of the doc added
to both editions, the chart moved, `reportctl build`; both PDFs show the two numbers formatted and the chart's
number. Expected values come from the warehouse the build made."""

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
    """{page: text} of the doc's fenced blocks whose info string is `markdown <lang>/<page>.md`."""
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"^( *)```markdown (\S+\.md)\n(.*?)^\1```", text, re.MULTILINE | re.DOTALL)
    return {page: re.sub(rf"^{indent}", "", body, flags=re.MULTILINE) for indent, page, body in blocks}


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


def test_walkthrough(tmp_path: Path) -> None:
    project = _copy_project(tmp_path / "project")
    before = _context_code(project)

    # steps 1 and 2: the paragraph and its directive at the end of chapter 2, in both languages
    snippets = _snippets()
    assert set(snippets) == {"zh/02-concept.md", "en/02-concept.md"}
    chapters = ("01-background", "02-concept")
    placed = "".join((project / PAGES / "zh" / f"{c}.md").read_text(encoding="utf-8") for c in chapters)
    expected = str(len(re.findall(r"(?m)^::: figure ", placed)) + 1)  # after every figure of chapters 1 and 2
    for page, text in snippets.items():
        path = project / PAGES / page
        path.write_text(path.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")
    # step 3: the chart is shown once per edition: its line goes from chapter 7
    assert "delete the line `::: figure digital_economy`" in DOC.read_text(encoding="utf-8")
    for lang in ("zh", "en"):
        path = project / PAGES / lang / "07-outlook.md"
        path.write_text(path.read_text(encoding="utf-8").replace("::: figure digital_economy\n", ""), encoding="utf-8")
    assert _context_code(project) != before, "an edited page makes the report context stale"

    # step 4: build
    env = project_env(project / "sources", tmp_path)
    built = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "build"], env=env, cwd=project, capture_output=True, text=True
    )
    assert built.returncode == 0, built.stdout + built.stderr

    con = duckdb.connect(str(tmp_path / "out" / "warehouse.duckdb"), read_only=True)
    try:
        values = dict(
            con.execute(
                "SELECT year, value FROM core.observations_latest WHERE series_id = 'digital_economy_size' "
                "AND geography = 'CN' AND segment = 'total' AND NOT is_outlook"
            ).fetchall()
        )
    finally:
        con.close()
    latest = max(values)
    start = values[2016]
    growth = f"{((values[latest] / start) ** (1 / (latest - 2016)) - 1) * 100:.1f}%"
    spec = yaml.safe_load((project / "report_templates/charts/digital_economy.yaml").read_text(encoding="utf-8"))
    title = spec["labels"]["title"]

    zh = re.sub(r"\s+", "", _text(tmp_path / "out" / "report_zh.pdf"))
    caption = re.escape(re.sub(r"\s+", "", title["zh"]))
    number = re.search(rf"图(\d+)\|{caption}", zh)
    assert number, "the chart is captioned"
    assert number.group(1) == expected, "the last figure of chapter 2, after those of chapters 1 and 2"
    assert (
        f"2016年以来，中国数字经济规模从{start / 1e12:.1f}万亿元增长到{latest}年的{values[latest] / 1e12:.1f}万亿元，"
        f"年均增长{growth}（见图{expected}）。" in zh
    )

    en = " ".join(_text(tmp_path / "out" / "report_en.pdf").split())
    assert f"Figure {expected} | {' '.join(title['en'].split())}" in en
    assert (
        f"Since 2016, China's digital economy has grown from RMB {start / 1e12:.1f} tn to RMB "
        f"{values[latest] / 1e12:.1f} tn in {latest}, or {growth} a year (Figure {expected})." in en
    )
