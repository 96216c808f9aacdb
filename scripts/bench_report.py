"""Benchmark the whole bundle: cold build per stage, PDF layout/write and pages per second, peak memory, and the
refresh paths (no-op, one table changed). Runs on a temporary copy of the project's sources.

    .venv/bin/python scripts/bench_report.py [--runs 3]

Targets (issues 5 and 6): whole bundle ≤ 20 s cold (ingest to PDFs, installation excluded), ≥ 12 laid-out pages/s
across the bundle, peak memory ≤ 1 GB; no-op refresh < 10% and one-table refresh < 50% of the cold build. Issue 13:
the Markdown/reference stage (pages read, checked, their numbers resolved, both editions' views rendered; timed in
this process on the cold build's warehouse) under 5% of the cold build.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = (
    ("ingest_tables", "ingest"),
    ("raw__catalog", "ingest"),
    ("core_model", "warehouse"),
    ("forecasts", "forecast"),
    ("report__context", "context"),
    ("charts", "charts"),
    ("report__pdf", "layout + PDF write"),
    ("report__publish", "publish"),
)


def _edit(path: Path, old: str, new: str) -> None:
    """Change one value of a source table; stop if the text is not there (a refresh would measure nothing)."""
    text = path.read_text(encoding="utf-8")
    if old not in text:
        raise SystemExit(f"{path.name} no longer contains {old!r}: update the benchmark's edit")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _cli(env: dict[str, str], *args: str) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"`reportctl {' '.join(args)}` failed:\n{proc.stdout}\n{proc.stderr}")
    return time.perf_counter() - start, proc


def _stage_times(dagster_home: Path) -> dict[str, float]:
    """Sum of step durations per stage, and the run's own span, of the latest run."""
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    import dagster as dg

    instance = dg.DagsterInstance.get()
    run = instance.get_runs(limit=1)[0]
    totals: dict[str, float] = defaultdict(float)
    for stat in instance.get_run_step_stats(run.run_id):
        if stat.end_time is None or stat.start_time is None:
            continue
        stage = next((name for key, name in STAGES if stat.step_key == key), "other")
        totals[stage] += stat.end_time - stat.start_time
    logs = instance.all_logs(run.run_id)
    totals["run"] = logs[-1].timestamp - logs[0].timestamp
    return dict(totals)


def _pages_stage(out: Path) -> float:
    """Seconds of the Markdown/reference stage, in this process on the built warehouse: read, parse and check the
    pages, resolve every number they reference, then render both editions' views (their prose, and the tables
    the view also formats)."""
    import duckdb

    from pipeline.lib.report.build import chart_paths, read_context
    from pipeline.lib.report.context import edition_view, figure_kinds
    from pipeline.lib.report.pages import LANGS, load_report, read_chapters, resolve_numbers

    ctx = read_context(out / "build" / "context.json")
    paths = chart_paths(ctx, out / "build" / "charts")
    kinds = figure_kinds()
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    try:
        start = time.perf_counter()
        _, pages = load_report()
        resolve_numbers(con, read_chapters(pages, kinds))
        for lang in LANGS:
            edition_view(ctx, lang, paths[lang])
        return time.perf_counter() - start
    finally:
        con.close()


