"""Print-grade layout, measured on the built PDFs: chart resolution, greyscale-readable series, punctuation and
hyphens, source lines under figures, page fill and table splits (poppler-utils: pdfimages, pdftotext, pdftoppm)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline.lib.report.figures import FIGURES

LANGS = ("zh", "en")
MIN_PPI = 300
CAPTION = {"zh": r"(?m)^图\s?(\d+) \|", "en": r"(?m)^Figure\s(\d+) \|"}  # a long caption may wrap after 图/Figure


@pytest.fixture(scope="module")
def pdfs(built_template: Path) -> dict[str, Path]:
    """The two editions of the session's build (read only)."""
    return {lang: built_template / "out" / f"report_{lang}.pdf" for lang in LANGS}


def pdf_text(pdf: Path, *options: str) -> str:
    """`pdftotext` of the whole PDF (reading order; pages separated by form feeds)."""
    return subprocess.run(["pdftotext", *options, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@dataclass(frozen=True)
class PlacedImage:
    page: int
    width_px: int
    x_ppi: int
    y_ppi: int


def placed_images(pdf: Path) -> list[PlacedImage]:
    """Every raster image drawn on a page, with its pixels per inch at the size it is placed (`pdfimages -list`)."""
    out = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    images = []
    for line in out.splitlines()[2:]:
        cols = line.split()
        if cols[2] == "image":  # not an soft mask
            images.append(
                PlacedImage(page=int(cols[0]), width_px=int(cols[3]), x_ppi=int(cols[12]), y_ppi=int(cols[13]))
            )
    return images


def vector_figures(lang: str) -> list[str]:
    """The figures of the edition drawn as vector graphics (placed in its pages, registered as SVG)."""
    from pipeline.lib.report.pages import report_dir

    placed = re.findall(r"(?m)^::: figure (\S+)$", "".join(p.read_text() for p in (report_dir() / lang).glob("*.md")))
    return [fid for fid in placed if FIGURES[fid].image_format == "svg"]


@pytest.mark.parametrize("lang", LANGS)
def test_every_chart_is_at_least_300_ppi_at_its_printed_size(pdfs, lang: str) -> None:
    images = placed_images(pdfs[lang])
    captions = set(re.findall(CAPTION[lang], pdf_text(pdfs[lang])))
    vector = vector_figures(lang)  # drawn as paths: no raster image, no resolution to check
    assert len(images) == len(captions) - len(vector), (
        f"{lang}: {len(images)} images for {len(captions)} figure captions, {len(vector)} of them vector"
    )
    low = [i for i in images if min(i.x_ppi, i.y_ppi) < MIN_PPI]
    assert not low, f"{lang}: images under {MIN_PPI} ppi at their printed size: {low}"


# --- 2. series told apart in greyscale ----------------------------------------------------------------------------

GREY_STEP = 0.2  # two entries of one legend drawn alike must differ at least this much in grey (0 black, 1 white)


def _grey(color: Any, alpha: float | None = None) -> float:
    """Luminance of `color` laid over white paper (0 black … 1 white)."""
    from matplotlib.colors import to_rgba

    r, g, b, a = to_rgba(color)
    a = a if alpha is None else alpha
    r, g, b = (a * v + (1 - a) for v in (r, g, b))
    return 0.299 * r + 0.587 * g + 0.114 * b


@dataclass(frozen=True)
class Look:
    """How a legend entry looks on a greyscale page: its shapes (dash pattern, marker, hatch) and its greys."""

    shape: tuple[str, ...]
    greys: tuple[float, ...]

    def confusable(self, other: Look) -> bool:
        return self.shape == other.shape and all(
            abs(a - b) < GREY_STEP for a, b in zip(self.greys, other.greys, strict=True)
        )


def look(handle: Any) -> Look:
    """The greyscale look of a legend handle (a line, a patch or a collection)."""
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if isinstance(handle, Line2D):
        dashes = str(handle._unscaled_dash_pattern) if handle.get_linestyle() not in ("None", "") else "none"
        face = handle.get_markerfacecolor() if handle.get_marker() not in ("None", "", None) else "white"
        shape = ("line", dashes, str(handle.get_marker()))
        return Look(shape, (_grey(handle.get_color(), handle.get_alpha()), _grey(face, handle.get_alpha())))
    if isinstance(handle, Patch):
        shape = ("patch", str(handle.get_hatch() or ""), str(handle.get_linestyle()))
        return Look(shape, (_grey(handle.get_facecolor()), _grey(handle.get_edgecolor())))
    if isinstance(handle, Collection):
        face = handle.get_facecolor()
        shape = ("collection", str(handle.get_hatch() or ""), str(getattr(handle, "get_paths", list)()[:1]))
        return Look(shape, (_grey(face[0]) if len(face) else 1.0,))
    raise AssertionError(f"unexpected legend handle {handle!r}")


def drawn_legends(
    figure_id: str, data: Any, lang: str, tmp_path: Path, monkeypatch, labels: list[str]
) -> list[list[tuple[str, Look]]]:
    """Draw a chart and return each legend's entries (label, greyscale look) as saved; the texts drawn on its axes
    (labels, annotations: not the legends) are added to `labels`."""
    from pipeline.lib.report import style

    legends: list[list[tuple[str, Look]]] = []
    save = style.save

    def recording(fig: Any, path: Path) -> Path:
        labels.extend(t.get_text() for ax in fig.axes for t in ax.texts)
        found = [*fig.legends, *(ax.get_legend() for ax in fig.axes)]
        for leg in (x for x in found if x is not None):
            texts = [t.get_text() for t in leg.get_texts()]
            legends.append([(t, look(h)) for t, h in zip(texts, leg.legend_handles, strict=True)])
        return save(fig, path)

    monkeypatch.setattr(style, "save", recording)
    FIGURES[figure_id].draw(data, lang, tmp_path / f"{figure_id}_{lang}.png")
    return legends


CHART_IDS = sorted(fid for fid, f in FIGURES.items() if f.kind == "chart")


@pytest.fixture(scope="module")
def chart_data(built_template: Path) -> dict[str, Any]:
    """Every chart's data, read from the session build's warehouse."""
    import duckdb

    con = duckdb.connect(str(built_template / "out" / "warehouse.duckdb"), read_only=True)
    try:
        return {fid: FIGURES[fid].data(con) for fid in CHART_IDS}
    finally:
        con.close()


@pytest.mark.parametrize("figure_id", CHART_IDS)
def test_legend_entries_differ_without_colour(chart_data, figure_id: str, tmp_path: Path, monkeypatch) -> None:
    for lang in LANGS:
        labels: list[str] = []
        legends = drawn_legends(figure_id, chart_data[figure_id], lang, tmp_path, monkeypatch, labels)
        series = chart_data[figure_id].to_json().get("series")
        if isinstance(series, list) and len(series) > 1:  # lines of several series: each named on the plot
            on_plot = " ".join(labels).replace("\n", "" if lang == "zh" else " ")
            unnamed = [s["name"][lang] for s in series if s["name"][lang] not in on_plot]
            assert not unnamed, f"{figure_id} ({lang}): series not named at their lines: {unnamed}"
        for entries in legends:
            alike = [(a[0], b[0]) for i, a in enumerate(entries) for b in entries[i + 1 :] if a[1].confusable(b[1])]
            assert not alike, f"{figure_id} ({lang}): legend entries alike in greyscale: {alike}"


# --- 3. punctuation and hyphens -----------------------------------------------------------------------------------

CJK = "[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]"


def test_chinese_text_uses_full_width_punctuation(pdfs) -> None:
    text = pdf_text(pdfs["zh"])
    assert "资料来源：" in text
    found = [m.group(0) for m in re.finditer(rf"{CJK}\s*[,;:()]\s*{CJK}", text)]
    assert not found, f"ASCII , ; : ( ) between Chinese characters: {found[:10]}"


def test_english_text_has_no_raised_or_soft_hyphen_glyphs(pdfs) -> None:
    text = pdf_text(pdfs["en"])
    assert "Source: " in text
    found = sorted({f"U+{ord(ch):04X}" for ch in re.findall("[\u00ad\u2010\u2011\u2012]", text)})
    assert not found, f"hyphen glyphs other than U+002D in the English edition: {found}"


# --- 4. source lines under figures and tables ---------------------------------------------------------------------


@dataclass(frozen=True)
class TextLine:
    page: int
    top: float
    height: float
    text: str


def text_lines(pdf: Path) -> list[TextLine]:
    """The PDF's lines of words, top to bottom on each page (`pdftotext -bbox`: one box per word, grouped here by
    page and top edge)."""
    import xml.etree.ElementTree as ET

    xml = pdf_text(pdf, "-bbox")
    root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", xml))
    lines: list[TextLine] = []
    for number, page in enumerate(root.iter("{http://www.w3.org/1999/xhtml}page"), 1):
        rows: dict[float, list[tuple[float, float, str]]] = {}
        for word in page.iter("{http://www.w3.org/1999/xhtml}word"):
            top, bottom = float(word.get("yMin")), float(word.get("yMax"))
            key = next((k for k in rows if abs(k - top) < 1.0), top)
            rows.setdefault(key, []).append((float(word.get("xMin")), bottom - top, word.text or ""))
        for top in sorted(rows):
            words = sorted(rows[top])
            lines.append(TextLine(number, top, max(w[1] for w in words), " ".join(w[2] for w in words)))
    return lines


def source_line_heights(pdf: Path, label: str) -> list[tuple[str, int]]:
    """Each source line (starting with `label`) with the number of lines it takes: it and the lines right below it
    in the same type size."""
    lines = text_lines(pdf)
    found = []
    for i, line in enumerate(lines):
        if not line.text.startswith(label):
            continue
        n, last = 1, line
        for below in lines[i + 1 :]:
            same = below.page == line.page and abs(below.height - line.height) < 0.5
            if not same or below.top - last.top > 1.6 * line.height:
                break
            n, last = n + 1, below
        found.append((line.text[:60], n))
    return found


@pytest.mark.parametrize(("lang", "label"), [("zh", "资料来源："), ("en", "Source:")])
def test_a_source_line_takes_at_most_two_lines(pdfs, lang: str, label: str) -> None:
    found = source_line_heights(pdfs[lang], label)
    captions = set(re.findall(CAPTION[lang], pdf_text(pdfs[lang])))
    assert len(found) >= len(captions), f"{lang}: {len(found)} source lines for {len(captions)} figures"
    long = [f for f in found if f[1] > 2]
    assert not long, f"{lang}: source lines longer than two lines: {long}"


# --- 5. page fill and table splits --------------------------------------------------------------------------------

PAGE_MARGINS_MM = (22, 20)  # report.css @page: top and bottom margins (running header and footer live there)
FILL_DPI = 30


def page_fills(pdf: Path, folder: Path) -> list[float]:
    """How far down each page's body its content reaches (0 empty … 1 full), from the page rendered at 30 dpi in
    grey: the lowest row with ink between the top and bottom margins."""
    from PIL import Image

    subprocess.run(["pdftoppm", "-gray", "-r", str(FILL_DPI), str(pdf), str(folder / "p")], check=True)
    fills = []
    for path in sorted(folder.glob("p-*.pgm"), key=lambda p: int(p.stem.split("-")[1])):
        with Image.open(path) as image:
            width, height = image.size
            px = image.load()
            top = round(PAGE_MARGINS_MM[0] / 25.4 * FILL_DPI)
            bottom = height - round(PAGE_MARGINS_MM[1] / 25.4 * FILL_DPI)
            inked = [y for y in range(top, bottom) if any(px[x, y] < 230 for x in range(width))]
            fills.append((max(inked) - top + 1) / (bottom - top) if inked else 0.0)
    return fills


@dataclass(frozen=True)
class TableFragment:
    page: int
    table: str
    header: bool
    rows: int


@dataclass(frozen=True)
class LaidOut:
    """An edition laid out again from the build's context and charts (the pages its PDF was written from)."""

    pages: int
    chapter_starts: frozenset[int]
    tables: tuple[TableFragment, ...]


def _walk(box: Any, page: int, table_id: str | None, found: list[TableFragment], starts: set[int]) -> None:
    element = getattr(box, "element", None)
    if element is not None and "table-block" in (element.get("class") or ""):
        table_id = element.get("id")
    if getattr(box, "element_tag", None) == "h2":
        starts.add(page)
    if type(box).__name__ == "TableBox":
        groups = box.children
        rows = sum(len(g.children) for g in groups if not g.is_header and not g.is_footer)
        found.append(TableFragment(page, table_id or "?", any(g.is_header for g in groups), rows))
        return
    for child in getattr(box, "children", ()):
        _walk(child, page, table_id, found, starts)


@pytest.fixture(scope="module")
def laid_out(built_template: Path) -> dict[str, LaidOut]:
    from pipeline.lib.report import render
    from pipeline.lib.report.build import chart_paths, read_context
    from pipeline.lib.report.context import edition_view

    out = built_template / "out"
    ctx = read_context(out / "latest" / "context.json")
    paths = chart_paths(ctx, out / "build" / "charts")
    result = {}
    for lang in LANGS:
        view = edition_view(ctx, lang, paths[lang])
        doc = render.layout(render.html_for(view), view.images)
        found: list[TableFragment] = []
        starts: set[int] = set()
        for number, page in enumerate(doc.pages, 1):
            _walk(page._page_box, number, None, found, starts)
        result[lang] = LaidOut(len(doc.pages), frozenset(starts), tuple(found))
    return result


@pytest.mark.parametrize("lang", LANGS)
def test_no_page_is_more_than_half_empty_but_a_chapters_last(pdfs, laid_out, lang: str, tmp_path: Path) -> None:
    fills = page_fills(pdfs[lang], tmp_path)
    pages = laid_out[lang]
    assert len(fills) == pages.pages, "the PDF and its layout differ in pages"
    assert len(pages.chapter_starts) >= 10
    last_of_chapter = {p - 1 for p in pages.chapter_starts} | {pages.pages}
    empty = [(n, round(f, 2)) for n, f in enumerate(fills, 1) if f < 0.5 and n not in last_of_chapter]
    assert not empty, f"{lang}: pages more than half empty (page, fill) that end no chapter: {empty}"


@pytest.mark.parametrize("lang", LANGS)
def test_a_split_table_repeats_its_header_and_keeps_three_rows_a_page(laid_out, lang: str) -> None:
    fragments = laid_out[lang].tables
    split = {f.table for f in fragments if sum(g.table == f.table for g in fragments) > 1}
    assert split, "no table is split across pages: the test would check nothing"
    bad = [f for f in fragments if f.table in split and (not f.header or f.rows < 3)]
    assert not bad, f"{lang}: table fragments without a header or with fewer than three rows: {bad}"
