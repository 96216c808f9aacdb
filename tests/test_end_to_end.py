"""The whole chain in one Dagster run (in-process) on a temp copy: sources → warehouse → charts → PDFs."""

from __future__ import annotations

import os
import re
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
    env = {
        **os.environ,
        "REPORT_SOURCES_DIR": str(sources),
        "REPORT_OUTPUT_DIR": str(root / "out"),
        "DAGSTER_HOME": str(root / "dagster_home"),
        "FONTCONFIG_FILE": str(fc),
        "MPLCONFIGDIR": str(root / "mpl"),
    }
    env.pop("REPORT_WAREHOUSE", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "build"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
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
    cloud = con.execute(
        "SELECT value FROM core.observations_latest WHERE series_id = 'cloud_market' AND "
        "year = 2021 AND geography = 'CN'"
    ).fetchone()[0]
    con.close()
    zh = _text(build["out"] / "report_zh.pdf")
    en = _text(build["out"] / "report_en.pdf")
    assert f"{cloud / 1e8:,.0f}亿元" in zh.replace("\n", "")
    assert f"RMB {cloud / 1e9:,.1f} bn" in en.replace("\n", " ")
    assert "CAICT" in en and "中国信息通信研究院" not in en and "中国信息通信研究院" in zh  # publisher per language


def test_cjk_font_embedded_and_no_glyph_missing(build) -> None:
    reader = PdfReader(build["out"] / "report.pdf")
    fonts = set()
    for page in reader.pages:
        for font in (page.get("/Resources") or {}).get("/Font", {}).values():
            fonts.add(str(font.get_object().get("/BaseFont")))
    assert any("Noto-Sans-SC" in f for f in fonts), fonts
    assert ".notdef" not in build["stdout"] and "missing from font" not in build["stdout"]


def _page_texts(pdf: Path) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(pdf).pages]


FOOTER = re.compile(r"^(?:Page \d+ of \d+|第 ?\d+ ?页 ?/ ?共 ?\d+ ?页)$")


def _body_texts(pdf: Path) -> list[str]:
    """Each page's text without its running header and footer (the two last lines pypdf extracts), so that a
    number broken across a page reads whole."""
    bodies = []
    for text in _page_texts(pdf):
        lines = text.split("\n")
        if lines and FOOTER.match(lines[-1].strip()):
            lines = lines[:-2]
        bodies.append("\n".join(lines))
    return bodies


@pytest.mark.parametrize("edition", ["report_zh.pdf", "report_en.pdf"])
def test_toc_page_numbers_match_where_headings_land(build, edition: str) -> None:
    pdf = build["out"] / edition
    reader = PdfReader(pdf)
    landed = {
        item.title: reader.get_destination_page_number(item) + 1
        for item in reader.outline
        if not isinstance(item, list)
    }
    toc_page = next(t for t in _page_texts(pdf)[1:3] if "目录" in t or "Contents" in t)
    entries = dict(
        (title.strip(), int(num)) for title, num in re.findall(r"^(.+?)\s*\.{3,}\s*(\d+)\s*$", toc_page, re.MULTILINE)
    )
    assert len(entries) >= 10, toc_page
    for title, page in entries.items():
        assert landed.get(title) == page, f"TOC says {title!r} is on page {page}, it is on {landed.get(title)}"


@pytest.mark.parametrize(
    ("edition", "fig", "tab"),
    [
        ("report_zh.pdf", r"(?<!KPMG )图\s*(\d+)(?![\d-])", r"表\s*(\d+)"),  # not a title ending in 图 before a date
        ("report_en.pdf", r"(?<!KPMG fig\. )Figures?\s+(\d+)", r"Tables?\s+(\d+)"),
    ],
)
def test_every_referenced_figure_and_table_exists(build, edition: str, fig: str, tab: str) -> None:
    text = " ".join(_page_texts(build["out"] / edition))
    captions_fig = {int(n) for n in re.findall(fig + r"\s*\|", text)}
    captions_tab = {int(n) for n in re.findall(tab + r"\s*\|", text)}
    assert captions_fig == set(range(1, len(captions_fig) + 1)) and len(captions_fig) >= 12
    assert captions_tab == set(range(1, len(captions_tab) + 1)) and len(captions_tab) >= 5
    referenced_fig = {int(n) for n in re.findall(fig, text)}
    referenced_tab = {int(n) for n in re.findall(tab, text)}
    assert referenced_fig <= captions_fig, referenced_fig - captions_fig
    assert referenced_tab <= captions_tab | captions_fig, referenced_tab - captions_tab


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_number_of_the_context_is_in_the_pdf(build, lang: str) -> None:
    from pipeline.lib.report.build import chart_paths, read_context
    from pipeline.lib.report.context import edition_view

    ctx = read_context(build["out"] / "build" / "context.json")
    view = edition_view(ctx, lang, chart_paths(ctx, build["out"] / "build" / "charts")[lang])
    text = re.sub(r"\s+", "", "".join(_body_texts(build["out"] / f"report_{lang}.pdf")))
    missing = [n for n in view.numbers if re.sub(r"\s+", "", n) not in text]
    assert len(view.numbers) >= 40
    assert missing == []


