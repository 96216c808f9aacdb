"""Locate and check the bundled CJK fonts (subset 'Noto Sans SC', see report_templates/fonts)."""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

FAMILY = "Noto Sans SC"
_FILES = {"regular": "NotoSansSC-Regular.otf", "bold": "NotoSansSC-Bold.otf"}
# Characters that never need a glyph of their own: control/format characters (ZWJ, bidi marks ...).
_IGNORED_CATEGORIES = {"Cc", "Cf"}


def font_dir() -> Path:
    """Return the folder holding the bundled fonts (``<repo>/report_templates/fonts``)."""
    return Path(__file__).resolve().parents[2] / "report_templates" / "fonts"


def font_files() -> dict[str, Path]:
    """Map 'regular'/'bold' to the bundled OTF paths; raise FileNotFoundError if one is missing."""
    files = {weight: font_dir() / name for weight, name in _FILES.items()}
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise FileNotFoundError(
            f"bundled CJK font(s) missing: {', '.join(missing)}; "
            "rebuild them with scripts/make_font_subset.py (see report_templates/fonts/README.md)"
        )
    return files


@functools.lru_cache(maxsize=4)
def _cmap(path: Path) -> frozenset[int]:
    """Return the code points mapped by the font at ``path`` (cached)."""
    from fontTools.ttLib import TTFont

    with TTFont(str(path), lazy=True) as font:
        return frozenset(font.getBestCmap())


def missing_glyphs(text: str) -> set[str]:
    """Return the characters of ``text`` (whitespace/control chars ignored) the Regular font lacks."""
    cmap = _cmap(font_files()["regular"])
    return {
        char
        for char in set(text)
        if ord(char) not in cmap and not char.isspace() and unicodedata.category(char) not in _IGNORED_CATEGORIES
    }


def register_matplotlib_fonts() -> str:
    """Add both OTFs to matplotlib's font manager (idempotent); return the family name to use."""
    from matplotlib import font_manager

    known = {Path(entry.fname).resolve() for entry in font_manager.fontManager.ttflist}
    for path in font_files().values():
        if path.resolve() not in known:
            font_manager.fontManager.addfont(str(path))
    return FAMILY
