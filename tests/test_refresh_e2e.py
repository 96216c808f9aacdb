"""The analysts' day, end to end on a temporary project: build, add a newer vintage, refresh, publish."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import project_env, run_cli
from pypdf import PdfReader

from pipeline.config import PROJECT_ROOT

EXAMPLE = PROJECT_ROOT / "docs" / "examples"


def _text(pdf: Path) -> str:
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(pdf).pages))


def _env(root: Path) -> dict[str, str]:
    return project_env(root / "sources", root)


@pytest.fixture()
def project(built_template: Path, tmp_path: Path) -> dict:
    """A private copy of the session's built project, so no test depends on another."""
    from conftest import copy_project

    copy_project(built_template, tmp_path)
    out = tmp_path / "out"
    first = (out / "latest").resolve()
    return {
        "env": _env(tmp_path),
        "out": out,
        "sources": tmp_path / "sources",
        "first": first,
        "first_bytes": {p.name: p.read_bytes() for p in first.iterdir()},
    }


def test_noop_refresh_does_nothing(project: dict) -> None:
    proc = run_cli(project["env"], "refresh")
    assert proc.returncode == 0, proc.stderr
    assert "nothing changed since edition" in proc.stdout
    assert (project["out"] / "latest").resolve() == project["first"]


def test_broken_manifest_stops_refresh_and_keeps_the_edition(project: dict) -> None:
    manifest = project["sources"] / "manifest.yaml"
    table = project["sources"] / "fig12_core_related_industry.csv"
    manifest_text, table_text = manifest.read_text(encoding="utf-8"), table.read_text(encoding="utf-8")
    try:
        manifest.write_text(
            manifest_text.replace("publisher: 中国信息通信研究院 (CAICT)", "publisher: 中国信息通信研究院", 1),
            encoding="utf-8",
        )
        table.write_text(table_text.replace(",超过8,", ",超过8.3,"), encoding="utf-8")
        proc = run_cli(project["env"], "refresh")
        assert proc.returncode == 1, proc.stdout
        assert "sources/manifest.yaml, row" in proc.stderr and "column 'publisher'" in proc.stderr
        assert "built" not in proc.stdout
        assert (project["out"] / "latest").resolve() == project["first"]
    finally:
        manifest.write_text(manifest_text, encoding="utf-8")
        table.write_text(table_text, encoding="utf-8")


def test_bad_file_is_refused_and_sources_unchanged(project: dict, tmp_path: Path) -> None:
    bad = tmp_path / "cloud_market_2023.csv"
    bad.write_text(
        (EXAMPLE / "cloud_market_2023.csv").read_text(encoding="utf-8").replace("4,550", "-4,550"), encoding="utf-8"
    )
    manifest_before = (project["sources"] / "manifest.yaml").read_bytes()
    proc = run_cli(project["env"], "add-source", str(bad), "--entry", str(EXAMPLE / "cloud_market_2023.yaml"))
    assert proc.returncode == 1
    assert f"{bad}, row 2, column '2022年（亿元）': negative value -4550" in proc.stderr
    assert not (project["sources"] / "cloud_market_2023.csv").exists()
    assert (project["sources"] / "manifest.yaml").read_bytes() == manifest_before


def test_new_vintage_refreshes_only_what_depends_on_it(project: dict) -> None:
    env, out = project["env"], project["out"]
    added = run_cli(
        env, "add-source", str(EXAMPLE / "cloud_market_2023.csv"), "--entry", str(EXAMPLE / "cloud_market_2023.yaml")
    )
    assert added.returncode == 0, added.stderr
    refreshed = run_cli(env, "refresh")
    assert refreshed.returncode == 0, refreshed.stdout + refreshed.stderr
    built = set(re.findall(r"built\s+(\S+)", refreshed.stdout))
    assert {k for k in built if k.startswith("raw/")} == {"raw/cloud_market_2023"}
    assert {
        "core/observations",
        "forecast/projections",
        "charts/market_size_dc_cloud_ai",
        "report/edition",
        "report/volume",
        "report/publish",
    } <= built

    latest = (out / "latest").resolve()
    assert latest != project["first"]
    for name, data in project["first_bytes"].items():
        assert (project["first"] / name).read_bytes() == data, f"{name} of the previous edition changed"

    changes = json.loads((latest / "changes.json").read_text(encoding="utf-8"))
    assert ("cloud_market_2023", "added") in {(s["source_id"], s["change"]) for s in changes["sources"]}
    moved = {n["name"]: n for n in changes["numbers"]}
    cloud = moved["v:cloud_market/CN/total@latest"]  # the prose's inline reference {v:cloud_market/CN@latest}
    assert (cloud["old_zh"], cloud["new_zh"]) == ("3,229亿元", "4,550亿元")
    assert (cloud["old_en"], cloud["new_en"]) == ("RMB 322.9 bn", "RMB 455 bn")

    zh, en = _text(latest / "report_zh.pdf"), _text(latest / "report_en.pdf")
    assert "2022年的4,550亿元" in zh  # the prose
    assert "3,229亿元（2021年）4,550亿元（2022年）" in zh  # the changelog row old → new, the latest actual's years
    assert "RMB455bn(2022)" in en


