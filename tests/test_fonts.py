"""Tests for the bundled subset CJK font and its helpers (pipeline.lib.fonts)."""

from __future__ import annotations

import warnings
from pathlib import Path

from pipeline.lib import fonts

SAMPLE = "普惠算力开启新计算时代，数据中心、云计算、人工智能市场规模（亿元）"
EXT_B = "\U00020000"  # 𠀀, CJK Extension B, not in GB2312


def _missing_glyph_warnings(family: str, tmp_path: Path) -> list[str]:
    """Render a figure with a Chinese title in ``family``; return 'missing from font' warnings."""
    from matplotlib.figure import Figure

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = Figure(figsize=(4, 2))
        ax = fig.subplots()
        ax.set_title(SAMPLE, fontfamily=family)
        ax.set_xlabel("年份 Year ≥ 2020 ±5% ①", fontfamily=family, fontweight="bold")
        fig.savefig(tmp_path / f"{family.replace(' ', '_')}.png", dpi=50)
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_font_files_exist_and_are_small() -> None:
    files = fonts.font_files()
    assert set(files) == {"regular", "bold"}
    for path in files.values():
        assert path.parent == fonts.font_dir()
        assert path.is_file()
        assert path.stat().st_size < 3 * 1024 * 1024, path


def test_no_missing_glyphs_for_chinese_sample() -> None:
    assert fonts.missing_glyphs(SAMPLE) == set()
    assert fonts.missing_glyphs("Revenue 收入 ℃ № ™ Ⅻ ① ■ ★ ≥ ≤ ± × ÷ ≈ ≠ ∑ … ，。、；：“”（）《》") == set()


def test_missing_glyphs_reports_ext_b_char_only() -> None:
    assert fonts.missing_glyphs(f"数据\t中心 {EXT_B}\n") == {EXT_B}


def test_matplotlib_family_name_from_file() -> None:
    from matplotlib import font_manager

    for path in fonts.font_files().values():
        assert font_manager.FontProperties(fname=str(path)).get_name() == "Noto Sans SC"


def test_register_is_idempotent_and_resolves_both_weights() -> None:
    from matplotlib import font_manager

    family = fonts.register_matplotlib_fonts()
    assert family == "Noto Sans SC"
    before = len(font_manager.fontManager.ttflist)
    assert fonts.register_matplotlib_fonts() == family
    assert len(font_manager.fontManager.ttflist) == before

    files = fonts.font_files()
    for weight, key in (("normal", "regular"), ("bold", "bold")):
        found = font_manager.findfont(
            font_manager.FontProperties(family=family, weight=weight), fallback_to_default=False
        )
        assert Path(found).resolve() == files[key].resolve()


def test_matplotlib_renders_chinese_without_missing_glyph_warning(tmp_path: Path) -> None:
    family = fonts.register_matplotlib_fonts()
    assert _missing_glyph_warnings(family, tmp_path) == []


def test_missing_glyph_warning_is_detected_for_latin_only_font(tmp_path: Path) -> None:
    """Control: the warning check above must fire for a font without CJK glyphs."""
    assert _missing_glyph_warnings("DejaVu Sans", tmp_path)
