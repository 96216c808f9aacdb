"""Identical data give identical data versions: re-running the warehouse, forecasts, context and charts on the same
inputs leaves nothing unsynced in Dagster."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
from dagster._core.loader import LoadingContextForTest


def _versions(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    return {
        e.asset_key.to_user_string(): e.step_materialization_data.materialization.tags["dagster/data_version"]
        for e in result.get_asset_materialization_events()
    }


def test_identical_data_leave_everything_in_sync(
    built_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(built_warehouse, warehouse)
    monkeypatch.setenv("REPORT_SOURCES_DIR", str(built_warehouse.parent / "sources"))
    monkeypatch.setenv("REPORT_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("REPORT_WAREHOUSE", str(warehouse))
    from pipeline.definitions import defs as load

    defs = load()
    graph = defs.resolve_asset_graph()
    keys = {
        k
        for k in graph.get_all_asset_keys()
        if k.path[0] in ("core", "forecast", "charts") or k == dg.AssetKey(["report", "context"])
    }
    job = defs.resolve_implicit_global_asset_job_def().get_subset(asset_selection=keys)
    with dg.DagsterInstance.ephemeral() as instance:
        first = _versions(job.execute_in_process(instance=instance))
        second = _versions(job.execute_in_process(instance=instance))
        assert {k.to_user_string() for k in keys} == set(first)
        assert first == second
        resolver = CachingStaleStatusResolver(instance, graph, LoadingContextForTest(instance))
        stale = {k.to_user_string() for k in keys if resolver.get_status(k) != StaleStatus.FRESH}
        assert not stale
        assert len(set(first.values())) > len(keys) // 2, (
            "versions must differ between assets (content, not a constant)"
        )
