"""Every asset explains itself (owner, kinds, full description, code version), table assets carry Dagster's
standard metadata, each chart depends on exactly the inputs its module declares, and a check selected alone is
evaluated."""

from __future__ import annotations

import importlib
from pathlib import Path

import dagster as dg
import pytest
import yaml

from pipeline.lib.report.figures import FIGURES


@pytest.fixture()
def defs(sources_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dg.Definitions:
    monkeypatch.setenv("REPORT_SOURCES_DIR", str(sources_copy))
    monkeypatch.setenv("REPORT_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("REPORT_WAREHOUSE", str(tmp_path / "w.duckdb"))
    from pipeline.definitions import defs as load

    return load()


def test_every_asset_has_owner_kinds_full_description_and_code_version(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        assert node.owners, name
        assert node.kinds, name
        assert node.code_version, name
        assert node.group_name == key.path[0], f"{name}: group {node.group_name}"
        description = node.description or ""
        assert len(description) >= 40 and description.rstrip().endswith((".", ")")), f"{name}: {description!r}"


def test_chart_descriptions_are_whole_docstrings(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    for fid, figure in FIGURES.items():
        if figure.kind != "chart":
            continue
        node = graph.get(dg.AssetKey(["charts", figure.subject]))
        if figure.source.suffix == ".py":
            module = importlib.import_module(f"pipeline.lib.report.figures.{figure.source.stem}")
            assert node.description == " ".join(module.__doc__.split())
        else:  # a chart spec: its `description`
            assert node.description == " ".join(yaml.safe_load(figure.source.read_text())["description"].split())
        assert node.metadata["figure_id"] == fid


def test_each_chart_depends_on_exactly_its_declared_inputs(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    for figure in FIGURES.values():
        if figure.kind != "chart":
            continue
        declared = (
            {"core/series"}
            | {f"core/dataset/{d}" for d in figure.datasets}
            | {f"forecast/{t}" for t in figure.forecasts}
            | {f"raw/{t}" for t in figure.raw_tables}
        )
        parents = {k.to_user_string() for k in graph.get(dg.AssetKey(["charts", figure.subject])).parent_keys}
        assert parents == declared, figure.id


def test_no_loop_between_groups(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    edges = {
        (graph.get(p).group_name, graph.get(k).group_name)
        for k in graph.get_all_asset_keys()
        for p in graph.get(k).parent_keys
        if graph.get(p).group_name != graph.get(k).group_name
    }
    assert not {(a, b) for a, b in edges if (b, a) in edges}, edges


def test_table_assets_declare_standard_metadata(
    built_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    warehouse = tmp_path / "w.duckdb"
    shutil.copy(built_warehouse, warehouse)
    monkeypatch.setenv("REPORT_SOURCES_DIR", str(built_warehouse.parent / "sources"))
    monkeypatch.setenv("REPORT_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("REPORT_WAREHOUSE", str(warehouse))
    from pipeline.definitions import defs as load

    defs = load()
    keys = [
        dg.AssetKey.from_user_string(k)
        for k in ("core/observations", "core/sources", "raw/fig09_global_compute_by_region")
    ]
    result = (
        defs.resolve_implicit_global_asset_job_def()
        .get_subset(asset_selection=set(keys))
        .execute_in_process(instance=dg.DagsterInstance.ephemeral())
    )
    for key in keys:
        (event,) = [m for m in result.get_asset_materialization_events() if m.asset_key == key]
        metadata = event.step_materialization_data.materialization.metadata
        assert metadata["dagster/row_count"].value > 0, key
        assert metadata["dagster/column_schema"].schema.columns, key


def test_a_check_selected_alone_is_evaluated(
    built_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    import duckdb

    warehouse = tmp_path / "w.duckdb"
    shutil.copy(built_warehouse, warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute("UPDATE tidy.fig09_global_compute_by_region SET value_orig = -1 WHERE rowid = 0")
    con.execute("DELETE FROM core.sources WHERE source_id = 'fig03_time_to_100m_users'")
    con.close()
    monkeypatch.setenv("REPORT_SOURCES_DIR", str(built_warehouse.parent / "sources"))
    monkeypatch.setenv("REPORT_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("REPORT_WAREHOUSE", str(warehouse))
    from pipeline.definitions import defs as load

    checks = [
        dg.AssetCheckKey(dg.AssetKey(["raw", "fig09_global_compute_by_region"]), "no_negative_sizes"),
        dg.AssetCheckKey(dg.AssetKey(["core", "observations"]), "every_row_sourced"),
    ]
    job = (
        load()
        .resolve_implicit_global_asset_job_def()
        .get_subset(asset_check_selection=set(checks), asset_selection=set())
    )
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    evaluations = {
        e.event_specific_data.check_name: e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    assert set(evaluations) == {c.name for c in checks}
    assert not evaluations["no_negative_sizes"].passed
    assert not evaluations["every_row_sourced"].passed
    assert not result.get_asset_materialization_events(), "a check alone must not rebuild its table"
