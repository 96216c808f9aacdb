"""The CLI's Dagster instance: the pinned Dagster's `InstanceRef.from_dir(overrides=)` (not public API) turns
compute-log mirroring off for the CLI's runs; any other Dagster version falls back to the plain instance."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from pipeline.services import instance as cli_instance


def test_cli_runs_do_not_mirror_step_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster._core.storage.noop_compute_log_manager import NoOpComputeLogManager

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with cli_instance.instance_without_log_mirroring(tmp_path) as instance:
        assert isinstance(instance.compute_log_manager, NoOpComputeLogManager), (
            "Dagster's InstanceRef changed: see pipeline/services/instance.py `instance_without_log_mirroring`"
        )


def test_other_dagster_versions_get_the_plain_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster._core.storage.noop_compute_log_manager import NoOpComputeLogManager

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setattr(dg, "__version__", "2.0.0")
    with cli_instance.instance_without_log_mirroring(tmp_path) as instance:
        assert not isinstance(instance.compute_log_manager, NoOpComputeLogManager)


@pytest.mark.parametrize("pools", ["", "concurrency:\n  pools:\n    default_limit: 2\n"])
def test_an_instance_that_lets_two_writers_run_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pools: str
) -> None:
    """A shared instance configured by hand (no pool limit, or more than one slot) is named, not used."""
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n" + pools, encoding="utf-8")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with pytest.raises(cli_instance.StateError) as caught:
        cli_instance.open_instance()
    message = str(caught.value)
    assert str(tmp_path / "dagster.yaml") in message and "default_limit: 1" in message
    assert ("unlimited" if not pools else "2 step(s)") in message


def test_a_new_home_gets_one_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    instance = cli_instance.open_instance()
    try:
        assert instance.event_log_storage.get_concurrency_info("duckdb_writer").limit == 1
    finally:
        instance.dispose()
