"""reportctl prints its progress while the run is going (pipeline/services/runs.py `Progress`), not after it."""

from __future__ import annotations

import dagster as dg
import pytest

from pipeline.services import runs


def _run(assets: list, checks: list | None = None) -> runs.Progress:
    progress = runs.Progress()
    job = (
        dg.Definitions(assets=assets, asset_checks=checks or [])
        .resolve_implicit_global_asset_job_def()
        .with_logger_defs({"progress": progress.logger()})
    )
    job.execute_in_process(
        run_config={"loggers": {"progress": {}}}, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    return progress


def test_a_built_asset_is_printed_before_the_next_step_runs(capsys: pytest.CaptureFixture[str]) -> None:
    printed_before_second: list[str] = []

    @dg.asset
    def first() -> None:
        return None

    @dg.asset(deps=[first])
    def second() -> None:
        printed_before_second.append(capsys.readouterr().out)

    progress = _run([first, second])
    assert "built   first" in printed_before_second[0] and "second" not in printed_before_second[0]
    assert "built   second" in capsys.readouterr().out
    assert progress.built == 2 and progress.failed == []


def test_a_failed_check_and_a_failed_step_go_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    @dg.asset
    def table() -> None:
        return None

    @dg.asset_check(asset=table)
    def no_negative_sizes() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=False, metadata={"problems": "row 3, column 'size': -4"})

    @dg.asset
    def broken() -> None:
        raise ValueError("sources/x.csv, row 2: bad unit")

    progress = _run([table, broken], [no_negative_sizes])
    err = capsys.readouterr().err
    assert "CHECK FAILED table:no_negative_sizes\nrow 3, column 'size': -4" in err
    assert "FAILED  broken" in err and "bad unit" in err
    assert sorted(progress.failed) == ["broken", "no_negative_sizes"]
