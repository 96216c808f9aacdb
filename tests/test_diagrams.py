"""Every figure of the KPMG report has exactly one counterpart, listed in the annex of both editions; the conceptual
ones are diagrams declared as data and drawn as vector graphics; a malformed diagram file stops the build naming
the file, the line and the key.

The expected figure numbers come from the KPMG report's own text (its captions `图N | …`), not from our code."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from pipeline.config import PROJECT_ROOT
from pipeline.lib.errors import SourceError
from pipeline.lib.report.figures import FIGURES, diagram_model
from pipeline.lib.report.figures.diagram import diagrams_dir, load_diagrams
from pipeline.lib.report.figures.spec_model import keys_tables

LANGS = ("zh", "en")
SEED = Path("/work/shared/seed/000_01d3ad3d5e2588cd.txt")
# the annex table: its title, and how a row names the KPMG report's figure (the reader's wording)
ANNEX = {
    "zh": ("图表目录及其在毕马威报告中的对应图", r"毕马威报告图\s*(\d+)"),
    "en": ("List of figures and their counterparts in the KPMG report", r"KPMG report, Figure\s+(\d+)"),
}
CAPTION = {"zh": r"(?m)^图\s?(\d+) \|", "en": r"(?m)^Figure\s(\d+) \|"}  # a long caption may wrap after 图 / Figure
ROW_LABEL = {"zh": r"(?m)^图(\d+)\s", "en": r"(?m)^Figure (\d+)\s"}
VECTOR_OPS = 1500  # path operators on a page holding a diagram (its glyphs are paths); a text page has a few hundred


def seed_figures() -> list[int]:
    """The figure numbers of the KPMG report, read from its captions."""
    if not SEED.is_file():
        pytest.skip("the KPMG report's text is not on this machine")
    return sorted({int(n) for n in re.findall(r"(?m)^图\s?(\d+)\s*\|", SEED.read_text(encoding="utf-8"))})


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def pdfs(built_template: Path) -> dict[str, Path]:
    return {lang: built_template / "out" / f"report_{lang}.pdf" for lang in LANGS}


def annex_table(text: str, lang: str) -> str:
    """The text of the annex table listing the figures: from its caption to the next appendix chapter (D)."""
    title = r"\s+".join(re.escape(word) for word in ANNEX[lang][0].split())
    caption = re.search(rf"(?:表 ?|Table )\d+ \| {title}", text)
    assert caption, f"{lang}: the annex has no table {ANNEX[lang][0]!r}"
    end = re.compile(r"(?m)^D\. ").search(text, caption.end())
    return text[caption.end() : end.start() if end else len(text)]


@pytest.mark.parametrize("lang", LANGS)
def test_every_kpmg_figure_has_exactly_one_counterpart_in_the_annex(pdfs, lang: str) -> None:
    expected = seed_figures()
    assert expected == list(range(1, 21)), expected  # the KPMG report numbers its figures 1 to 20
    table = annex_table(pdf_text(pdfs[lang]), lang)
    named = [int(n) for n in re.findall(ANNEX[lang][1], table)]
    assert sorted(named) == expected, f"{lang}: counterparts named {sorted(named)}"


@pytest.mark.parametrize("lang", LANGS)
def test_the_annex_lists_every_figure_of_the_edition(pdfs, lang: str) -> None:
    text = pdf_text(pdfs[lang])
    captions = sorted({int(n) for n in re.findall(CAPTION[lang], text)})
    assert len(captions) >= 21, f"{lang}: {len(captions)} figures"
    rows = sorted(int(n) for n in re.findall(ROW_LABEL[lang], annex_table(text, lang)))
    assert rows == captions, f"{lang}: annex rows {rows} for figures {captions}"


def _path_operators(page) -> int:
    """Path-construction operators (m, l, c, v, y) in a page's content stream."""
    data = page.get_contents().get_data()
    return len(re.findall(rb"(?<![A-Za-z])[mlcvy](?![A-Za-z])", data))