def test_manifest_entry_edit_refreshes_its_table(project: dict) -> None:
    manifest = project["sources"] / "manifest.yaml"
    old_title = "title_en: China data-centre, cloud computing and AI market sizes"
    text = manifest.read_text(encoding="utf-8")
    assert old_title in text
    manifest.write_text(text.replace(old_title, old_title + " (CAICT survey)", 1), encoding="utf-8")
    status = run_cli(project["env"], "status")
    assert re.search(r"^fig11_market_size\s.*\smanifest$", status.stdout, re.MULTILINE), status.stdout
    proc = run_cli(project["env"], "refresh")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    built = set(re.findall(r"built\s+(\S+)", proc.stdout))
    assert {k for k in built if k.startswith("raw/")} == {"raw/fig11_market_size"}
    latest = (project["out"] / "latest").resolve()
    changes = json.loads((latest / "changes.json").read_text(encoding="utf-8"))
    assert [(s["source_id"], s["change"]) for s in changes["sources"]] == [("fig11_market_size", "changed")]
    assert "AImarketsizes(CAICTsurvey)" in _text(latest / "report_en.pdf")


def test_status_reports_the_edition(project: dict) -> None:
    added = run_cli(
        project["env"],
        "add-source",
        str(EXAMPLE / "cloud_market_2023.csv"),
        "--entry",
        str(EXAMPLE / "cloud_market_2023.yaml"),
    )
    assert added.returncode == 0, added.stderr
    proc = run_cli(project["env"], "status")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    edition = (project["out"] / "latest").resolve().name
    assert f"last edition: {edition}" in proc.stdout
    assert re.search(r"cloud_market_2023\s+2023-07-25", proc.stdout)


def test_table_assets_carry_dagsters_standard_metadata(project: dict) -> None:
    """Row count, table name and column schema on the DuckDB table assets of every layer, as the UI reads them."""
    import dagster as dg
    import duckdb

    con = duckdb.connect(str(project["out"] / "warehouse.duckdb"), read_only=True)
    home = Path(project["env"]["DAGSTER_HOME"])
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            for key in ("raw/fig11_market_size", "core/observations", "forecast/projections"):
                event = instance.get_latest_materialization_event(dg.AssetKey.from_user_string(key))
                metadata = event.asset_materialization.metadata
                schema, table = key.split("/")
                count = con.execute(f'SELECT count(*) FROM {schema}."{table}"').fetchone()[0]
                assert metadata["dagster/row_count"].value == count > 0, key
                assert metadata["dagster/table_name"].value == f"warehouse.{schema}.{table}"
                columns = [c.name for c in metadata["dagster/column_schema"].value.columns]
                assert columns == [r[0] for r in con.execute(f'DESCRIBE {schema}."{table}"').fetchall()]
    finally:
        con.close()


def test_ui_metadata_reads_like_the_report(project: dict) -> None:
    """Headline claims in human units with their verdict; previews show empty cells, never "nan"."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(Path(project["env"]["DAGSTER_HOME"]))) as instance:

        def metadata(key: str) -> dict:
            event = instance.get_latest_materialization_event(dg.AssetKey.from_user_string(key))
            return event.asset_materialization.metadata

        claims = {r.data["claim"]: r.data for r in metadata("forecast/headlines")["claims"].value.records}
        preview = metadata("raw/fig11_market_size")["preview"].value
    dcca = claims["DC, cloud and AI markets above RMB 2.5 tn in 2025"]
    assert dcca["claimed"] == ">= RMB 2.5 tn"
    assert dcca["base scenario (en)"] == "RMB 2.81 tn" and dcca["base scenario (zh)"] == "2.81万亿元"
    assert dcca["verdict"] == "exceeded"
    assert "nan" not in preview and "云计算" in preview
