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
from pipeline.lib.report.workers import RenderWorkers, WorkerDied, started_early


def test_workers_draw_the_same_bytes_as_the_calling_process(warehouse_con: duckdb.DuckDBPyConnection,
                                                             tmp_path: Path) -> None:
    data = FIGURES["fig03"].query(warehouse_con)
    jobs = [("fig03", data, lang, str(tmp_path / f"worker_{lang}.png")) for lang in ("zh", "en")]
    with RenderWorkers(2) as workers:
        workers.draw(jobs)
    for lang in ("zh", "en"):
        here = FIGURES["fig03"].draw(data, lang, tmp_path / f"here_{lang}.png")
        assert (tmp_path / f"worker_{lang}.png").read_bytes() == here.read_bytes(), lang


def test_an_error_in_a_worker_keeps_its_type_and_message(warehouse_con: duckdb.DuckDBPyConnection,
                                                         tmp_path: Path) -> None:
    data = FIGURES["fig03"].query(warehouse_con)
    data["items"][0]["name"]["zh"] = "\U00020000"  # in neither bundled font
    with RenderWorkers(1) as workers:
        with pytest.raises(style.MissingGlyphError, match="bad.png") as caught:
            workers.draw([("fig03", data, "zh", str(tmp_path / "bad.png"))])
        assert "Traceback" in str(caught.value.__cause__)
        workers.draw([])  # the worker survives its request's error


def test_a_dead_worker_is_reported_not_waited_for(tmp_path: Path) -> None:
    with RenderWorkers(1) as workers:
        os.kill(workers.pids[0], signal.SIGKILL)
        with pytest.raises(WorkerDied, match="exited"):
            workers.run([("draw", ([],))])


def test_the_run_resource_borrows_the_cli_workers_and_leaves_them_running() -> None:
    with started_early(1) as early:
        with dg.build_resources({"render": RenderWorkersResource()}) as resources:
            assert resources.render.workers is early
        assert early.run([("draw", ([],))]) == [[]]  # still open after the run's resources are torn down


def test_without_cli_workers_the_run_resource_starts_and_stops_its_own() -> None:
    with dg.build_resources({"render": RenderWorkersResource(count=1)}) as resources:
        workers = resources.render.workers
        (pid,) = workers.pids
        assert workers.run([("draw", ([],))]) == [[]]
    assert len(workers) == 0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
