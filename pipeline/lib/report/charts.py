"""Drawing the chart images (PNGs, and SVGs for the figures drawn as vector graphics): which ones are out of date
(a digest of their data and code), and drawing those in the run's warm render workers (`workers.py`), split evenly
between them.

Without workers (a call outside a Dagster run), `PARALLEL_FROM` PNGs or more are drawn in workers started for the
call (a worker's start costs ~1.1 s of imports), fewer in the calling process.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import templates_dir
from pipeline.lib.report.pages import LANGS
from pipeline.lib.report.records import FigureData

if TYPE_CHECKING:
    from pipeline.lib.report.workers import RenderWorkers

PARALLEL_FROM = 8  # PNGs; measured: 8 PNGs take ~1.3 s in one process
THUMBNAIL_PX = 360  # longest side of the UI preview


def image_paths(chart_dir: Path, figure_id: str, image_format: str = "png") -> dict[str, Path]:
    """{lang: image path} of one figure (`image_format`: its `Figure.image_format`, png or svg)."""
    return {lang: chart_dir / f"{figure_id}_{lang}.{image_format}" for lang in LANGS}


def _format(figure_id: str) -> str:
    from pipeline.lib.report.figures import FIGURES

    return FIGURES[figure_id].image_format


def png_paths(chart_dir: Path, figure_id: str) -> dict[str, Path]:
    """{lang: image path} of one registered figure, in its own format (a PNG, or an SVG for a vector figure)."""
    return image_paths(chart_dir, figure_id, _format(figure_id))


def chart_digest(data: FigureData, code: tuple[Path, ...]) -> str:
    """Hash of what a chart is drawn from: its data, the files that define and draw it (`figures.code_files`), the
    shared chart code and the string catalogue. Unchanged → the PNGs of the previous build are reused (a one-table
    refresh redraws only what moved)."""
    digest = hashlib.sha256(json.dumps(data.to_json(), sort_keys=True, default=str).encode())
    report = Path(__file__).parent
    for path in sorted(
        {
            *code,
            Path(__file__),
            report / "statuses.py",
            report / "style.py",
            report / "fmt.py",
            templates_dir() / "i18n" / "figures.yaml",
        }
    ):
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def thumbnail_path(chart_dir: Path, figure_id: str) -> Path:
    """A small copy of the English chart for the Dagster UI's preview (kept small: every materialisation
    stores it in the instance's event log)."""
    return chart_dir / f"{figure_id}_thumb.png"


def _write_thumbnail(chart_dir: Path, figure_id: str) -> None:
    """Shrink the English PNG into the thumbnail; a vector figure's PNG was drawn at the thumbnail's own path."""
    from PIL import Image

    drawn = png_paths(chart_dir, figure_id)["en"]
    with Image.open(drawn if drawn.suffix == ".png" else thumbnail_path(chart_dir, figure_id)) as image:
        image.load()
        image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
        image.save(thumbnail_path(chart_dir, figure_id), format="PNG", optimize=True)


def _stamp(chart_dir: Path, figure_id: str) -> Path:
    return chart_dir / f"{figure_id}.sha256"


def is_current(chart_dir: Path, figure_id: str, digest: str) -> bool:
    """True if both PNGs and the thumbnail exist and were drawn from data and code with this digest."""
    stamp = _stamp(chart_dir, figure_id)
    return (
        stamp.is_file()
        and stamp.read_text() == digest
        and thumbnail_path(chart_dir, figure_id).is_file()
        and all(p.is_file() for p in png_paths(chart_dir, figure_id).values())
    )


def warm_up() -> None:
    """matplotlib, the figure modules, and a throwaway chart with Chinese text (loading the fonts costs the first
    chart of a process ~0.3 s): run by a render worker as soon as it starts."""
    import io

    import pipeline.lib.report.figures  # noqa: F401
    from pipeline.lib.report import style

    plt = style.setup()
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.set_title("算力 compute 2025")
    fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")
    plt.close(fig)


def draw_jobs(jobs: list[tuple[str, FigureData, str, str]]) -> list[str]:
    """Draw (figure id, data, lang, PNG path) jobs one after the other in this process, each labelled on the chart
    if its data holds analyst assumptions; return the paths."""
    from pipeline.lib.report import style
    from pipeline.lib.report.figures import FIGURES, _common

    drawn = []
    for fid, data, lang, path in jobs:
        with style.stamped(_common.assumption_label(data, lang)):
            drawn.append(str(FIGURES[fid].draw(data, lang, Path(path))))
    return drawn


def draw_charts(
    figures: dict[str, FigureData], digests: dict[str, str], chart_dir: Path, workers: RenderWorkers | None = None
) -> None:
    """Draw both languages of every figure in `figures` ({id: data}), in `workers` if given; stamp each with its
    digest once drawn."""
    from pipeline.lib.report.workers import RenderWorkers

    chart_dir.mkdir(parents=True, exist_ok=True)
    jobs = [
        (fid, data, lang, str(path))
        for fid, data in figures.items()
        for lang, path in png_paths(chart_dir, fid).items()
    ]
    jobs += [  # the UI's preview of a vector figure: its English drawing as a PNG
        (fid, data, "en", str(thumbnail_path(chart_dir, fid))) for fid, data in figures.items() if _format(fid) != "png"
    ]
    if not jobs:
        return
    if workers is not None:
        workers.draw(jobs)
    elif len(jobs) >= PARALLEL_FROM:
        with RenderWorkers(warm=("charts",)) as own:
            own.draw(jobs)
    else:
        draw_jobs(jobs)
    for fid in figures:
        _write_thumbnail(chart_dir, fid)
        _stamp(chart_dir, fid).write_text(digests[fid])


def _svg_problem(path: Path) -> str | None:
    """Why an SVG is not a drawing: unreadable, not SVG, or without a single path (blank)."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        return f"{path.name} does not open as an SVG drawing ({exc})"
    if root.tag != "{http://www.w3.org/2000/svg}svg":
        return f"{path.name} is not an SVG drawing"
    if root.find(".//{http://www.w3.org/2000/svg}path") is None:
        return f"{path.name} is blank"
    return None


def chart_problems(paths: dict[str, Path]) -> list[str]:
    """What is wrong with a chart's images: missing, unreadable or blank (a PNG of a single colour, an SVG
    without a path)."""
    from PIL import Image

    problems = []
    for lang, path in sorted(paths.items()):
        if path.suffix == ".svg":
            if problem := _svg_problem(path):
                problems.append(f"{lang}: {problem}")
            continue
        try:
            with Image.open(path) as img:
                lo_hi = img.convert("L").getextrema()
        except OSError as exc:
            problems.append(f"{lang}: {path.name} does not open as an image ({exc})")
            continue
        if lo_hi[0] == lo_hi[1]:
            problems.append(f"{lang}: {path.name} is blank")
    return problems