@pytest.mark.parametrize("edition", ["report_zh.pdf", "report_en.pdf"])
def test_no_reference_reaches_a_reader(build, edition: str) -> None:
    """Every {kind:…} of the pages is resolved: the PDF's text holds no brace at all."""
    text = "".join(_page_texts(build["out"] / edition))
    assert "{" not in text and "}" not in text, re.findall(r".{0,30}[{}].{0,30}", text)


def test_same_inputs_give_byte_identical_pdfs(build, tmp_path: Path) -> None:
    out = build["out"]
    for target in ("a", "b"):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pipeline.lib.report.build",
                str(out / "build" / "context.json"),
                str(out / "build" / "charts"),
                str(tmp_path / target),
                str(PROJECT_ROOT / "sources" / "fx_rates.csv"),
            ],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stderr
    for name in ("report.pdf", "report_zh.pdf", "report_en.pdf"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_bilingual_volume_joins_both_editions_with_a_bookmark_each(build) -> None:
    out = build["out"]
    volume = PdfReader(out / "report.pdf")
    zh_pages = len(PdfReader(out / "report_zh.pdf").pages)
    assert len(volume.pages) == zh_pages + len(PdfReader(out / "report_en.pdf").pages)
    editions = yaml.safe_load(
        (PROJECT_ROOT / "report_templates/computing_power/report.yaml").read_text(encoding="utf-8")
    )["editions"]
    labels = [editions[lang]["name"] for lang in ("zh", "en")]
    assert [item.title for item in volume.outline if not isinstance(item, list)] == labels
    assert [len(item) >= 10 for item in volume.outline if isinstance(item, list)] == [True, True]
    dests, links = volume.named_destinations, 0
    for number, page in enumerate(volume.pages):
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if "/Dest" in annot:
                links += 1
                target = volume.get_destination_page_number(dests[str(annot["/Dest"])])
                assert (target >= zh_pages) == (number >= zh_pages), f"link on page {number + 1} leaves its part"
    assert links >= 20
    root = volume.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert "/OutputIntents" in root and 'pdfaid:part="3"' in xmp and f">{volume.metadata.title}<" in xmp
    assert {"manifest.yaml", "fig11_market_size.csv"} <= set(volume.attachments)


def test_pdf_metadata_and_attachments(build) -> None:
    reader = PdfReader(build["out"] / "report_zh.pdf")
    meta = reader.metadata
    assert meta.title == "普惠算力 开启新计算时代" and meta.author
    assert reader.trailer["/Root"].get("/Lang") == "zh-CN"
    attached = set(reader.attachments)
    assert {"manifest.yaml", "fig11_market_size.csv", "forecast_assumptions.csv"} <= attached


def test_missing_glyph_fails_the_build_even_without_a_system_cjk_font(tmp_path: Path) -> None:
    fc = tmp_path / "fonts.conf"
    fc.write_text(MINIMAL_FONTCONFIG.format(cache=tmp_path / "cache"), encoding="utf-8")
    script = (
        "from weasyprint import HTML\nfrom pipeline.lib.report.render import failing_on_missing_glyphs\n"
        "with failing_on_missing_glyphs('test'):\n"
        "    HTML(string='<html lang=\"zh-CN\"><p>算力 \\U00020000</p></html>').render().write_pdf()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "FONTCONFIG_FILE": str(fc)},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0 and "MissingGlyphError" in proc.stderr


def test_prose_precheck_names_the_missing_character() -> None:
    from pipeline.lib.report.render import layout
    from pipeline.lib.report.style import MissingGlyphError

    with pytest.raises(MissingGlyphError, match="\U00020000"):
        layout("<html lang='zh-CN'><p>算力 \U00020000</p></html>")


def test_ui_previews_are_small_thumbnails(build) -> None:
    from PIL import Image

    from pipeline.lib.report.charts import THUMBNAIL_PX

    thumbs = sorted((build["out"] / "build" / "charts").glob("*_thumb.png"))
    assert len(thumbs) >= 12
    for thumb in thumbs:
        with Image.open(thumb) as image:
            assert max(image.size) <= THUMBNAIL_PX, thumb.name
        assert thumb.stat().st_size < 60_000, thumb.name  # stored in Dagster's event log on every run


def test_volume_without_pypdf_private_members_is_still_written(build, tmp_path: Path, monkeypatch) -> None:
    """The fallback if a pypdf upgrade drops `_add_object`: both parts, bookmarks and pages are still there."""
    from pipeline.lib.report import volume

    monkeypatch.setattr(volume, "PRIVATE_API", False)
    out = build["out"]
    parts = [("中文版", out / "report_zh.pdf"), ("English", out / "report_en.pdf")]
    pages = volume.join_parts(parts, tmp_path / "volume.pdf", "title", b"0" * 32)
    joined = PdfReader(tmp_path / "volume.pdf")
    assert pages == len(joined.pages) == sum(len(PdfReader(p).pages) for _, p in parts)
    assert [item.title for item in joined.outline if not isinstance(item, list)] == ["中文版", "English"]


def test_pinned_pypdf_has_the_private_members_the_volume_uses() -> None:
    from pipeline.lib.report import volume

    assert volume.PRIVATE_API, "pypdf no longer has PdfWriter._add_object: see pipeline/lib/report/volume.py"
