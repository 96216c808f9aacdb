"""Checks of a written PDF: it opens, has pages and embeds every font it uses."""

from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PdfReadError


def _unembedded_fonts(reader: PdfReader) -> set[str]:
    missing: set[str] = set()
    for page in reader.pages:
        fonts = page.get("/Resources", {}).get_object().get("/Font", {})
        for ref in fonts.get_object().values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            for f in [d.get_object() for d in descendants.get_object()] if descendants else [font]:
                descriptor = f.get("/FontDescriptor")
                if descriptor is None:
                    if f.get("/Subtype") != "/Type3":
                        missing.add(str(f.get("/BaseFont")))
                    continue
                if not any(k in descriptor.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    missing.add(str(f.get("/BaseFont")))
    return missing


def pdf_problems(path: Path, min_pages: int = 1) -> list[str]:
    """Why `path` is not a sound PDF: it does not open, has fewer than `min_pages` pages, or a font is not
    embedded (empty when it is sound)."""
    try:
        reader = PdfReader(path)
        pages = len(reader.pages)
    except (OSError, PdfReadError) as exc:
        return [f"{path.name} does not open: {exc}"]
    problems = [f"{path.name} has {pages} page(s), expected at least {min_pages}"] if pages < min_pages else []
    problems += [f"{path.name}: font {name} is not embedded" for name in sorted(_unembedded_fonts(reader))]
    return problems
