"""The editions as language partitions: one run of both writes them side by side, a run of one partition writes
only that edition, and the volume joins whatever both partitions last wrote."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

EDITION = dg.AssetKey(["report", "edition"])
VOLUME = dg.AssetKey(["report", "volume"])


@pytest.fixture()
def project(built_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from conftest import copy_project

    copy_project(built_template, tmp_path)
    monkeypatch.setenv("REPORT_SOURCES_DIR", str(tmp_path / "sources"))
    monkeypatch.setenv("REPORT_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REPORT_WAREHOUSE", raising=False)
    return tmp_path


def test_editions_are_partitioned_by_language_in_report_order() -> None:
    from pipeline.definitions import defs

    graph = defs().resolve_asset_graph()
    assert graph.get(EDITION).partitions_def.get_partition_keys() == ["zh", "en"]
    assert graph.get(VOLUME).partitions_def is None
    assert EDITION in graph.get(VOLUME).parent_keys
    assert VOLUME in graph.get(dg.AssetKey(["report", "publish"])).parent_keys


def test_a_build_materialises_each_language_once(project: Path) -> None:
    with dg.DagsterInstance.get() as instance:
        assert instance.get_materialized_partitions(EDITION) == {"zh", "en"}
        runs = {
            e.run_id
            for e in instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=EDITION), limit=10).records
        }
    assert len(runs) == 1, "both editions are written in the build's one run"


def test_one_partition_run_writes_only_that_edition(project: Path) -> None:
    from pipeline.definitions import defs

    staged = project / "out" / "build" / "pdf"
    before = {lang: (staged / f"report_{lang}.pdf").stat().st_mtime_ns for lang in ("zh", "en")}
    job = defs().resolve_implicit_global_asset_job_def().get_subset(asset_selection={EDITION})
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), partition_key="en")
    assert result.success
    assert [m.partition for m in result.get_asset_materialization_events()] == ["en"]
    after = {lang: (staged / f"report_{lang}.pdf").stat().st_mtime_ns for lang in ("zh", "en")}
    assert after["zh"] == before["zh"]
    assert after["en"] != before["en"]


def test_the_volume_needs_both_editions(project: Path) -> None:
    from pipeline.definitions import defs

    (project / "out" / "build" / "pdf" / "edition_zh.json").unlink()
    job = defs().resolve_implicit_global_asset_job_def().get_subset(asset_selection={VOLUME})
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "the zh edition has not been written" in str(failure.event_specific_data.error)
