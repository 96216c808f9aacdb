"""House style for every chart: palette, font, sizes, deterministic PNG output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PALETTE = ("#00338D", "#0091DA", "#483698", "#470A68", "#00A3A1", "#EAAA00", "#6D2077", "#C6007E")
APPROX_HATCH = "//"
FIGSIZE = (6.4, 3.4)
DPI = 200


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


class MissingGlyphError(RuntimeError):
    """A character has no glyph in the bundled fonts: the build fails instead of drawing boxes."""


def save(fig: Any, path: Path) -> Path:
    """Write an opaque RGB PNG with no timestamp or software metadata (same data → same bytes); fail on missing
    glyphs. RGB, not matplotlib's RGBA: WeasyPrint splits an alpha channel into a second image and re-encodes
    both, on every PDF build."""
    import io
    import warnings

    import matplotlib.pyplot as plt
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(buffer, format="png", bbox_inches="tight", facecolor="white", metadata={"Software": None})
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    if missing:
        plt.close(fig)
        raise MissingGlyphError(f"chart {path.name}: {missing[0]} (and {len(missing) - 1} more)")

    plt.close(fig)
    with Image.open(buffer) as image:
        image.convert("RGB").save(path, format="PNG", dpi=(DPI, DPI))
    return path
