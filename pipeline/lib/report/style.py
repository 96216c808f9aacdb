"""House style for every chart: palette, font, sizes, deterministic PNG output."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

PALETTE = ("#00338D", "#0091DA", "#483698", "#470A68", "#00A3A1", "#EAAA00", "#6D2077", "#C6007E")
APPROX_HATCH = "//"
# series of one chart differ by these, not by hue alone (readable printed in greyscale)
LINESTYLES = ("-", (0, (5, 2)), (0, (1, 1.4)), (0, (6, 2, 1, 2)), (0, (3, 1, 1, 1, 1, 1)))
MARKERS = ("o", "s", "^", "D", "v", "P")
HATCHES = ("", "//", "..", "xx", "\\\\", "oo")
FIGSIZE = (6.4, 3.4)
DPI = 200  # on screen; a saved chart gets the resolution `print_dpi` gives it
PRINT_WIDTH_IN = (210 - 2 * 18) / 25.4  # report.css: an A4 page less its 18 mm side margins; figure img width 100%
PRINT_PPI = 300  # the least pixels per inch of a chart at its printed size
PAD_IN = 0.1  # matplotlib's savefig.pad_inches around the tight box
TIGHT_SLACK = 1.02  # the tight box drawn at the final dpi comes out up to 1 % wider than measured before
STAMP_COLORS = {"text": "#7A4F00", "face": "#FFF4D6", "edge": "#EAAA00"}
_stamp: ContextVar[str | None] = ContextVar("stamp", default=None)


@contextmanager
def stamped(label: str | None) -> Iterator[None]:
    """Charts saved inside this block carry `label` (e.g. 'Analyst assumption') in a box above the plot."""
    token = _stamp.set(label)
    try:
        yield
    finally:
        _stamp.reset(token)


def _draw_stamp(fig: Any, label: str) -> None:
    fig.text(
        0.995,
        1.0,
        label,
        ha="right",
        va="bottom",
        fontsize=8,
        weight="bold",
        color=STAMP_COLORS["text"],
        bbox={"boxstyle": "round,pad=0.35", "facecolor": STAMP_COLORS["face"], "edgecolor": STAMP_COLORS["edge"]},
    )


def setup() -> Any:
    """Configure matplotlib (Agg backend, bundled CJK font, sizes) and return pyplot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pipeline.lib.fonts import register_matplotlib_fonts

    family = register_matplotlib_fonts()
    plt.rcParams.update(
        {
            "font.family": [family, "DejaVu Sans"],
            "font.size": 8.5,
            "axes.titlesize": 9.5,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
            "axes.unicode_minus": False,
            "svg.hashsalt": "report",
            "savefig.dpi": DPI,
        }
    )
    return plt


def print_dpi(fig: Any) -> int:
    """The savefig dpi that gives the chart `PRINT_PPI` once its tight box is stretched to the page's width."""
    import math

    width_in = fig.get_tightbbox(fig.canvas.get_renderer()).width + 2 * PAD_IN
    return math.ceil(PRINT_PPI * TIGHT_SLACK * PRINT_WIDTH_IN / width_in)


class MissingGlyphError(RuntimeError):
    """A character has no glyph in the bundled fonts: the build fails instead of drawing boxes."""


def _glyph_warnings(caught: list[Any], fig: Any, path: Path) -> None:
    """Raise MissingGlyphError (and close `fig`) if matplotlib warned of a character without a glyph."""
    import matplotlib.pyplot as plt

    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    if missing:
        plt.close(fig)
        raise MissingGlyphError(f"chart {path.name}: {missing[0]} (and {len(missing) - 1} more)")


def save_vector(fig: Any, path: Path) -> Path:
    """Write the figure as SVG with its text drawn as paths in the bundled font (WeasyPrint draws an SVG as vector
    graphics, so it prints sharp at any size and needs no font of its own), with no date and ids salted by
    `svg.hashsalt` (same drawing → same bytes); fail on missing glyphs."""
    import io
    import warnings

    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, plt.rc_context({"svg.fonttype": "path"}):
        warnings.simplefilter("always")
        fig.savefig(
            buffer, format="svg", bbox_inches="tight", pad_inches=PAD_IN, facecolor="white", metadata={"Date": None}
        )
    _glyph_warnings(caught, fig, path)
    plt.close(fig)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def save(fig: Any, path: Path) -> Path:
    """Write an opaque RGB PNG at `print_dpi` with no timestamp or software metadata (same data → same bytes),
    with the label of `stamped` if one is set; fail on missing glyphs. RGB, not matplotlib's RGBA: WeasyPrint
    splits an alpha channel into a second image and re-encodes both, on every PDF build."""
    import io
    import warnings

    import matplotlib.pyplot as plt
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    if label := _stamp.get():
        _draw_stamp(fig, label)
    buffer = io.BytesIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dpi = print_dpi(fig)
        fig.savefig(
            buffer,
            format="png",
            dpi=dpi,
            bbox_inches="tight",
            pad_inches=PAD_IN,
            facecolor="white",
            metadata={"Software": None},
        )
    _glyph_warnings(caught, fig, path)
    plt.close(fig)
    with Image.open(buffer) as image:
        image.convert("RGB").save(path, format="PNG", dpi=(dpi, dpi))
    return path
