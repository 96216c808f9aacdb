"""The render workers against `concurrent.futures.ProcessPoolExecutor` (issue 12): both editions of one built
context, from starting the pool (with its warm-up) to both PDFs written, the two variants alternating so that both
see the same machine load.

    .venv/bin/python scripts/bench_pool.py BUILD_DIR [--rounds 3]

BUILD_DIR is the `output/build` folder of a finished `reportctl build` (context.json, charts/). The executor uses
the "spawn" start (the only start method that is safe in a threaded parent such as a Dagster run): each child
re-imports the parent's `__main__` (here this script; in a run, Dagster's command line) before its initializer,
which sets the render workers' niceness (`workers.NICENESS`) so that only the pool mechanism differs.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from pipeline.lib.report.build import LANGS, build_editions, edition_in_worker, warm_up
from pipeline.lib.report.workers import NICENESS


def with_render_workers(build: Path, out: Path) -> float:
    start = time.perf_counter()
    build_editions(list(LANGS), build / "context.json", build / "charts", out, [])
    return time.perf_counter() - start


def warm_up_niced() -> None:
    """The render workers' start: their niceness, then the same warm-up."""
    os.nice(NICENESS)
    warm_up()


def with_process_pool(build: Path, out: Path) -> float:
    start = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(LANGS), mp_context=context, initializer=warm_up_niced) as pool:
        futures = [
            pool.submit(edition_in_worker, str(build / "context.json"), lang, str(build / "charts"), str(out), [], None)
            for lang in LANGS
        ]
        for future in futures:
            future.result()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"render_workers": [], "process_pool": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for name, run in (("render_workers", with_render_workers), ("process_pool", with_process_pool)):
                out = Path(tmp) / name
                out.mkdir(exist_ok=True)
                times[name].append(run(args.build, out))
    print(
        json.dumps(
            {
                k: {"median_s": round(statistics.median(v), 2), "runs_s": [round(x, 2) for x in v]}
                for k, v in times.items()
            }
        )
    )


if __name__ == "__main__":
    main()