def measure_once() -> dict[str, float]:
    """One cold build, the PDF step on its own, a no-op refresh and a one-table refresh, on fresh copies."""
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        root = Path(tmp)
        sources = root / "sources"
        shutil.copytree(ROOT / "sources", sources, ignore=shutil.ignore_patterns("_*", ".*"))
        env = {
            **os.environ,
            "REPORT_SOURCES_DIR": str(sources),
            "REPORT_OUTPUT_DIR": str(root / "out"),
            "DAGSTER_HOME": str(root / "home"),
        }
        env.pop("REPORT_WAREHOUSE", None)
        cold, _ = _cli(env, "build")
        stages = _stage_times(root / "home")
        pages_s = _pages_stage(root / "out")
        start = time.perf_counter()
        pdf = subprocess.run(
            [
                sys.executable,
                "-m",
                "pipeline.lib.report.build",
                str(root / "out/build/context.json"),
                str(root / "out/build/charts"),
                str(root / "pdfcheck"),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        pdf_wall = time.perf_counter() - start
        result = json.loads(pdf.stdout.strip().splitlines()[-1])
        noop, _ = _cli(env, "refresh")
        _edit(sources / "fig12_core_related_industry.csv", ",超过8,", ",超过8.1,")
        one, proc = _cli(env, "refresh")
        refresh_stages = _stage_times(root / "home")
        _edit(
            sources / "fig09_global_compute_by_region.csv",
            "compute_share,JP,total,2020,6,",
            "compute_share,JP,total,2020,7,",
        )
        one_leaf, leaf_proc = _cli(env, "refresh")
    return {
        "cold": cold,
        "pages_s": pages_s,
        **{f"stage:{k}": v for k, v in stages.items()},
        "pdf_wall": pdf_wall,
        "editions_s": result["timing"]["editions_s"],
        "join_s": result["timing"]["join_s"],
        "laid_out_pages": result["zh"]["pages"] + result["en"]["pages"],
        "written_pages": sum(result[k]["pages"] for k in ("zh", "en", "bilingual")),
        **{key: result["timing"][key] for key in ("zh_layout_s", "zh_write_s", "en_layout_s", "en_write_s")},
        "noop": noop,
        "one": one,
        "one_run": refresh_stages["run"],
        "one_leaf": one_leaf,
        "rebuilt": sum(1 for line in proc.stdout.splitlines() if line.strip().startswith("built")),
        "rebuilt_leaf": sum(1 for line in leaf_proc.stdout.splitlines() if line.strip().startswith("built")),
        "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def main() -> int:
    """Run the measurements `--runs` times and print a markdown table (one column per run, then the median)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1)
    runs = [measure_once() for _ in range(parser.parse_args().runs)]
    med = {k: statistics.median(r.get(k, 0.0) for r in runs) for k in runs[0]}

    def row(label: str, key: str, fmt: str = "{:.1f} s", target: str = "") -> None:
        cells = " | ".join(fmt.format(r.get(key, 0.0)) for r in runs)
        print(f"| {label} | {cells} | {fmt.format(med[key])} | {target} |")

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("\n| measurement | " + " | ".join(f"run {i + 1}" for i in range(len(runs))) + " | median | target |")
    print("|---|" + "---:|" * (len(runs) + 1) + "---|")
    row("cold build, `reportctl build` wall time (ingest → published PDFs)", "cold", target="≤ 20 s")
    row("· the Dagster run itself (first to last event)", "stage:run")
    for name in ("ingest", "warehouse", "forecast", "context", "charts", "layout + PDF write", "publish", "other"):
        if f"stage:{name}" in med:
            row(f"· step: {name}", f"stage:{name}")
    for r in runs + [med]:
        r["pages_pct"] = 100 * r["pages_s"] / r["cold"]
    row("Markdown pages and references: read, check, resolve, render both editions' views", "pages_s", "{:.2f} s")
    row("· as % of cold", "pages_pct", "{:.1f} %", "< 5 %")
    row("PDF build on its own (both editions in parallel, then the joined volume)", "pdf_wall")
    row("· zh edition: layout", "zh_layout_s", "{:.2f} s")
    row("· zh edition: write", "zh_write_s", "{:.2f} s")
    row("· en edition: layout", "en_layout_s", "{:.2f} s")
    row("· en edition: write", "en_write_s", "{:.2f} s")
    row("· joining the bilingual volume", "join_s", "{:.2f} s")
    for r in runs + [med]:
        r["laid_out_per_s"] = r["laid_out_pages"] / r["pdf_wall"]
        r["written_per_s"] = r["written_pages"] / r["pdf_wall"]
    row("pages laid out (zh + en) per second of the PDF build", "laid_out_per_s", "{:.1f}", "≥ 12")
    row("pages delivered (zh + en + bilingual) per second of the PDF build", "written_per_s", "{:.1f}")
    row("peak RSS of the largest process", "peak_mb", "{:.0f} MB", "≤ 1,024 MB")
    for r in runs + [med]:
        r["noop_pct"], r["one_pct"] = 100 * r["noop"] / r["cold"], 100 * r["one"] / r["cold"]
        r["one_leaf_pct"] = 100 * r["one_leaf"] / r["cold"]
    row("no-op refresh", "noop")
    row("· as % of cold", "noop_pct", "{:.0f} %", "< 10 %")
    row(
        f"one-table refresh (fig12 changed: feeds core, forecasts, claims, two charts; {runs[0]['rebuilt']} assets "
        "re-run)",
        "one",
    )
    row("· the Dagster run itself", "one_run")
    row("· as % of cold", "one_pct", "{:.0f} %", "< 50 %")
    row(f"one-table refresh (fig09 changed: one share, one chart; {runs[0]['rebuilt_leaf']} assets re-run)", "one_leaf")
    row("· as % of cold", "one_leaf_pct", "{:.0f} %", "< 50 %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
