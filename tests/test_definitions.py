"""The Dagster definitions load (a broken import fails CI), show the layers, and never open the database."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest


@pytest.fixture()
def defs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dg.Definitions:
    monkeypatch.setenv("REPORT_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("REPORT_WAREHOUSE", str(tmp_path / "never-opened.duckdb"))
    from pipeline.definitions import defs as load

    return load()


def test_groups_and_key_assets(defs: dg.Definitions, tmp_path: Path) -> None:
    graph = defs.resolve_asset_graph()
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert {"sources", "raw", "core", "forecast", "report", "charts"} == groups
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {
        "raw/fig11_market_size",
        "raw/fx_rates",
        "core/observations",
        "core/sources",
        "report/edition",
        "report/volume",
    } <= keys
    assert not (tmp_path / "never-opened.duckdb").exists(), "loading definitions must not open the warehouse"


def test_one_ingest_asset_per_manifest_entry(defs: dg.Definitions) -> None:
    from pipeline.config import sources_dir
    from pipeline.lib.ingest.manifest import load_manifest

    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    for spec in load_manifest(sources_dir()):
        assert f"raw/{spec.id}" in keys


def test_checks_are_blocking(defs: dg.Definitions) -> None:
    repo = defs.get_repository_def()
    specs = [spec for assets_def in repo.assets_defs_by_key.values() for spec in assets_def.check_specs]
    names = {spec.name for spec in specs}
    assert {
        "schema",
        "known_units",
        "plausible_years",
        "unique_keys",
        "no_negative_sizes",
        "totals_consistent",
        "manifest_matches_files",
        "forecasts_plausible",
        "formulas_hold",
        "every_row_sourced",
    } <= names
    assert {spec.name for spec in specs if not spec.blocking} == {"claims_assessed", "recent_vintages"}
