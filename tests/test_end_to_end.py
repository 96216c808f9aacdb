"""The whole chain in one Dagster run (in-process) on a temp copy: sources → warehouse → charts → PDFs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from pypdf import PdfReader

from pipeline.config import PROJECT_ROOT

MINIMAL_FONTCONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{cache}</cachedir></fontconfig>
"""


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Run `reportctl build` in a subprocess whose fontconfig knows no CJK font at all."""
    from conftest import copy_sources

    root = tmp_path_factory.mktemp("e2e")
    sources = copy_sources(root / "sources")
    fc = root / "fonts.conf"
    fc.write_text(MINIMAL_FONTCONFIG.format(cache=root / "fc-cache"), encoding="utf-8")
    env = {**os.environ, "REPORT_SOURCES_DIR": str(sources), "REPORT_OUTPUT_DIR": str(root / "out"),
           "DAGSTER_HOME": str(root / "dagster_home"), "FONTCONFIG_FILE": str(fc),
           "MPLCONFIGDIR": str(root / "mpl")}
    env.pop("REPORT_WAREHOUSE", None)
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "build"], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {"out": root / "out", "log": Path(root / "log.txt"), "stdout": proc.stdout + proc.stderr}


def _text(pdf: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(pdf).pages)


def test_pdfs_exist_with_both_languages(build) -> None:
    out = build["out"]
    for name in ("report_zh.pdf", "report_en.pdf", "report.pdf"):
        assert (out / name).stat().st_size > 10_000
    text = _text(out / "report.pdf").replace("\n", "")
    titles = yaml.safe_load((PROJECT_ROOT / "report_templates/i18n/figures.yaml").read_text(encoding="utf-8"))
    assert titles["fig11"]["title"]["zh"] in text
    assert " ".join(titles["fig11"]["title"]["en"].split()) in " ".join(_text(out / "report.pdf").split())
    assert (out / "latest" / "report.pdf").read_bytes() == (out / "report.pdf").read_bytes()


def test_pdf_numbers_come_from_the_warehouse(build) -> None:
    con = duckdb.connect(str(build["out"] / "warehouse.duckdb"), read_only=True)
    cloud = con.execute("SELECT value FROM core.observations_latest WHERE series_id = 'cloud_market' AND "
                        "year = 2021 AND geography = 'CN'").fetchone()[0]
    con.close()
    zh = _text(build["out"] / "report_zh.pdf")
    en = _text(build["out"] / "report_en.pdf")
    assert f"{cloud / 1e8:,.0f}亿元" in zh.replace("\n", "")
    assert f"RMB {cloud / 1e9:,.1f} bn" in en.replace("\n", " ")


def test_cjk_font_embedded_and_no_glyph_missing(build) -> None:
    reader = PdfReader(build["out"] / "report.pdf")
    fonts = set()
    for page in reader.pages:
        for font in (page.get("/Resources") or {}).get("/Font", {}).values():
            fonts.add(str(font.get_object().get("/BaseFont")))
    assert any("Noto-Sans-SC" in f for f in fonts), fonts
    assert ".notdef" not in build["stdout"] and "missing from font" not in build["stdout"]
