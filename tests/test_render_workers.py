"""The warm render worker processes (pipeline/lib/report/workers.py) and the run resource that owns them."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipeline.defs.resources import RenderWorkersResource
from pipeline.lib.report import style
from pipeline.lib.report.figures import FIGURES
from pipeline.lib.report.records import FigureData
from pipeline.lib.report.workers import DRAW, RenderWorkers, WorkerDied, started_early


def test_workers_draw_the_same_bytes_as_the_calling_process(
    warehouse_con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    data = FIGURES["fig03"].data(warehouse_con)
    jobs = [("fig03", data, lang, str(tmp_path / f"worker_{lang}.png")) for lang in ("zh", "en")]
    with RenderWorkers(2) as workers:
        workers.draw(jobs)
    for lang in ("zh", "en"):
        here = FIGURES["fig03"].draw(data, lang, tmp_path / f"here_{lang}.png")
        assert (tmp_path / f"worker_{lang}.png").read_bytes() == here.read_bytes(), lang


def test_an_error_in_a_worker_keeps_its_type_and_message(
    warehouse_con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    raw = FIGURES["fig03"].data(warehouse_con).to_json()
    raw["items"][0]["name"]["zh"] = "\U00020000"  # in neither bundled font
    data = FigureData.from_json(raw)
    with RenderWorkers(1) as workers:
        with pytest.raises(style.MissingGlyphError, match="bad.png") as caught:
            workers.draw([("fig03", data, "zh", str(tmp_path / "bad.png"))])
        assert "Traceback" in str(caught.value.__cause__)
        workers.draw([])  # the worker survives its request's error


def test_a_dead_worker_is_reported_not_waited_for(tmp_path: Path) -> None:
    with RenderWorkers(1) as workers:
        os.kill(workers.pids[0], signal.SIGKILL)
        with pytest.raises(WorkerDied, match="exited"):
            workers.run([(DRAW, ([],))])


def test_the_run_resource_borrows_the_cli_workers_and_leaves_them_running() -> None:
    with started_early(1) as early:
        with dg.build_resources({"render": RenderWorkersResource()}) as resources:
            assert resources.render.workers is early
        assert early.run([(DRAW, ([],))]) == [[]]  # still open after the run's resources are torn down


def test_without_cli_workers_the_run_resource_starts_and_stops_its_own() -> None:
    with dg.build_resources({"render": RenderWorkersResource(count=1)}) as resources:
        workers = resources.render.workers
        (pid,) = workers.pids
        assert workers.run([(DRAW, ([],))]) == [[]]
    assert len(workers) == 0
    with pytest.raises(RuntimeError, match="closed"):
        workers.run([(DRAW, ([],))])
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


# --- reusing WeasyPrint's encoded images (pipeline/lib/report/image_cache.py) -----------------------------------


def _pdf_with_two_charts(tmp_path: Path, name: str) -> bytes:
    from weasyprint import HTML

    html = "".join(f'<img style="width:10cm" src="{p.as_uri()}">' for p in sorted(tmp_path.glob("chart*.png")))
    target = tmp_path / name
    HTML(string=f"<html><body>{html}</body></html>").write_pdf(target, pdf_identifier=b"0" * 32)
    return target.read_bytes()


@pytest.fixture()
def two_charts(tmp_path: Path) -> Path:
    from PIL import Image, ImageDraw

    for i, colour in enumerate(("#00338D", "#C6007E")):
        image = Image.new("RGB", (640, 340), "white")
        ImageDraw.Draw(image).rectangle((40 + 60 * i, 40, 400, 300), fill=colour)
        image.save(tmp_path / f"chart{i}.png")
    return tmp_path


def test_encoded_images_are_reused_and_give_the_same_pdf(two_charts: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from weasyprint.images import RasterImage

    from pipeline.lib.report.image_cache import prune, reusing_encoded_images

    assert isinstance(RasterImage.__dict__.get("_get_png_data"), staticmethod), (
        "WeasyPrint changed: pipeline/lib/report/image_cache.py wraps RasterImage._get_png_data"
    )
    encoded: list[int] = []
    original = RasterImage._get_png_data

    def counting(pillow_image):  # noqa: ANN001, ANN202 - WeasyPrint's signature
        encoded.append(1)
        return original(pillow_image)

    monkeypatch.setattr(RasterImage, "_get_png_data", staticmethod(counting))
    plain = _pdf_with_two_charts(two_charts, "plain.pdf")
    assert len(encoded) == 2
    cache = two_charts / "streams"
    with reusing_encoded_images(cache) as first_keys:
        first = _pdf_with_two_charts(two_charts, "first.pdf")
    assert len(encoded) == 4 and len(first_keys) == 2 and len(list(cache.iterdir())) == 2
    with reusing_encoded_images(cache) as second_keys:
        second = _pdf_with_two_charts(two_charts, "second.pdf")
    assert len(encoded) == 4, "the second build encoded an image again"
    assert second_keys == first_keys
    assert plain == first == second
    assert RasterImage.__dict__["_get_png_data"].__func__ is counting, "WeasyPrint's method was not restored"
    assert prune(cache, set()) == 2 and not list(cache.iterdir())


def test_a_changed_chart_gets_a_new_stream(two_charts: Path) -> None:
    from PIL import Image

    from pipeline.lib.report.image_cache import reusing_encoded_images

    cache = two_charts / "streams"
    with reusing_encoded_images(cache) as before:
        _pdf_with_two_charts(two_charts, "before.pdf")
    Image.new("RGB", (640, 340), "#EAAA00").save(two_charts / "chart1.png")
    with reusing_encoded_images(cache) as after:
        changed = _pdf_with_two_charts(two_charts, "after.pdf")
    assert len(before & after) == 1 and len(after) == 2
    assert changed == _pdf_with_two_charts(two_charts, "uncached.pdf")
