"""The forecast engine on the bundled sources: headline claims, sensitivity, backtest, vintages, bad input."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import yaml

from pipeline.lib.errors import SourceError
from pipeline.lib.forecast.engine import run_forecasts
from pipeline.lib.warehouse.build import build_warehouse

ASSUMPTIONS = "forecast_assumptions.csv"


def _build(sources: Path, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    build_warehouse(con, sources)
    return con


@pytest.fixture()
def warehouse(built_warehouse: Path, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A private copy of the session's warehouse (built once from the bundled sources): a file copy instead of
    a rebuild per test."""
    shutil.copyfile(built_warehouse, tmp_path / "w.duckdb")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield con
    con.close()


def _reingest_assumptions(con: duckdb.DuckDBPyConnection, sources: Path) -> None:
    from pipeline.lib.ingest.manifest import load_manifest
    from pipeline.lib.ingest.tables import ingest_table

    ingest_table(con, next(s for s in load_manifest(sources) if s.id == "forecast_assumptions"), sources)


def _edit_assumption(sources: Path, assumption_id: str, **changes: str) -> None:
    path = sources / ASSUMPTIONS
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    for row in rows:
        if row["assumption_id"] == assumption_id:
            row.update(changes)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def test_claims_are_evaluated_not_reproduced(warehouse: duckdb.DuckDBPyConnection) -> None:
    tables = run_forecasts(warehouse)
    by_id = {h["claim_id"]: h for h in tables["headlines"]}
    core = by_id["core_2025"]
    assert core["ours"] != pytest.approx(4.4e12, rel=1e-3)
    assert core["gap"] == pytest.approx(core["ours"] / 4.4e12 - 1)
    assert core["needed_cagr"] == pytest.approx((4.4 / 1.5) ** 0.25 - 1)
    assert by_id["dcenergy_2030"]["verdict"] == "not_assessed" and by_id["dcenergy_2030"]["ours"] is None
    assert {h["verdict"] for h in tables["headlines"]} >= {"missed", "supported"}


def test_sensitivity_band_is_monotonic_and_centred_on_the_base(warehouse: duckdb.DuckDBPyConnection) -> None:
    tables = run_forecasts(warehouse)
    band = [r for r in tables["sensitivity"] if r["claim_id"] == "dc_cloud_ai_2025"]
    assert [r["delta_pp"] for r in band] == list(range(-5, 6))
    values = [r["value"] for r in band]
    assert values == sorted(values)
    centre = next(h for h in tables["headlines"] if h["claim_id"] == "dc_cloud_ai_2025")["ours"]
    assert band[5]["value"] == pytest.approx(centre)
    cloud_rate = next(p["rate"] for p in tables["projections"] if p["assumption_id"] == "cloud_base")
    ai_2019, ai_2021 = 3031e8 / 1.151, 4305e8
    ai_rate = (ai_2021 / ai_2019) ** 0.5 - 1
    low = 1500e8 * (1.20 - 0.05) ** 4 + 3229e8 * (1 + cloud_rate - 0.05) ** 4 + ai_2021 * (1 + ai_rate - 0.05) ** 4
    assert band[0]["value"] == pytest.approx(low)


def test_backtest_scores_cloud_only_on_clean_origins(warehouse: duckdb.DuckDBPyConnection) -> None:
    rows = [r for r in run_forecasts(warehouse)["backtest"] if r["series_id"] == "cloud_market"]
    naive = next(r for r in rows if r["method"] == "naive" and r["holdout_years"] == 2)
    # the only clean origin two years ahead is 2018 (2017 and 2020 are back-calculated from the following year)
    assert (naive["train_to"], naive["n_origins"]) == (2018, 1)
    assert naive["mape"] == pytest.approx(abs(962.8 - 3229 / 1.544) / (3229 / 1.544), rel=1e-3)


def test_two_vintages_kept_latest_used_and_forecast_vs_actual(sources_copy: Path, tmp_path: Path) -> None:
    (sources_copy / "cloud_2024.csv").write_text(
        '指标,2021年（亿元）,2022年（亿元）\n云计算,"3,229","4,550"\n', encoding="utf-8"
    )
    manifest = sources_copy / "manifest.yaml"
    doc = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    doc["tables"].append(
        {
            "id": "cloud_market_2024",
            "file": "cloud_2024.csv",
            "publisher": "CAICT",
            "title_zh": "云计算白皮书（2024）",
            "title_en": "Cloud white paper 2024",
            "published": "2024-07-01",
            "reference": "p. 5",
            "status": "solid",
            "layout": "wide",
            "geography": "CN",
            "dataset": "cloud_market",
        }
    )
    manifest.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    con = _build(sources_copy, tmp_path)
    tables = run_forecasts(con)
    vintages = con.execute(
        "SELECT vintage::VARCHAR FROM core.observations WHERE series_id = 'cloud_market' AND year = 2021 ORDER BY 1"
    ).fetchall()
    assert vintages == [("2023-07-01",), ("2024-07-01",)]
    base = next(p for p in tables["projections"] if p["assumption_id"] == "cloud_base")
    assert (base["base_year"], base["base_value"]) == (2022, pytest.approx(4550e8))
    row = next(r for r in tables["forecast_vs_actual"] if r["series_id"] == "cloud_market" and r["year"] == 2022)
    assert str(row["forecast_vintage"]) == "2023-07-01" and str(row["actual_vintage"]) == "2024-07-01"
    assert row["actual"] == pytest.approx(4550e8)
    assert row["error_pct"] == pytest.approx((row["forecast"] - 4550e8) / 4550e8 * 100)


@pytest.mark.parametrize(
    ("changes", "column", "message"),
    [
        ({"series_id": "unicorn_market"}, "series_id", "names unknown series 'unicorn_market'"),
        ({"rate_pct": "-150"}, "rate_pct", "growth rate -150% outside"),
        ({"rate_pct": "250"}, "rate_pct", "growth rate 250% outside"),
        (
            {"method": "target", "target_value": "1", "target_unit": "万亿元", "target_year": "2026"},
            "method",
            "may not use method target",
        ),
        ({"series_id": "model_training_gpus"}, "series_id", "no actual value of model_training_gpus (CN/total)"),
    ],
)
def test_bad_assumptions_name_the_row_and_keep_old_tables(
    sources_copy: Path, warehouse: duckdb.DuckDBPyConnection, changes: dict, column: str, message: str
) -> None:
    con = warehouse
    before = con.execute("SELECT * FROM forecast.projections ORDER BY ALL").fetchall()
    _edit_assumption(sources_copy, "dc_base", **changes)
    _reingest_assumptions(con, sources_copy)
    with pytest.raises(SourceError) as info:
        run_forecasts(con)
    assert f"sources/forecast_assumptions.csv, row 3, column '{column}'" in str(info.value)
    assert message in str(info.value)
    assert con.execute("SELECT * FROM forecast.projections ORDER BY ALL").fetchall() == before
