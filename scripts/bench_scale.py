"""Cost as sources grow (issue 17): the bundled sources plus N generated tables of a realistic size (a wide CSV
with Chinese headers, 6 series × 8 years, units in the labels), then, each in a fresh process: loading the
definitions, `reportctl status`, a no-op `reportctl refresh` after a build, and a one-table refresh.

    .venv/bin/python scripts/bench_scale.py --tables 30 300 1000 [--workdir DIR]

Goals: a one-table refresh at 1,000 tables within 1.3× of the same refresh at 30; definitions load < 3 s at 1,000.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
YEARS = range(2015, 2023)
SERIES_PER_TABLE = 6


def generate(sources: Path, tables: int) -> None:
    """Copy the bundled sources and add `tables` generated tables, their series and manifest entries."""
    shutil.copytree(ROOT / "sources", sources, ignore=shutil.ignore_patterns("_*", ".*"))
    series_lines, manifest = [], []
    for t in range(tables):
        rows = []
        for s in range(SERIES_PER_TABLE):
            sid = f"bench_t{t:04d}_s{s}"
            series_lines.append(f"{sid},基准测试序列{t}-{s},Benchmark series {t}-{s},money,生成的数据,Generated data,")
            values = ",".join(f"{(t + 1) * (s + 1) * 1.07 ** (y - 2015):.1f}" for y in YEARS)
            rows.append(f"基准测试序列{t}-{s}（亿元）,{values}")
        header = "指标," + ",".join(f"{y}年" for y in YEARS)
        (sources / f"bench_{t:04d}.csv").write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
        manifest.append(
            f"""
  - id: bench_{t:04d}
    file: bench_{t:04d}.csv
    publisher: 基准测试 (benchmark)
    title_zh: 生成的表{t}
    title_en: Generated table {t}
    published: 2023-01-01
    reference: 第1页 / p. 1
    measure: generated
    status: solid
    layout: wide
    geography: CN
"""
        )
    with (sources / "series.csv").open("a", encoding="utf-8") as fh:
        fh.write("\n".join(series_lines) + "\n")
    with (sources / "manifest.yaml").open("a", encoding="utf-8") as fh:
        fh.write("".join(manifest))


def timed(env: dict[str, str], *args: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return time.perf_counter() - start


def measure(workdir: Path, tables: int) -> dict[str, float]:
    root = workdir / f"n{tables}"
    shutil.rmtree(root, ignore_errors=True)
    generate(root / "sources", tables)
    env = {
        **os.environ,
        "REPORT_SOURCES_DIR": str(root / "sources"),
        "REPORT_OUTPUT_DIR": str(root / "out"),
        "DAGSTER_HOME": str(root / "home"),
    }
    cli = (sys.executable, "-m", "pipeline.cli")
    load = "from pipeline.definitions import defs; defs().resolve_asset_graph()"
    out = {"tables": len(list((root / "sources").glob("*.csv"))) + 1}
    out["definitions_load_s"] = min(timed(env, sys.executable, "-c", load) for _ in range(3))
    out["cold_build_s"] = timed(env, *cli, "build")
    out["status_s"] = timed(env, *cli, "status")
    out["noop_refresh_s"] = timed(env, *cli, "refresh")
    target = root / "sources" / "bench_0000.csv" if tables else root / "sources" / "fig12_core_related_industry.csv"
    target.write_text(target.read_text(encoding="utf-8").replace(",1.0,", ",1.1,", 1), encoding="utf-8")
    out["one_table_refresh_s"] = timed(env, *cli, "refresh")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, nargs="+", default=[30, 300, 1000])
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    print(json.dumps({"machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}))
    for n in args.tables:
        print(json.dumps({"generated": n, **measure(workdir, n)}), flush=True)


if __name__ == "__main__":
    main()
