"""Benchmark the whole bundle: cold build per stage, PDF layout/write and pages per second, peak memory, and the
refresh paths (no-op, one table changed). Runs on a temporary copy of the project's sources.

    .venv/bin/python scripts/bench_report.py [--runs 1]

Targets (issues 5 and 6): whole bundle ≤ 20 s cold (ingest to PDFs, installation excluded), ≥ 12 laid-out pages/s
across the bundle, peak memory ≤ 1 GB; no-op refresh < 10% and one-table refresh < 50% of the cold build.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = (("raw__", "ingest"), ("core_model", "warehouse"), ("forecast", "forecast"), ("charts__", "charts"),
          ("report__context", "context"), ("report__pdf", "layout + PDF write"), ("report__publish", "publish"))


def _cli(env: dict[str, str], *args: str) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"`reportctl {' '.join(args)}` failed:\n{proc.stdout}\n{proc.stderr}")
    return time.perf_counter() - start, proc


def _stage_times(dagster_home: Path) -> dict[str, float]:
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    import dagster as dg

    instance = dg.DagsterInstance.get()
    run = instance.get_runs(limit=1)[0]
    totals: dict[str, float] = defaultdict(float)
    for stat in instance.get_run_step_stats(run.run_id):
        if stat.end_time is None or stat.start_time is None:
            continue
        stage = next((name for prefix, name in STAGES if stat.step_key.startswith(prefix)), "other")
        if stat.step_key.endswith(("_schema", "_known_units", "_plausible_years", "_unique_keys",
                                   "_no_negative_sizes")) or "_check" in stat.step_key:
            stage = "checks"
        totals[stage] += stat.end_time - stat.start_time
    return dict(totals)


def main() -> int:
    """Run the measurements and print a markdown report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        root = Path(tmp)
        sources = root / "sources"
        shutil.copytree(ROOT / "sources", sources, ignore=shutil.ignore_patterns("_*", ".*"))
        env = {**os.environ, "REPORT_SOURCES_DIR": str(sources), "REPORT_OUTPUT_DIR": str(root / "out"),
               "DAGSTER_HOME": str(root / "home")}
        env.pop("REPORT_WAREHOUSE", None)
        cold, _ = _cli(env, "build")
        stages = _stage_times(root / "home")
        pdf = subprocess.run([sys.executable, "-m", "pipeline.lib.report.build", str(root / "out/build/context.json"),
                              str(root / "out/build/charts"), str(root / "pdfcheck")], cwd=ROOT, capture_output=True,
                             text=True, check=True)
        result = json.loads(pdf.stdout.strip().splitlines()[-1])
        pages = sum(v["pages"] for k, v in result.items() if k not in ("numbers", "timing"))
        render_s = result["timing"]["layout_s"] + result["timing"]["write_s"]
        noop, _ = _cli(env, "refresh")
        table = sources / "fig12_core_related_industry.csv"
        table.write_text(table.read_text(encoding="utf-8").replace(",8,", ",8.1,"), encoding="utf-8")
        one, proc = _cli(env, "refresh")
        rebuilt = sum(1 for line in proc.stdout.splitlines() if line.strip().startswith("built"))
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("\n| measurement | value | target |\n|---|---:|---|")
    print(f"| cold build, `reportctl build` wall time (ingest → published PDFs) | {cold:.1f} s | ≤ 20 s |")
    for name in ("ingest", "checks", "warehouse", "forecast", "context", "charts", "layout + PDF write", "publish",
                 "other"):
        if name in stages:
            print(f"| · stage: {name} (sum of step times) | {stages[name]:.1f} s | |")
    print(f"| PDF layout (zh + en, once each) | {result['timing']['layout_s']:.2f} s | |")
    print(f"| PDF write (3 files in parallel processes) | {result['timing']['write_s']:.2f} s | |")
    print(f"| pages written (zh + en + bilingual) | {pages} | |")
    print(f"| pages per second (layout + write) | {pages / render_s:.1f} | ≥ 12 |")
    print(f"| peak RSS of the largest process | {peak_mb:.0f} MB | ≤ 1,024 MB |")
    print(f"| no-op refresh | {noop:.1f} s ({noop / cold:.0%} of cold) | < 10% |")
    print(f"| one-table refresh (fig12 changed; {rebuilt} assets re-run) | {one:.1f} s ({one / cold:.0%} of cold) "
          "| < 50% |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
