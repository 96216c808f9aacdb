"""Print-grade layout, measured on the built PDFs: chart resolution, greyscale-readable series, punctuation and
hyphens, source lines under figures, page fill and table splits (poppler-utils: pdfimages, pdftotext, pdftoppm)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

LANGS = ("zh", "en")
MIN_PPI = 300
CAPTION = {"zh": r"(?m)^图 ?(\d+) \|", "en": r"(?m)^Figure (\d+) \|"}


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


@pytest.mark.parametrize("lang", LANGS)
def test_every_chart_is_at_least_300_ppi_at_its_printed_size(pdfs, lang: str) -> None:
    images = placed_images(pdfs[lang])
    captions = set(re.findall(CAPTION[lang], pdf_text(pdfs[lang])))
    assert len(images) == len(captions), f"{lang}: {len(images)} images for {len(captions)} figure captions"
    low = [i for i in images if min(i.x_ppi, i.y_ppi) < MIN_PPI]
    assert not low, f"{lang}: images under {MIN_PPI} ppi at their printed size: {low}"
