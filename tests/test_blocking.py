"""A failing blocking check stops everything downstream in a real Dagster run, and the last edition stays."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest


def test_implausible_forecast_stops_the_report(
    sources_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = sources_copy / "forecast_assumptions.csv"
    text = path.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.startswith("de_high,"))
    new = old.replace(",cagr,18,", ",cagr,30,")
    assert new != old
    path.write_text(text.replace(old, new), encoding="utf-8")
    monkeypatch.setenv("REPORT_SOURCES_DIR", str(sources_copy))
    monkeypatch.setenv("REPORT_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("REPORT_WAREHOUSE", str(tmp_path / "w.duckdb"))
    from pipeline.definitions import defs

    job = defs().resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert not result.success
    evaluations = {
        e.event_specific_data.check_name: e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    plausible = evaluations["forecasts_plausible"]
    assert not plausible.passed
    assert "de_within_gdp" in plausible.metadata["problems"].value
    assert "digital_economy_size (high) 2030" in plausible.metadata["problems"].value
    assert evaluations["totals_consistent"].passed
    built = {e.asset_key.to_user_string() for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"}
    assert "forecast/headlines" in built
    assert not {"report/context", "report/edition", "report/volume", "report/publish"} & built
    assert not (tmp_path / "out" / "latest").exists()
