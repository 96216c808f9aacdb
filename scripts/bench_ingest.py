"""Benchmark: does the ingestion code path scale to a 10-million-row source table?

Run from the project root:

    .venv/bin/python scripts/bench_ingest.py                   # 10M rows, temporary folder, deleted at the end
    .venv/bin/python scripts/bench_ingest.py --rows 1000000 --workdir /tmp/bench --keep

What it does:

1. Generates, with DuckDB's own `COPY (SELECT ... FROM range(n)) TO ...`, a Gartner-style long CSV
   `series,geography,segment,year,value,unit,status` (country × industry × segment × year; one series per
   industry, half the industries in 亿美元 and half in 亿元 so the FX path is exercised), plus the minimal
   catalogue the ingestion needs: `series.csv`, `labels.csv`, `fx_rates.csv` (copied from sources/) and
   `manifest.yaml`.
2. Measures, each in a fresh subprocess (peak RSS is that child's own `ru_maxrss`, read with `os.wait4`):
   (a) DuckDB's bare `CREATE TABLE t AS SELECT * FROM read_csv(file, all_varchar=true, header=true)`;
   (b) the project's `ingest_table` (the code path of the Dagster ingest asset) into a new DuckDB file;
   (c) `build_core` over the warehouse that (b) produced.
   With `--profile`, (d) repeats (b) with every SQL statement timed and prints the slowest statements.
   With `--floor`, (e) times only writing (b)'s tidy rows again (`CREATE TABLE AS SELECT * FROM tidy.<id>` on a
   copy of (b)'s database): what any ingestion that stores those rows pays on top of reading the file.
3. Prints a markdown table against the targets: peak RSS of (b) < 1 GB, time of (b) ≤ 2× (a).

DuckDB settings: by default every child applies the project's own connection settings
(`pipeline.lib.db.duckdb_config()`: memory_limit from REPORT_DUCKDB_MEMORY_LIMIT, default 700MB), as the
Dagster resource does. `--memory-limit` / `--threads` / `--set` override them; `--duckdb-defaults` applies none
(DuckDB's own defaults, as the project had before it set a memory limit).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import duckdb

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TABLE_ID = "bench_market"
CSV_NAME = f"{TABLE_ID}.csv"
YEARS = 8  # 2015-2022: the years the bundled exchange-rate table covers
FIRST_YEAR = 2015
INDUSTRIES = 50
SEGMENTS = 100
ROWS_PER_COUNTRY = YEARS * SEGMENTS * INDUSTRIES
RSS_TARGET_MB = 1024.0
TIME_TARGET_RATIO = 2.0
MB = 1024 * 1024


# ---------------------------------------------------------------------------------------------------------------
# Data generation
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """The dimensions of the generated table; `rows` may be smaller than the full product (last country cut)."""

    rows: int
    countries: int
    industries: int = INDUSTRIES
    segments: int = SEGMENTS
    years: int = YEARS

    @classmethod
    def for_rows(cls, rows: int) -> Shape:
        """Scale the number of countries to `rows` (50 industries × 100 segments × 8 years per country)."""
        return cls(rows=rows, countries=max(1, math.ceil(rows / ROWS_PER_COUNTRY)))

    def describe(self) -> str:
        """Human-readable dimensions."""
        return (
            f"{self.countries} countries × {self.industries} industries × {self.segments} segments × "
            f"{self.years} years (cut at {self.rows:,} rows)"
        )


def geo_code(k: int) -> str:
    """Two-letter code of country number k (AA, AB, ...); a numeric suffix past ZZ. Mirrors GEO_CODE_SQL."""
    code = chr(65 + (k // 26) % 26) + chr(65 + k % 26)
    return code + (str(k // 676) if k >= 676 else "")


GEO_CODE_SQL = (
    "chr(65 + ((geo // 26) % 26)::INTEGER) || chr(65 + (geo % 26)::INTEGER) || "
    "CASE WHEN geo >= 676 THEN (geo // 676)::VARCHAR ELSE '' END"
)


def series_id(ind: int) -> str:
    """Series id of industry number ind. Mirrors the SQL in `write_csv`."""
    return f"ind{ind:02d}_it_spending"


def usd_industry(ind: int) -> bool:
    """Even industries are reported in 亿美元, odd ones in 亿元 (one unit per series)."""
    return ind % 2 == 0


def write_csv(path: Path, shape: Shape) -> None:
    """Write the long table with DuckDB's COPY (no Python loop over rows)."""
    y, s, i = shape.years, shape.segments, shape.industries
    # value: a country size (heavy-tailed) × an industry weight × a segment share × ~8 %/yr growth,
    # in 亿元 (÷7 for the 亿美元 series), printed with 2 decimals: 0.01 … ~10,000.
    sql = f"""
        COPY (
            SELECT 'ind' || lpad(ind::VARCHAR, 2, '0') || '_it_spending' AS series,
                   {GEO_CODE_SQL} AS geography,
                   'seg' || lpad(seg::VARCHAR, 3, '0') AS segment,
                   {FIRST_YEAR} + yr AS year,
                   printf('%.2f', greatest(0.01,
                       (2000.0 / (1 + geo) ^ 0.8)
                       * (0.2 + (hash(ind * 7919) % 1000) / 500.0)
                       * (0.05 + (hash(geo * 1000003 + ind * 1009 + seg) % 10000) / 5000.0)
                       * 1.08 ^ yr
                       / CASE WHEN ind % 2 = 0 THEN 7.0 ELSE 1.0 END)) AS value,
                   CASE WHEN ind % 2 = 0 THEN '亿美元' ELSE '亿元' END AS unit,
                   'solid' AS status
            FROM (SELECT n % {y} AS yr, (n // {y}) % {s} AS seg, (n // {y * s}) % {i} AS ind,
                         n // {y * s * i} AS geo
                  FROM range({shape.rows}) t(n))
        ) TO '{path.as_posix()}' (FORMAT csv, HEADER true, DELIMITER ',')"""
    con = duckdb.connect()
    try:
        con.execute(sql)
    finally:
        con.close()