def _placed_images(pdf: Path, page: int) -> int:
    out = subprocess.run(
        ["pdfimages", "-list", "-f", str(page), "-l", str(page), str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    return sum(1 for line in out.splitlines()[2:] if line.split()[2] == "image")


@pytest.mark.parametrize("lang", LANGS)
def test_a_diagram_is_drawn_as_vector_graphics(pdfs, lang: str) -> None:
    """Each page holding a diagram has as many raster images as raster charts (the diagram adds none) and the
    thousands of path operators of its drawing and lettering."""
    reader = PdfReader(pdfs[lang])
    texts = [re.sub(r"\s+", "", page.extract_text()) for page in reader.pages]
    diagrams = [f for f in FIGURES.values() if f.image_format == "svg"]
    rasters = [f for f in FIGURES.values() if f.kind == "chart" and f.image_format == "png"]
    assert len(diagrams) >= 10
    for figure in diagrams:
        caption = "|" + re.sub(r"\s+", "", figure.title(lang))  # the caption, not the annex row
        pages = [i for i, text in enumerate(texts) if caption in text]
        assert len(pages) == 1, f"{lang}: the caption of {figure.id} is on pages {[p + 1 for p in pages]}"
        i = pages[0]
        charts_here = sum("|" + re.sub(r"\s+", "", f.title(lang)) in texts[i] for f in rasters)
        assert _placed_images(pdfs[lang], i + 1) == charts_here, f"{lang}: {figure.id} on page {i + 1} is an image"
        assert _path_operators(reader.pages[i]) >= VECTOR_OPS, f"{lang}: {figure.id} on page {i + 1} has few paths"


def test_a_diagram_is_an_svg_with_its_text_as_paths_and_the_same_bytes_twice(tmp_path: Path) -> None:
    figure = FIGURES["fig13"]
    data = figure.data(None)
    for lang in LANGS:
        first = figure.draw(data, lang, tmp_path / f"a_{lang}.svg").read_text(encoding="utf-8")
        second = figure.draw(data, lang, tmp_path / f"b_{lang}.svg").read_text(encoding="utf-8")
        assert first == second, f"{lang}: drawing twice gives different bytes"
        assert "<text" not in first and "<path" in first, "text must be drawn as paths"
        assert "<dc:date>" not in first


def test_each_diagram_cites_the_kpmg_figure_it_stands_for() -> None:
    for figure in (f for f in FIGURES.values() if f.image_format == "svg"):
        (citation,) = figure.citations
        assert re.match(rf"图{figure.seed_figure} / Figure {figure.seed_figure}\b", citation.reference), figure.id


# --- refusals ---------------------------------------------------------------------------------------------------


def _broken(tmp_path: Path, name: str, old: str, new: str) -> tuple[Path, int]:
    """A copy of the report's diagrams with `old` replaced by `new` in `name`; the line of the change."""
    folder = tmp_path / "diagrams"
    shutil.copytree(diagrams_dir(), folder)
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return folder, text[: text.index(old)].count("\n") + 1


def test_an_unknown_level_is_refused_naming_file_line_and_key(tmp_path: Path) -> None:
    folder, line = _broken(
        tmp_path,
        "fig02.yaml",
        "    level: low\n    label: {zh: 研究经费",
        "    level: lowest\n    label: {zh: 研究经费",
    )
    with pytest.raises(SourceError) as err:
        load_diagrams(folder)
    assert str(err.value) == (
        f"diagrams/fig02.yaml, row {line}, column 'events[2].level': level 'lowest' is not one of low, mid, high, top"
    )


def test_a_misspelt_key_is_refused_naming_file_line_and_key(tmp_path: Path) -> None:
    folder, line = _broken(tmp_path, "fig08.yaml", "      - label: {zh: 云计算服务", "      - lable: {zh: 云计算服务")
    with pytest.raises(SourceError) as err:
        load_diagrams(folder)
    assert str(err.value) == (
        f"diagrams/fig08.yaml, row {line}, column 'groups[2].nodes[2].label': missing required key 'label' "
        "(the box's words)\n"
        f"diagrams/fig08.yaml, row {line}, column 'groups[2].nodes[2].lable': unknown key 'lable'; "
        "the keys are label, detail, emphasis"
    )


def test_a_key_the_layout_does_not_draw_is_refused(tmp_path: Path) -> None:
    folder, line = _broken(
        tmp_path, "fig13.yaml", "flow: true\n", "flow: true\ncentre: {label: {zh: 中心, en: Centre}}\n"
    )
    with pytest.raises(SourceError) as err:
        load_diagrams(folder)
    assert str(err.value) == (
        f"diagrams/fig13.yaml, row {line + 1}, column 'centre': a columns diagram does not draw 'centre'; "
        "it draws groups, flow, top, bottom"
    )


def test_the_docs_list_every_key_of_the_format() -> None:
    text = (PROJECT_ROOT / "docs" / "chart-specs.md").read_text(encoding="utf-8")
    block = text.split("<!-- diagram-keys:begin -->\n")[1].split("<!-- diagram-keys:end -->")[0]
    assert block == keys_tables(diagram_model.MODELS), (
        "docs/chart-specs.md is out of date: run scripts/chart_spec_docs.py"
    )
