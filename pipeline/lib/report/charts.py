"""Drawing the chart PNGs: which ones are out of date (a digest of their data and code), and drawing those, in
parallel worker processes when there are enough of them to pay for the workers' start.

Workers are started with "spawn" (a fresh interpreter): the caller may be a Dagster run process with threads,
where forking is unsafe. A worker's start (Python, matplotlib, the figure modules) costs about 0.7 s, so fewer
than `PARALLEL_FROM` PNGs are drawn in the calling process. REPORT_CHART_WORKERS sets the number of workers
(default: the number of CPUs; 1 draws everything in the calling process).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from pipeline.config import templates_dir
from pipeline.lib.report.context import LANGS

PARALLEL_FROM = 8  # PNGs; measured: 8 PNGs take ~1.3 s in one process
THUMBNAIL_PX = 360  # longest side of the UI preview


def png_paths(chart_dir: Path, figure_id: str) -> dict[str, Path]:
    """{lang: PNG path} of one figure."""
    return {lang: chart_dir / f"{figure_id}_{lang}.png" for lang in LANGS}


def chart_digest(data: dict[str, Any], module_file: Path) -> str:
    """Hash of what a chart is drawn from: its data, its module, the shared chart code and the string catalogue.
    Unchanged → the PNGs of the previous build are reused (a one-table refresh redraws only what moved)."""
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode())
    for path in sorted({module_file, module_file.parent / "_common.py", module_file.parents[1] / "style.py",
                        module_file.parents[1] / "fmt.py", templates_dir() / "i18n" / "figures.yaml"}):
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def thumbnail_path(chart_dir: Path, figure_id: str) -> Path:
    """A small copy of the English chart for the Dagster UI's preview (kept small: every materialisation
    stores it in the instance's event log)."""
    return chart_dir / f"{figure_id}_thumb.png"


def _write_thumbnail(chart_dir: Path, figure_id: str) -> None:
    from PIL import Image

    with Image.open(png_paths(chart_dir, figure_id)["en"]) as image:
        image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
        image.save(thumbnail_path(chart_dir, figure_id), format="PNG", optimize=True)


def _stamp(chart_dir: Path, figure_id: str) -> Path:
    return chart_dir / f"{figure_id}.sha256"


def is_current(chart_dir: Path, figure_id: str, digest: str) -> bool:
    """True if both PNGs and the thumbnail exist and were drawn from data and code with this digest."""
    stamp = _stamp(chart_dir, figure_id)
    return (stamp.is_file() and stamp.read_text() == digest and thumbnail_path(chart_dir, figure_id).is_file()
            and all(p.is_file() for p in png_paths(chart_dir, figure_id).values()))


def _draw_one(figure_id: str, data: dict[str, Any], lang: str, path: str) -> str:
    from pipeline.lib.report.figures import FIGURES

    return str(FIGURES[figure_id].draw(data, lang, Path(path)))


def _workers(jobs: int) -> int:
    wanted = int(os.environ.get("REPORT_CHART_WORKERS", os.cpu_count() or 1))
    return 1 if jobs < PARALLEL_FROM else max(1, min(wanted, jobs))


def draw_charts(figures: dict[str, dict[str, Any]], digests: dict[str, str], chart_dir: Path) -> None:
    """Draw both languages of every figure in `figures` ({id: data}); stamp each with its digest once drawn."""
    chart_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(fid, data, lang, str(path)) for fid, data in figures.items()
            for lang, path in png_paths(chart_dir, fid).items()]
    workers = _workers(len(jobs))
    if workers == 1:
        for job in jobs:
            _draw_one(*job)
    else:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for future in [pool.submit(_draw_one, *job) for job in jobs]:
                future.result()
    for fid in figures:
        _write_thumbnail(chart_dir, fid)
        _stamp(chart_dir, fid).write_text(digests[fid])
