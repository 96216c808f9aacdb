"""HTML (Jinja2) → PDF (WeasyPrint): one document per language (the bilingual volume is joined from the written
PDFs, see `volume.py`).

PDFs are written to a temporary file and moved into place, so a failure never leaves a half-written PDF.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jinja2

from pipeline.config import templates_dir
from pipeline.lib.fonts import missing_glyphs
from pipeline.lib.report.records import EditionView
from pipeline.lib.report.style import MissingGlyphError


def html_for(view: EditionView) -> str:
    """Render the edition's HTML from report_templates/report.html.j2."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()), autoescape=True, undefined=jinja2.StrictUndefined
    )
    return env.get_template("report.html.j2").render(**view.template_values())


class GlyphWarnings(logging.Handler):
    """Collects WeasyPrint's warnings about glyphs it could not draw."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if ".notdef" in text or "glyph" in text.lower():
            self.messages.append(text)


@contextmanager
def failing_on_missing_glyphs(what: str) -> Iterator[None]:
    """Raise MissingGlyphError if WeasyPrint reports a missing glyph inside the block."""
    handler = GlyphWarnings()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    if handler.messages:
        raise MissingGlyphError(f"{what}: {handler.messages[0]} ({len(handler.messages)} warning(s))")


IMAGE_TYPES = {".png": "image/png", ".svg": "image/svg+xml"}


def _image_fetcher(images: Mapping[str, Path]) -> Any:
    """WeasyPrint's URL fetcher (its public subclassing API), serving the content-named chart URLs of the view
    from their files; every other URL as before."""
    from weasyprint import URLFetcher
    from weasyprint.urls import URLFetcherResponse

    class ImageFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url in images:
                kind = IMAGE_TYPES[images[url].suffix]
                return URLFetcherResponse(url, body=images[url].read_bytes(), headers={"Content-Type": kind})
            return super().fetch(url, headers)

    return ImageFetcher()


def layout(html: str, images: Mapping[str, Path] | None = None) -> Any:
    """Lay the HTML out into pages (a weasyprint Document); fail if a character has no glyph. `images` serves
    the view's content-named chart URLs (`context.image_url`)."""
    from weasyprint import HTML

    missing = missing_glyphs(re.sub(r"<[^>]+>", " ", html))
    if missing:
        raise MissingGlyphError(f"characters without a glyph in the bundled font: {''.join(sorted(missing))}")
    with failing_on_missing_glyphs("layout"):
        return HTML(string=html, base_url=str(templates_dir()), url_fetcher=_image_fetcher(images or {})).render()


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path in `target`'s folder to write to; moved onto `target` (os.replace) only if the block
    succeeds, removed otherwise, so `target` is never half-written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_atomically(document: Any, target: Path, **options: Any) -> Path:
    """write_pdf to a temp file in the same folder, then os.replace onto `target`."""
    with atomic_path(target) as tmp, failing_on_missing_glyphs(f"writing {target.name}"):
        document.write_pdf(tmp, **options)
    return target
