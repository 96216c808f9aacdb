"""Build the bundled 'Noto Sans SC' subset fonts from the Noto Sans CJK TTC collections.

The report must render Chinese on a machine without any system CJK font, so two subset
OTF (CFF) files are committed under ``report_templates/fonts``:

* ``NotoSansSC-Regular.otf`` (weight 400) and ``NotoSansSC-Bold.otf`` (weight 700),
* character set: GB2312 + ASCII + Latin-1 + common punctuation/symbols + full-width forms
  + every character of the optional ``--extra-text`` files (e.g. the seed report),
* no hinting, horizontal layout features only, family name forced to 'Noto Sans SC',
* deterministic output (``head.created``/``head.modified`` pinned, no timestamp recalc).

Source fonts come from the Debian package without installing it system-wide::

    cd /tmp && apt-get download fonts-noto-cjk && dpkg-deb -x fonts-noto-cjk_*.deb /tmp/notocjk
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

SOURCE_FAMILY = "Noto Sans CJK SC"
FAMILY = "Noto Sans SC"
# 2021-01-01T00:00:00Z in seconds since 1904-01-01 (the OpenType epoch); keeps builds byte-identical.
PINNED_TIMESTAMP = 3692304000
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT_DIR = REPO_ROOT / "report_templates" / "fonts"
DEFAULT_TTC_DIR = Path("/tmp/notocjk/usr/share/fonts/opentype/noto")

# Horizontal-text features only (no vert/vrt2/vkrn/vpal/vhal, no palt/halt/aalt/fwid/hwid).
LAYOUT_FEATURES = ["ccmp", "locl", "calt", "clig", "liga", "rlig", "kern", "mark", "mkmk"]
# Default and Simplified-Chinese language systems only; 'locl' for JAN/KOR/ZHT/ZHH would pull in
# thousands of regional glyph variants we never use.
SCRIPTS = ["DFLT", "hani", "kana", "hang", "latn", "grek", "cyrl"]
LAYOUT_SCRIPTS = [f"{s}.{lang}" for s in SCRIPTS for lang in ("dflt", "ZHS")]

# (code point ranges, inclusive) added on top of GB2312.
EXTRA_RANGES: list[tuple[int, int]] = [
    (0x0020, 0x007E),  # printable ASCII
    (0x00A0, 0x00FF),  # Latin-1 supplement
    (0x2000, 0x206F),  # General Punctuation
    (0x2070, 0x209F),  # superscripts and subscripts
    (0x2150, 0x218F),  # Number Forms (Ⅰ-Ⅻ, ⅰ-ⅻ, fractions)
    (0x2190, 0x21FF),  # arrows
    (0x2200, 0x22FF),  # mathematical operators
    (0x2460, 0x249B),  # circled / parenthesized / full-stop numbers ①-⑳ ⑴-⒇ ⒈-⒛
    (0x25A0, 0x25FF),  # geometric shapes (■□▲△●○◆◇ ...)
    (0x3000, 0x303F),  # CJK Symbols and Punctuation
    (0xFF00, 0xFFEF),  # half-width and full-width forms
]
EXTRA_CHARS = "℃℉№℡™Ω℮Å★☆✓✔✕✗※"


def gb2312_chars() -> set[str]:
    """Return every character encodable in GB2312 (all valid two-byte code points)."""
    chars: set[str] = set()
    for lead in range(0xA1, 0xF8):
        for trail in range(0xA1, 0xFF):
            try:
                chars.add(bytes((lead, trail)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def wanted_codepoints(extra_texts: Iterable[Path]) -> set[int]:
    """Collect the code points the subset must cover."""
    chars = gb2312_chars() | set(EXTRA_CHARS)
    for start, end in EXTRA_RANGES:
        chars.update(chr(cp) for cp in range(start, end + 1))
    for path in extra_texts:
        chars.update(path.read_text(encoding="utf-8"))
    # Control/format characters and surrogates never need glyphs.
    return {ord(c) for c in chars if unicodedata.category(c) not in {"Cc", "Cs"}}


def find_font_number(ttc_path: Path, family: str = SOURCE_FAMILY) -> int:
    """Return the index of ``family`` (name ID 1) inside the TTC collection."""
    collection = TTCollection(str(ttc_path), lazy=True)
    for index, font in enumerate(collection.fonts):
        if font["name"].getDebugName(1) == family:
            return index
    raise SystemExit(f"{ttc_path}: no font with family {family!r}")


def set_names(font: TTFont, style: str) -> None:
    """Rewrite the naming so every consumer sees family 'Noto Sans SC' + Regular/Bold."""
    name = font["name"]
    ps_name = f"NotoSansSC-{style}"
    full_name = FAMILY if style == "Regular" else f"{FAMILY} {style}"
    version = name.getDebugName(5) or "Version 2.004"
    # Drop every record carrying the old family/style (incl. the zh-CN ones) and write fresh ones.
    name.names = [n for n in name.names if n.nameID not in {1, 2, 3, 4, 6, 16, 17, 21, 22}]
    for name_id, value in (
        (1, FAMILY),
        (2, style),
        (3, f"{version.removeprefix('Version ').split(';')[0]};GOOG;{ps_name};subset"),
        (4, full_name),
        (6, ps_name),
    ):
        name.setName(value, name_id, 3, 1, 0x409)
    name.names.sort(key=lambda n: (n.platformID, n.platEncID, n.langID, n.nameID))

    cff = font["CFF "].cff
    cff.fontNames = [ps_name]
    top = cff.topDictIndex[0]
    top.FamilyName = FAMILY
    top.FullName = full_name

    bold = style == "Bold"
    os2 = font["OS/2"]
    os2.usWeightClass = 700 if bold else 400
    # fsSelection: bit 5 BOLD, bit 6 REGULAR, bit 0 ITALIC cleared.
    os2.fsSelection = (os2.fsSelection & ~0b1100001) | (1 << 5 if bold else 1 << 6)
    font["head"].macStyle = 1 if bold else 0


def make_subset(ttc_path: Path, style: str, out_path: Path, codepoints: set[int]) -> set[int]:
    """Subset one weight of the TTC to ``out_path``; print glyph count/size, return the cmap's code points."""
    font_number = find_font_number(ttc_path)
    font = TTFont(str(ttc_path), fontNumber=font_number, recalcTimestamp=False, lazy=False)

    options = subset.Options()
    options.hinting = False
    options.layout_features = LAYOUT_FEATURES
    options.layout_scripts = LAYOUT_SCRIPTS
    options.drop_tables += ["VORG", "vhea", "vmtx"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.recalc_timestamp = False
    options.flavor = None

    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(codepoints))
    subsetter.subset(font)

    set_names(font, style)
    font["head"].created = PINNED_TIMESTAMP
    font["head"].modified = PINNED_TIMESTAMP
    font.recalcTimestamp = False

    out_path.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(out_path))
    glyphs = len(font.getGlyphOrder())
    size = out_path.stat().st_size
    covered = set(font.getBestCmap())
    print(
        f"{out_path.name}: font number {font_number} of {ttc_path.name}, {glyphs} glyphs, "
        f"{len(covered)} code points, {size} bytes ({size / 1024 / 1024:.2f} MiB)"
    )
    return covered


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regular", type=Path, default=DEFAULT_TTC_DIR / "NotoSansCJK-Regular.ttc", help="Regular TTC")
    parser.add_argument("--bold", type=Path, default=DEFAULT_TTC_DIR / "NotoSansCJK-Bold.ttc", help="Bold TTC")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR, help="output folder")
    parser.add_argument(
        "--extra-text",
        type=Path,
        action="append",
        default=[],
        help="UTF-8 text file whose characters must all be covered (repeatable)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Build both weights."""
    args = parse_args(argv)
    codepoints = wanted_codepoints(args.extra_text)
    print(f"requested code points: {len(codepoints)}")
    for style, ttc in (("Regular", args.regular), ("Bold", args.bold)):
        covered = make_subset(ttc, style, args.out_dir / f"NotoSansSC-{style}.otf", codepoints)
    # Characters of the extra texts that the source font itself lacks (rendered by fallback fonts).
    text_chars = {c for path in args.extra_text for c in path.read_text(encoding="utf-8")}
    lacking = sorted(c for c in text_chars if ord(c) not in covered and unicodedata.category(c)[0] not in "CZ")
    if lacking:
        listed = " ".join(f"{c} U+{ord(c):04X}" for c in lacking)
        print(f"extra-text characters missing from the source font: {listed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
