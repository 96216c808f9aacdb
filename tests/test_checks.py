"""Every data check passes on the bundled warehouse and fails when the data is broken behind its back."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from pipeline.lib.ingest.manifest import load_manifest
from pipeline.lib.warehouse import checks
from pipeline.lib.warehouse.core import sources_dir_problems

TABLE = "fig09_global_compute_by_region"


@pytest.fixture()
def broken(built_warehouse: Path, tmp_path: Path):
    """A writable copy of the session warehouse for tests that damage it."""
    path = tmp_path / "copy.duckdb"
    shutil.copy(built_warehouse, path)
    con = duckdb.connect(str(path))
    yield con
    con.close()


def test_all_checks_pass_on_bundled_sources(warehouse_con) -> None:
    tables = [
        r[0]
        for r in warehouse_con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'tidy'"
        ).fetchall()
    ]
    assert TABLE in tables
    for table in tables:
        for name, fn in checks.TABLE_CHECKS.items():
            assert fn(warehouse_con, table) == [], f"{name} on {table}"
    assert checks.totals_consistent(warehouse_con) == []
    assert checks.formulas_hold(warehouse_con) == []
    assert checks.every_row_sourced(warehouse_con) == []


def test_schema_check_fails_on_missing_column(broken) -> None:
    broken.execute(f"ALTER TABLE tidy.{TABLE} DROP COLUMN qualifier")
    assert "columns" in checks.tidy_schema(broken, TABLE)[0]


def test_unit_check_fails_on_unknown_unit(broken) -> None:
    broken.execute(f"UPDATE tidy.{TABLE} SET unit_text = 'furlongs' WHERE src_row = 2")
    assert "unknown unit 'furlongs'" in checks.known_units(broken, TABLE)[0]


def test_year_check_fails_on_implausible_year(broken) -> None:
    broken.execute(f"UPDATE tidy.{TABLE} SET year = 1850 WHERE src_row = 2")
    assert checks.plausible_years(broken, TABLE) == ["row 2: year 1850 outside 1940-2035"]


def test_duplicate_check_fails(broken) -> None:
    broken.execute(f"INSERT INTO tidy.{TABLE} SELECT * FROM tidy.{TABLE} WHERE src_row = 2")
    assert "duplicate key compute_capacity/GLOBAL/total/2021" in checks.unique_keys(broken, TABLE)[0]


def test_negative_check_fails(broken) -> None:
    broken.execute(f"UPDATE tidy.{TABLE} SET value_orig = -1 WHERE src_row = 2")
    assert checks.no_negative_sizes(broken, TABLE) == ["row 2: negative value -1 for compute_capacity"]


def test_totals_check_fails_when_parts_do_not_add_up(broken) -> None:
    broken.execute(
        "UPDATE core.observations SET value = value * 2 WHERE series_id = 'compute_capacity' "
        "AND geography = 'GLOBAL' AND segment = 'intelligent' AND year = 2021"
    )
    problems = checks.totals_consistent(broken)
    assert len(problems) == 1 and problems[0].startswith("compute_capacity/GLOBAL/2021: parts")


def test_totals_check_uses_the_published_parts(warehouse_con) -> None:
    total, parts = warehouse_con.execute(
        "SELECT max(value) FILTER (segment = 'total'), sum(value) FILTER (segment <> 'total') "
        "FROM core.observations WHERE series_id = 'compute_capacity' AND geography = 'GLOBAL' AND year = 2021"
    ).fetchone()
    assert total == pytest.approx(615) and parts == pytest.approx(369 + 232 + 14)


def test_formula_check_fails_when_value_disagrees(broken) -> None:
    broken.execute("UPDATE core.observations SET value_orig = 500 WHERE formula = '615/1.44'")
    assert "formula 615/1.44" in checks.formulas_hold(broken)[0]


def test_sourced_check_fails_without_citation(broken) -> None:
    broken.execute("UPDATE core.sources SET reference = NULL WHERE source_id = 'fx_rates'")
    assert any("fx_rates" in p for p in checks.every_row_sourced(broken))


def test_manifest_coverage_both_ways(sources_copy: Path) -> None:
    specs = load_manifest(sources_copy)
    (sources_copy / "stray.csv").write_text("a\n1\n", encoding="utf-8")
    (sources_copy / "fig12_core_related_industry.csv").unlink()
    problems = [str(p) for p in sources_dir_problems(sources_copy, specs)]
    assert "sources/stray.csv: file has no manifest entry; add one to sources/manifest.yaml" in problems
    assert any("fig12_core_related_industry.csv' is missing" in p for p in problems)
