"""docs/add-a-source.md, "More vintages": releases added as published (title rows, units and geography in the
row labels, notes rows), then one refresh; `status` shows each dataset's vintages and what it feeds."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
from conftest import project_env, run_cli

from pipeline.config import PROJECT_ROOT

EXAMPLES = PROJECT_ROOT / "docs" / "examples"
TABLES = ("compute_capacity_2023", "core_industry_2023")


def test_new_vintages_as_published(built_template: Path, tmp_path: Path) -> None:
    """Starts where the walkthrough starts: a built project (a copy of the session's)."""
    from conftest import copy_project

    copy_project(built_template, tmp_path)
    sources = tmp_path / "sources"
    env = project_env(sources, tmp_path)
    received = {t: (EXAMPLES / f"{t}.csv").read_bytes() for t in TABLES}
    for table in TABLES:
        added = run_cli(env, "add-source", str(EXAMPLES / f"{table}.csv"), "--entry", str(EXAMPLES / f"{table}.yaml"))
        assert added.returncode == 0, added.stderr
        assert (sources / f"{table}.csv").read_bytes() == received[table], "the file goes in as received"
    refreshed = run_cli(env, "refresh")
    assert refreshed.returncode == 0, refreshed.stdout + refreshed.stderr
    built = set(re.findall(r"built\s+(\S+)", refreshed.stdout))
    assert {k for k in built if k.startswith("raw/")} == {f"raw/{t}" for t in TABLES}

    con = duckdb.connect(str(tmp_path / "out" / "warehouse.duckdb"), read_only=True)
    try:
        latest = con.execute(
            "SELECT series_id, geography, year, value, source_id FROM core.observations_latest "
            "WHERE year = 2022 AND series_id IN ('compute_capacity', 'core_industry') ORDER BY 1, 2"
        ).fetchall()
    finally:
        con.close()
    assert latest == [
        ("compute_capacity", "CN", 2022, 302.0, "compute_capacity_2023"),
        ("compute_capacity", "GLOBAL", 2022, 906.0, "compute_capacity_2023"),
        ("core_industry", "CN", 2022, 1.8e12, "core_industry_2023"),
    ]
    status = run_cli(env, "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert re.search(
        r"^  fig09_global_compute_by_region: 2022-11-05 fig09_global_compute_by_region\.csv, "
        r"2023-09-14 compute_capacity_2023\.csv \(latest\); feeds \d+ number\(s\): cn_compute, global_compute, ",
        status.stdout,
        re.MULTILINE,
    ), status.stdout
    assert re.search(
        r"^  fig12_core_related_industry: 2022-11-05 fig12_core_related_industry\.csv, 2023-04-27 "
        r"core_industry_2023\.csv \(latest\)",
        status.stdout,
        re.MULTILINE,
    ), status.stdout
