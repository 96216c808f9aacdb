"""Lineage is part of the contract, and the sources sensor requests exactly the affected assets."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest


@pytest.fixture()
def defs(sources_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dg.Definitions:
    monkeypatch.setenv("REPORT_SOURCES_DIR", str(sources_copy))
    monkeypatch.setenv("REPORT_OUTPUT_DIR", str(tmp_path / "out"))
    from pipeline.definitions import defs as load

    return load()


def _upstream(defs: dg.Definitions, key: str) -> set[str]:
    graph = defs.resolve_asset_graph()
    keys = dg.AssetSelection.assets(dg.AssetKey.from_user_string(key)).upstream().resolve(graph)
    return {k.to_user_string() for k in keys}


def test_figure_11_chart_lineage(defs: dg.Definitions) -> None:
    up = _upstream(defs, "charts/market_size_dc_cloud_ai")
    assert {
        "raw/fig11_market_size",
        "raw/fig11_market_history_derived",
        "core/dataset/fig11_market_size",
        "forecast/projections",
        "raw/forecast_assumptions",
    } <= up
    assert not {"report/context", "core/observations", "raw/fig09_global_compute_by_region"} & up
    raw = defs.resolve_asset_graph().get(dg.AssetKey.from_user_string("raw/fig11_market_size"))
    assert dg.AssetKey.from_user_string("sources/fig11_market_size") in raw.parent_keys


def test_pdf_and_publish_lineage(defs: dg.Definitions) -> None:
    up = _upstream(defs, "report/publish")
    assert {
        "report/volume",
        "report/edition",
        "charts/market_size_dc_cloud_ai",
        "forecast/headlines",
        "raw/fx_rates",
        "raw/catalog",
    } <= up


def test_groups_owners_and_kinds(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    node = graph.get(dg.AssetKey.from_user_string("raw/fig11_market_size"))
    assert node.group_name == "raw" and "duckdb" in node.kinds and node.owners
    assert graph.get(dg.AssetKey.from_user_string("forecast/headlines")).group_name == "forecast"


def test_sensor_requests_only_the_changed_table_and_downstream(defs: dg.Definitions, sources_copy: Path) -> None:
    from pipeline.defs.refresh.sensors import sources_sensor

    repo = defs.get_repository_def()
    first = sources_sensor(dg.build_sensor_context(cursor=None, repository_def=repo))
    assert len(first.run_requests) == 1
    quiet = sources_sensor(dg.build_sensor_context(cursor=first.cursor, repository_def=repo))
    assert isinstance(quiet, dg.SkipReason)
    path = sources_copy / "fig12_core_related_industry.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",超过8,", ",超过8.2,"), encoding="utf-8")
    result = sources_sensor(dg.build_sensor_context(cursor=first.cursor, repository_def=repo))
    (request,) = result.run_requests
    selected = {k.to_user_string() for k in request.asset_selection}
    assert "raw/fig12_core_related_industry" in selected
    assert {"core/observations", "forecast/headlines", "report/edition", "report/volume", "report/publish"} <= selected
    assert "charts/core_related_industry" in selected and "charts/global_compute_by_region" not in selected
    assert not any(k.startswith("raw/") and k != "raw/fig12_core_related_industry" for k in selected)
    assert [o.asset_key.to_user_string() for o in result.asset_events] == ["sources/fig12_core_related_industry"]


def test_sensor_waits_while_the_manifest_is_broken(defs: dg.Definitions, sources_copy: Path) -> None:
    from pipeline.defs.refresh.sensors import sources_sensor

    repo = defs.get_repository_def()
    first = sources_sensor(dg.build_sensor_context(cursor=None, repository_def=repo))
    manifest = sources_copy / "manifest.yaml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace("publisher: Gartner", "publisher: 高德纳", 1), encoding="utf-8"
    )
    path = sources_copy / "fig12_core_related_industry.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",超过8,", ",超过8.2,"), encoding="utf-8")
    broken = sources_sensor(dg.build_sensor_context(cursor=first.cursor, repository_def=repo))
    assert isinstance(broken, dg.SkipReason) and "manifest.yaml" in broken.skip_message


def test_sensor_sees_an_edited_manifest_entry(defs: dg.Definitions, sources_copy: Path) -> None:
    from pipeline.defs.refresh.sensors import sources_sensor

    repo = defs.get_repository_def()
    first = sources_sensor(dg.build_sensor_context(cursor=None, repository_def=repo))
    manifest = sources_copy / "manifest.yaml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace(
            "title_en: China data-centre, cloud computing and AI market sizes",
            "title_en: China data-centre, cloud computing and AI market sizes (revised)",
            1,
        ),
        encoding="utf-8",
    )
    result = sources_sensor(dg.build_sensor_context(cursor=first.cursor, repository_def=repo))
    (request,) = result.run_requests
    raw = {k.to_user_string() for k in request.asset_selection if k.path[0] == "raw"}
    assert raw == {"raw/fig11_market_size"}


def test_first_tick_after_a_build_starts_from_the_published_edition(
    defs: dg.Definitions, sources_copy: Path, tmp_path: Path
) -> None:
    """No cursor (a new daemon) and an edition published from these very files: nothing to run. Then one file
    changes: one run, for that table and what depends on it."""
    import json

    from pipeline.defs.refresh.sensors import sources_sensor
    from pipeline.lib.ingest.inputs import source_hashes

    edition = tmp_path / "out" / "editions" / "e1"
    edition.mkdir(parents=True)
    inputs = {k: v for k, v in source_hashes(sources_copy).items() if k != "manifest"}
    (edition / "edition.json").write_text(json.dumps({"edition_id": "e1", "inputs": inputs}), encoding="utf-8")
    (tmp_path / "out" / "latest").symlink_to(Path("editions") / "e1")
    repo = defs.get_repository_def()
    first = sources_sensor(dg.build_sensor_context(cursor=None, repository_def=repo))
    assert isinstance(first, dg.SkipReason)
    path = sources_copy / "fig09_global_compute_by_region.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("2021,615,", "2021,616,"), encoding="utf-8")
    result = sources_sensor(dg.build_sensor_context(cursor=None, repository_def=repo))
    (request,) = result.run_requests
    raw = {k.to_user_string() for k in request.asset_selection if k.path[0] == "raw"}
    assert raw == {"raw/fig09_global_compute_by_region"}
    assert "report/publish" in {k.to_user_string() for k in request.asset_selection}