def write_catalogue(folder: Path, shape: Shape) -> None:
    """series.csv, labels.csv, fx_rates.csv and manifest.yaml for the generated table."""
    import csv

    import yaml

    with (folder / "series.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["series_id", "name_zh", "name_en", "quantity", "description_zh", "description_en", "aliases"])
        w.writerow(
            [
                "fx_rate",
                "汇率（每单位外币折合人民币）",
                "Exchange rate (CNY per unit of foreign currency)",
                "money",
                "基准测试用汇率",
                "Exchange rate for the benchmark",
                "",
            ]
        )
        for ind in range(shape.industries):
            w.writerow(
                [
                    series_id(ind),
                    f"行业{ind:02d} IT支出",
                    f"Industry {ind:02d} IT spending",
                    "money",
                    f"合成数据：行业{ind:02d}的IT支出",
                    f"Synthetic: IT spending of industry {ind:02d}",
                    "",
                ]
            )
    geos = [geo_code(k) for k in range(shape.countries)]
    with (folder / "labels.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["dimension", "code", "name_zh", "name_en", "aliases"])
        for k, code in enumerate(geos):
            w.writerow(["geography", code, f"国家{k:03d}", f"Country {k:03d}", ""])
        if "CN" not in geos:  # the fx_rates table's geography
            w.writerow(["geography", "CN", "中国", "China", ""])
        for seg in range(shape.segments):
            w.writerow(["segment", f"seg{seg:03d}", f"细分{seg:03d}", f"Segment {seg:03d}", ""])
        for code, zh, en in (("USD", "美元", "US dollar"), ("EUR", "欧元", "Euro"), ("JPY", "日元", "Japanese yen")):
            w.writerow(["segment", code, zh, en, ""])
    shutil.copyfile(ROOT / "sources" / "fx_rates.csv", folder / "fx_rates.csv")
    bundled = yaml.safe_load((ROOT / "sources" / "manifest.yaml").read_text(encoding="utf-8"))
    fx_entry = next(e for e in bundled["tables"] if e["id"] == "fx_rates")  # as the bundled sources cite it
    manifest = {
        "tables": [
            fx_entry,
            {
                "id": TABLE_ID,
                "file": CSV_NAME,
                "kind": "observations",
                "publisher": "Benchmark (synthetic)",
                "title_zh": "合成的分国家、行业、细分IT支出",
                "title_en": "Synthetic IT spending by country, industry and segment",
                "published": dt.date(2025, 1, 1),
                "reference": "第1页 / p. 1",
                "measure": "IT spending",
                "status": "solid",
                "layout": "long",
            },
        ]
    }
    (folder / "manifest.yaml").write_text(
        yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )


# ---------------------------------------------------------------------------------------------------------------
# Child processes (one per measurement)
# ---------------------------------------------------------------------------------------------------------------


def _connect(db: Path, settings: dict[str, str]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(db))
    for key, value in settings.items():
        con.execute(f"SET {key} = '{value}'")
    return con


class TimedConnection:
    """Forwards to a DuckDB connection and records the wall time of every execute/executemany."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self.log: list[tuple[float, str]] = []

    def execute(self, sql: str, params: object = None) -> duckdb.DuckDBPyConnection:
        """Timed `execute` (the result is materialised by DuckDB before this returns)."""
        t0 = time.perf_counter()
        result = self._con.execute(sql, params) if params is not None else self._con.execute(sql)
        self.log.append((time.perf_counter() - t0, sql))
        return result

    def executemany(self, sql: str, params: object) -> duckdb.DuckDBPyConnection:
        """Timed `executemany`."""
        t0 = time.perf_counter()
        result = self._con.executemany(sql, params)
        self.log.append((time.perf_counter() - t0, sql))
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _one_line(sql: str, width: int = 150) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def run_child(kind: str, db: Path, sources: Path, settings: dict[str, str], out: Path) -> None:
    """Do one measurement and write {phase: seconds, ...} as JSON to `out`."""
    from pipeline.lib.ingest.catalog import load_catalogs
    from pipeline.lib.ingest.manifest import load_manifest
    from pipeline.lib.ingest.tables import ensure_schemas, ingest_table
    from pipeline.lib.warehouse.core import build_core

    result: dict[str, Any] = {}
    t_start = time.perf_counter()
    con = _connect(db, settings)
    if kind == "bare":
        t0 = time.perf_counter()
        con.execute(
            "CREATE TABLE t AS SELECT * FROM read_csv(?, all_varchar=true, header=true)", [str(sources / CSV_NAME)]
        )
        result["op"] = time.perf_counter() - t0
        result["rows"] = con.execute("SELECT count(*) FROM t").fetchone()[0]
    elif kind in ("ingest", "profile"):
        timed = TimedConnection(con) if kind == "profile" else None
        c = cast(duckdb.DuckDBPyConnection, timed) if timed else con
        t0 = time.perf_counter()
        ensure_schemas(c)
        load_catalogs(c, sources)
        specs = {s.id: s for s in load_manifest(sources)}
        ingest_table(c, specs["fx_rates"], sources)
        result["setup"] = time.perf_counter() - t0
        if timed:
            timed.log.clear()
        t0 = time.perf_counter()
        res = ingest_table(c, specs[TABLE_ID], sources)
        result["op"] = time.perf_counter() - t0
        result["rows"] = res.raw_rows
        result["tidy_rows"] = res.tidy_rows
        if timed:
            result["statements"] = sorted(([round(s, 3), _one_line(q)] for s, q in timed.log), reverse=True)
    elif kind == "floor":
        # writing the tidy rows and nothing else: a copy of the tidy table (b) wrote, in the same unordered way
        t0 = time.perf_counter()
        con.execute("BEGIN")
        con.execute("SET preserve_insertion_order = false")
        con.execute(f"CREATE TABLE tidy.floor_copy AS SELECT * FROM tidy.{TABLE_ID}")
        con.execute("COMMIT")
        result["op"] = time.perf_counter() - t0
        result["rows"] = con.execute("SELECT count(*) FROM tidy.floor_copy").fetchone()[0]
    elif kind == "core":
        specs_list = load_manifest(sources)
        t0 = time.perf_counter()
        counts = build_core(con, specs_list)
        result["op"] = time.perf_counter() - t0
        result["rows"] = counts["observations"]
        usd = con.execute("SELECT count(*) FROM core.observations WHERE currency_orig = 'USD'").fetchone()[0]
        result["usd_rows_converted"] = usd
    else:
        raise SystemExit(f"unknown child kind {kind!r}")
    t0 = time.perf_counter()
    con.close()  # includes the checkpoint of the WAL into the database file
    result["close"] = time.perf_counter() - t0
    result["child_total"] = time.perf_counter() - t_start
    out.write_text(json.dumps(result), encoding="utf-8")


# ---------------------------------------------------------------------------------------------------------------
# Parent: orchestration and report
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Measurement:
    """One child run: its timings (seconds), peak RSS and the database it produced."""

    label: str
    kind: str
    wall: float
    rss_mb: float
    db_mb: float
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def work(self) -> float:
        """The measured operation plus closing (checkpointing) the database."""
        return float(self.data["op"]) + float(self.data["close"])


def measure(label: str, kind: str, db: Path, sources: Path, settings: dict[str, str]) -> Measurement:
    """Run one child and read its peak RSS from os.wait4 (that child only)."""
    out = db.with_suffix(f".{kind}.json")
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        kind,
        "--db",
        str(db),
        "--sources",
        str(sources),
        "--result",
        str(out),
    ]
    for key, value in settings.items():
        cmd += ["--set", f"{key}={value}"]
    print(f"[bench] {label} …", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"child {kind!r} failed with exit code {proc.returncode}")
    data = json.loads(out.read_text(encoding="utf-8"))
    db_mb = db.stat().st_size / MB if db.exists() else 0.0
    m = Measurement(label, kind, wall, usage.ru_maxrss / 1024, db_mb, data)
    print(f"[bench] {label}: work {m.work:.1f} s, process {wall:.1f} s, peak RSS {m.rss_mb:.0f} MB", flush=True)
    return m


@contextmanager
def workdir(path: str | None, keep: bool) -> Iterator[Path]:
    """The given folder (created; kept), or a temporary one deleted at the end unless `keep`."""
    if path:
        folder = Path(path).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
        return
    folder = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        yield folder
    finally:
        if keep:
            print(f"[bench] kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def machine() -> str:
    """nproc, RAM, DuckDB and Python versions."""
    ram_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return (
        f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {ram_gb:.1f} GB RAM, "
        f"DuckDB {duckdb.__version__}, Python {platform.python_version()}, {platform.platform()}"
    )


def report(
    shape: Shape,
    csv_mb: float,
    gen_s: float,
    bare: Measurement,
    ingest: Measurement,
    core: Measurement | None,
    settings: dict[str, str],
) -> str:
    """The markdown results table and the verdict against the targets."""
    ratio = ingest.work / bare.work
    lines = [
        f"Machine: {machine()}",
        f"Input: {shape.rows:,} rows, {csv_mb:.0f} MB CSV ({shape.describe()}), generated in {gen_s:.1f} s",
        f"DuckDB settings: {', '.join(f'{k}={v}' for k, v in settings.items()) or 'none (DuckDB defaults)'}",
        "",
        "| step | rows | work (s) | process wall (s) | peak RSS (MB) | DB file (MB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for m in (bare, ingest, core):
        if m is None:
            continue
        rows = f"{m.data['rows']:,}"
        lines.append(f"| {m.label} | {rows} | {m.work:.1f} | {m.wall:.1f} | {m.rss_mb:.0f} | {m.db_mb:.0f} |")
    rss_ok = ingest.rss_mb < RSS_TARGET_MB
    time_ok = ratio <= TIME_TARGET_RATIO
    lines += [
        "",
        "work = the operation + closing the connection (checkpoint); process wall adds interpreter start and imports.",
        f"(b) setup before the timed ingest (catalogues + fx_rates table): {ingest.data['setup']:.1f} s; "
        f"tidy rows {ingest.data['tidy_rows']:,}.",
        "",
        f"**Ratio (b)/(a): {ratio:.2f}×** (target ≤ {TIME_TARGET_RATIO:.0f}×: {'met' if time_ok else 'MISSED'}); "
        f"peak RSS of (b) {ingest.rss_mb:.0f} MB (target < {RSS_TARGET_MB:.0f} MB: "
        f"{'met' if rss_ok else 'MISSED'}).",
    ]
    if core is not None:
        lines.append(
            f"(c) build_core: {core.work:.1f} s, peak RSS {core.rss_mb:.0f} MB, "
            f"{core.data['usd_rows_converted']:,} rows converted from USD."
        )
    return "\n".join(lines)


def parse_settings(items: list[str]) -> dict[str, str]:
    """`--set key=value` pairs."""
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        if not key.isidentifier() or not value:
            raise SystemExit(f"--set expects key=value, got {item!r}")
        out[key] = value
    return out


def main(argv: list[str] | None = None) -> int:
    """Generate, measure, print the markdown report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the generated table")
    parser.add_argument("--workdir", help="folder for the CSV and the DuckDB files (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--skip-core", action="store_true", help="do not measure build_core")
    parser.add_argument("--profile", action="store_true", help="also time every SQL statement of ingest_table")
    parser.add_argument("--floor", action="store_true", help="also time a plain copy of the tidy table (b) wrote")
    parser.add_argument(
        "--memory-limit",
        help="SET memory_limit in every child (default: the project's, REPORT_DUCKDB_MEMORY_LIMIT or 700MB)",
    )
    parser.add_argument(
        "--duckdb-defaults",
        action="store_true",
        help="apply no DuckDB settings at all (DuckDB's defaults: memory_limit = 80%% of RAM)",
    )
    parser.add_argument("--threads", type=int, help="SET threads in every child (default: DuckDB's own)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any other DuckDB SET")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--sources", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    settings = parse_settings(args.set)
    if args.child:
        run_child(args.child, Path(args.db), Path(args.sources), settings, Path(args.result))
        return 0
    if not args.duckdb_defaults:
        from pipeline.lib.db import duckdb_config

        settings = {**duckdb_config(), **settings}
    if args.memory_limit:
        settings["memory_limit"] = args.memory_limit
    if args.threads:
        settings["threads"] = str(args.threads)
    if args.rows < 1:
        parser.error("--rows must be positive")

    shape = Shape.for_rows(args.rows)
    with workdir(args.workdir, args.keep) as folder:
        sources = folder / "sources"
        sources.mkdir(exist_ok=True)
        print(f"[bench] generating {shape.describe()} in {sources}", flush=True)
        t0 = time.perf_counter()
        write_csv(sources / CSV_NAME, shape)
        write_catalogue(sources, shape)
        gen_s = time.perf_counter() - t0
        csv_mb = (sources / CSV_NAME).stat().st_size / MB
        for name in ("bare", "ingest", "profile"):
            for path in folder.glob(f"{name}.duckdb*"):
                path.unlink()
        bare = measure("(a) bare read_csv → CREATE TABLE", "bare", folder / "bare.duckdb", sources, settings)
        ingest = measure("(b) ingest_table (raw + tidy)", "ingest", folder / "ingest.duckdb", sources, settings)
        floor = None
        if args.floor:
            for path in folder.glob("floor.duckdb*"):
                path.unlink()
            shutil.copyfile(folder / "ingest.duckdb", folder / "floor.duckdb")
            floor = measure(
                "(e) write-only floor: copy of the tidy table", "floor", folder / "floor.duckdb", sources, settings
            )
        core = (
            None if args.skip_core else measure("(c) build_core", "core", folder / "ingest.duckdb", sources, settings)
        )
        print()
        print(report(shape, csv_mb, gen_s, bare, ingest, core, settings))
        if floor is not None:
            print(
                f"(e) writing the tidy rows alone (copy of tidy.{TABLE_ID}): {floor.work:.1f} s = "
                f"{floor.work / bare.work:.2f}× (a), peak RSS {floor.rss_mb:.0f} MB; (a) + (e) = "
                f"{(bare.work + floor.work) / bare.work:.2f}× (a)."
            )
        if args.profile:
            prof = measure(
                "(d) ingest_table, every statement timed", "profile", folder / "profile.duckdb", sources, settings
            )
            in_sql = sum(seconds for seconds, _ in prof.data["statements"])
            print(
                f"\nSlowest statements of ingest_table ({prof.data['op']:.1f} s in total, of which "
                f"{prof.data['op'] - in_sql:.1f} s outside SQL: hashing/decoding the file in Python):\n"
            )
            print("| s | statement |\n|---:|---|")
            for seconds, sql in prof.data["statements"][:12]:
                print(f"| {seconds:.2f} | `{sql.replace('|', '/')}` |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
