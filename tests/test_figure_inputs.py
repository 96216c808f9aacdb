"""Each chart declares the core datasets and forecast tables its query reads: exactly those, no more, no fewer."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline.lib.ingest.manifest import load_manifest
from pipeline.lib.report.figures import FIGURES, Figure

CHARTS = {fid: m for fid, m in FIGURES.items() if m.kind == "chart"}
CORE_TABLES = ("core.observations", "core.observations_latest")


@pytest.fixture(scope="module")
def writable(built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """A private copy of the session warehouse; every test changes it inside a transaction it rolls back."""
    path = tmp_path_factory.mktemp("inputs") / "w.duckdb"
    shutil.copy(built_warehouse, path)
    con = duckdb.connect(str(path))
    yield con
    con.close()


@pytest.fixture(scope="module")
def dataset_of(built_warehouse: Path) -> dict[str, str]:
    """{source table id: dataset id} from the manifest of the bundled sources the warehouse was built from."""
    return {s.id: s.dataset_id for s in load_manifest(built_warehouse.parent / "sources")}


def _result(module: Figure, con: duckdb.DuckDBPyConnection) -> str | None:
    """The query's data as JSON, or None when it fails (a missing input)."""
    try:
        return json.dumps(module.data(con).to_json(), sort_keys=True, default=str)
    except (duckdb.Error, KeyError, IndexError, StopIteration, ValueError, TypeError):
        return None


def _tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = ?", [schema]).fetchall()
    return sorted(t for (t,) in rows)


def _without(con: duckdb.DuckDBPyConnection, dataset_of: dict[str, str], datasets: set[str]) -> None:
    ids = [t for t, d in dataset_of.items() if d in datasets]
    for table in CORE_TABLES:
        con.execute(f"DELETE FROM {table} WHERE list_contains(?, source_id)", [ids])


def _in_rollback(con: duckdb.DuckDBPyConnection, change: Any, module: Figure) -> str | None:
    con.execute("BEGIN")
    try:
        change()
        return _result(module, con)
    finally:
        con.execute("ROLLBACK")


@pytest.mark.parametrize("fid", sorted(CHARTS))
def test_declared_inputs_are_enough(fid: str, writable: duckdb.DuckDBPyConnection, dataset_of: dict[str, str]) -> None:
    module = CHARTS[fid]
    full = _result(module, writable)
    assert full is not None
    others = set(dataset_of.values()) - set(module.datasets)
    undeclared = [f"forecast.{t}" for t in _tables(writable, "forecast") if t not in module.forecasts]
    undeclared += [f"raw.{t}" for t in _tables(writable, "raw") if t not in module.raw_tables and t in dataset_of]

    def keep_only_declared() -> None:
        _without(writable, dataset_of, others)
        for table in undeclared:
            writable.execute(f"DROP TABLE {table}")

    assert _in_rollback(writable, keep_only_declared, module) == full, f"{fid} reads an undeclared input"


@pytest.mark.parametrize("fid", sorted(CHARTS))
def test_every_declared_input_is_read(
    fid: str, writable: duckdb.DuckDBPyConnection, dataset_of: dict[str, str]
) -> None:
    module = CHARTS[fid]
    full = _result(module, writable)
    assert set(module.datasets) <= set(dataset_of.values()), "unknown dataset"
    unused = [
        d
        for d in module.datasets
        if _in_rollback(writable, lambda d=d: _without(writable, dataset_of, {d}), module) == full
    ]
    unused += [
        t
        for t in module.forecasts
        if _in_rollback(writable, lambda t=t: writable.execute(f"DELETE FROM forecast.{t}"), module) == full
    ]
    assert not unused, f"{fid} declares inputs its query does not read: {unused}"


def test_forecast_declares_the_datasets_of_its_series(
    warehouse_con: duckdb.DuckDBPyConnection, dataset_of: dict[str, str]
) -> None:
    from pipeline.defs.forecast.assets import BOUND_DATASETS, PROJECTED_DATASETS

    def datasets(sql: str) -> set[str]:
        series = [s for (s,) in warehouse_con.execute(sql).fetchall()]
        rows = warehouse_con.execute(
            "SELECT DISTINCT source_id FROM core.observations WHERE list_contains(?, series_id)", [series]
        ).fetchall()
        return {dataset_of[s] for (s,) in rows}

    projected = datasets(
        "SELECT series_id FROM forecast.projections UNION SELECT series_id FROM forecast.backtest "
        "UNION SELECT series_id FROM forecast.forecast_vs_actual UNION SELECT member_series_id FROM forecast.aggregates"
    )
    bounded = datasets("SELECT series_id FROM forecast.bounds UNION SELECT other_series_id FROM forecast.bounds")
    assert set(PROJECTED_DATASETS) == projected
    assert set(BOUND_DATASETS) == bounded - projected
