"""Issue 14: claims evaluated against an independent base scenario, plausibility bounds, a backtest without
leakage and honest vintages. Expected numbers are computed here from the source values, not read back."""

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
from pipeline.lib.forecast.backtest import rolling_origin, training_window
from pipeline.lib.forecast.claims import holds, verdict
from pipeline.lib.forecast.engine import implausible, read_inputs, run_forecasts
from pipeline.lib.forecast.history import Point
from pipeline.lib.ingest.manifest import load_manifest
from pipeline.lib.ingest.tables import ingest_table
from pipeline.lib.warehouse.build import build_warehouse

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


@pytest.fixture()
def warehouse(built_warehouse: Path, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A private copy of the session's warehouse built from the bundled sources."""
    shutil.copyfile(built_warehouse, tmp_path / "w.duckdb")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield con
    con.close()


def _edit_csv(path: Path, key_column: str, key: str, **changes: str) -> None:
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert any(r[key_column] == key for r in rows), key
    for row in rows:
        if row[key_column] == key:
            row.update(changes)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def _reingest(con: duckdb.DuckDBPyConnection, sources: Path, table_id: str) -> None:
    ingest_table(con, next(s for s in load_manifest(sources) if s.id == table_id), sources)


def _value(con: duckdb.DuckDBPyConnection, series_id: str, year: int) -> float:
    return con.execute(
        "SELECT value FROM core.observations_latest WHERE series_id = ? AND geography = 'CN' AND segment = 'total' "
        "AND year = ? AND NOT is_outlook",
        [series_id, year],
    ).fetchone()[0]


def test_verdict_words_follow_the_gap_and_the_comparator() -> None:
    assert verdict(0.049, 0.05) == "supported"
    assert verdict(-0.05, 0.05) == "supported"
    assert verdict(0.06, 0.05) == "exceeded"
    assert verdict(-0.06, 0.05) == "missed"
    assert verdict(None, 0.05) == "not_assessed"
    assert holds(">=", "exceeded") and holds(">=", "supported") and not holds(">=", "missed")
    assert not holds("≈", "exceeded") and holds("≈", "supported")
    assert holds("<=", "missed") and not holds("<=", "exceeded")


def test_no_claim_is_evaluated_against_its_own_target_or_assumption(warehouse: duckdb.DuckDBPyConnection) -> None:
    inputs = read_inputs(warehouse)
    for claim in inputs.claims:
        for member in inputs.aggregates.get(claim.target, [claim.target]):
            for a in (a for a in inputs.assumptions if a.series_id == member and a.scenario == "base"):
                assert a.method != "target", (claim.claim_id, a.assumption_id)
                if a.method == "cagr" and claim.stated_growth is not None:
                    assert a.rate != pytest.approx(claim.stated_growth), (claim.claim_id, a.assumption_id)


def test_a_base_scenario_made_from_the_claim_is_refused(
    sources_copy: Path, warehouse: duckdb.DuckDBPyConnection
) -> None:
    path = sources_copy / "forecast_assumptions.csv"
    _edit_csv(
        path,
        "assumption_id",
        "core_base",
        method="target",
        target_value="4.4",
        target_unit="万亿元",
        target_year="2025",
        driver="",
    )
    _edit_csv(path, "assumption_id", "nev_base", method="cagr", rate_pct="50", driver="", share_series="")
    _reingest(warehouse, sources_copy, "forecast_assumptions")
    with pytest.raises(SourceError) as caught:
        run_forecasts(warehouse)
    text = str(caught.value)
    assert "'core_base'" in text and "may not use method target" in text and "column 'method'" in text
    assert "'nev_base'" in text and "nev_2025" in text and "column 'rate_pct'" in text


def test_a_weak_series_makes_the_claim_missed_with_its_gap(
    sources_copy: Path, warehouse: duckdb.DuckDBPyConnection
) -> None:
    _edit_csv(sources_copy / "forecast_assumptions.csv", "assumption_id", "cloud_base", method="cagr", rate_pct="1")
    _reingest(warehouse, sources_copy, "forecast_assumptions")
    tables = run_forecasts(warehouse)
    claim = next(h for h in tables["headlines"] if h["claim_id"] == "dc_cloud_ai_2025")
    dc, cloud, ai = (_value(warehouse, s, 2021) for s in ("dc_market", "cloud_market", "ai_core_industry"))
    ai_growth = (ai / _value(warehouse, "ai_core_industry", 2019)) ** 0.5 - 1
    expected = dc * 1.20**4 + cloud * 1.01**4 + ai * (1 + ai_growth) ** 4
    assert claim["ours"] == pytest.approx(expected)
    assert claim["gap"] == pytest.approx(expected / 2.5e12 - 1)
    assert claim["verdict"] == "missed" and not claim["passed"]
    assert claim["needed_cagr"] == pytest.approx((2.5e12 / (dc + cloud + ai)) ** 0.25 - 1)


def test_nev_claim_is_evaluated_on_vehicle_sales_and_share(warehouse: duckdb.DuckDBPyConnection) -> None:
    tables = run_forecasts(warehouse)
    claim = next(h for h in tables["headlines"] if h["claim_id"] == "nev_2025")
    vehicles_2021, vehicles_2022 = (_value(warehouse, "vehicle_sales", y) for y in (2021, 2022))
    share_2025 = 30.0  # the share outlook row the base scenario reaches (sources/forecast_assumptions.csv)
    expected = share_2025 / 100 * vehicles_2022 * (vehicles_2022 / vehicles_2021) ** 3
    assert claim["ours"] == pytest.approx(expected)
    assert claim["ours"] < 2300e4 * 0.95 and claim["verdict"] == "missed"
    assert claim["needed_cagr"] == pytest.approx((2300e4 / _value(warehouse, "nev_sales", 2022)) ** (1 / 3) - 1)


def test_digital_economy_is_no_longer_near_all_of_gdp(warehouse: duckdb.DuckDBPyConnection) -> None:
    tables = run_forecasts(warehouse)
    base = {(p["series_id"], p["year"]): p["value"] for p in tables["projections"] if p["scenario"] == "base"}
    by_target = (80 / 50.2) ** (1 / 3) - 1  # what the retired target method used to imply
    assert base[("digital_economy_size", 2030)] < 50.2e12 * (1 + by_target) ** 8 * 0.9
    assert base[("digital_economy_size", 2030)] < base[("gdp", 2030)]
    assert implausible(tables) == []


@pytest.mark.parametrize(
    ("assumption_id", "changes", "expected"),
    [
        ("de_high", {"rate_pct": "30"}, "bound 'de_within_gdp'"),
        ("nevshare_high", {"rate_pct": "80"}, "bound 'nev_share_range'"),
        ("nevshare_high", {"rate_pct": "80"}, "bound 'nev_within_vehicles'"),
        ("dc_high", {"rate_pct": "80"}, "bound 'money_growth'"),
    ],
)
def test_implausible_forecasts_are_named_with_their_numbers(
    sources_copy: Path, warehouse: duckdb.DuckDBPyConnection, assumption_id: str, changes: dict, expected: str
) -> None:
    _edit_csv(sources_copy / "forecast_assumptions.csv", "assumption_id", assumption_id, **changes)
    _reingest(warehouse, sources_copy, "forecast_assumptions")
    messages = implausible(run_forecasts(warehouse))
    hits = [m for m in messages if expected in m]
    assert hits, messages
    assert "(high)" in hits[0] and "sources/forecast_bounds.csv, row" in hits[0]


def test_de_above_gdp_message_gives_both_numbers(sources_copy: Path, warehouse: duckdb.DuckDBPyConnection) -> None:
    _edit_csv(sources_copy / "forecast_assumptions.csv", "assumption_id", "de_high", rate_pct="30")
    _reingest(warehouse, sources_copy, "forecast_assumptions")
    tables = run_forecasts(warehouse)
    de_2030 = 50.2e12 * 1.3**8
    gdp_2030 = next(p["value"] for p in tables["projections"] if p["series_id"] == "gdp" and p["year"] == 2030)
    message = next(m for m in implausible(tables) if "digital_economy_size (high) 2030" in m)
    assert f"{de_2030 / 1e12:,.1f}万亿元" in message and f"{gdp_2030 / 1e12:,.1f}万亿元" in message


def test_shares_adding_up_to_more_than_the_whole_are_caught(sources_copy: Path, tmp_path: Path) -> None:
    path = sources_copy / "fig09_global_compute_by_region.csv"
    path.write_text(
        path.read_text(encoding="utf-8") + "compute_share,EU,total,2021,50,%,approximate,,test,\n", encoding="utf-8"
    )
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    build_warehouse(con, sources_copy)
    messages = implausible(run_forecasts(con))
    assert any("bound 'compute_shares_sum'" in m and "compute_share 2021 adds up to 108" in m for m in messages)


def test_backtest_never_trains_on_a_point_derived_from_a_held_out_year() -> None:
    points = {
        2015: Point(10.0),
        2016: Point(12.0),
        2017: Point(15.0),
        2018: Point(19.0),
        2019: Point(20.0, (2020,)),  # back-calculated from 2020 with its growth rate: a leak if trained on at 2019
        2020: Point(30.0),
        2021: Point(33.0),
    }
    assert 2019 not in training_window(points, 2019)
    assert training_window(points, 2020)[2019] == 20.0
    rows = rolling_origin(("s", "CN", "total"), points)
    naive_h1 = next(r for r in rows if r.method == "naive" and r.holdout_years == 1)
    # clean origins for one year ahead: 2017 (→2018), 2018 (→2019), 2020 (→2021); never 2019 (→2020)
    expected = (abs(15 - 19) / 19 + abs(19 - 20) / 20 + abs(30 - 33) / 33) / 3
    assert naive_h1.n_origins == 3
    assert naive_h1.mape == pytest.approx(expected)
    leaky = {**points, 2019: Point(20.0)}  # the same data with the derivation link removed
    leaky_h1 = next(
        r for r in rolling_origin(("s", "CN", "total"), leaky) if r.method == "naive" and r.holdout_years == 1
    )
    assert leaky_h1.n_origins == 4


def test_bundled_backtest_has_no_origin_on_a_back_calculated_year(warehouse: duckdb.DuckDBPyConnection) -> None:
    rows = [r for r in run_forecasts(warehouse)["backtest"] if r["series_id"] == "cloud_market"]
    assert rows
    derived = {
        y
        for (y,) in warehouse.execute(
            "SELECT year FROM core.observations WHERE series_id = 'cloud_market' AND derived_from IS NOT NULL"
        ).fetchall()
    }
    assert derived and not {r["train_to"] for r in rows} & derived


def test_an_earlier_real_release_is_an_older_vintage_and_is_compared(sources_copy: Path, tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "core_industry_2023.csv", sources_copy)
    entry = yaml.safe_load((EXAMPLES / "core_industry_2023.yaml").read_text(encoding="utf-8"))
    manifest = sources_copy / "manifest.yaml"
    doc = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    doc["tables"] += entry if isinstance(entry, list) else [entry]
    manifest.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    build_warehouse(con, sources_copy)
    tables = run_forecasts(con)
    rows = [r for r in tables["forecast_vs_actual"] if r["series_id"] == "core_industry" and r["year"] == 2022]
    assert len(rows) == 1
    row = rows[0]
    assert str(row["forecast_vintage"]) < str(row["actual_vintage"])
    assert row["actual"] == pytest.approx(_value(con, "core_industry", 2022))
    assert row["error_pct"] == pytest.approx((row["forecast"] - row["actual"]) / row["actual"] * 100)


def test_our_own_tables_are_not_dated_by_the_build_clock(sources_copy: Path) -> None:
    manifest = sources_copy / "manifest.yaml"
    text = manifest.read_text(encoding="utf-8")
    start = text.index("  - id: fig17_industry_assumptions")
    at = text.index("published: ", start)
    manifest.write_text(
        text[:at] + "published: 2026-11-26" + text[at + len("published: 2023-07-01") :], encoding="utf-8"
    )
    with pytest.raises(SourceError) as caught:
        load_manifest(sources_copy)
    assert "fig17_industry_assumptions" in str(caught.value) and "2026-11-26" in str(caught.value)


def test_a_bound_with_one_open_end_names_its_limit() -> None:
    from pipeline.lib.forecast.bounds import check_bounds
    from pipeline.lib.forecast.inputs import Bound

    bound = Bound("share_cap", "range", "s", None, None, None, 100.0, "zh", "en", "definition", 7)
    hists = {("s", "CN", "total"): {2021: 99.0, 2022: 104.5}}
    [violation] = check_bounds([bound], [], hists, {"s": "share"}, {})
    assert (violation.year, violation.value, violation.limit) == (2022, 104.5, 100.0)
    assert "outside […, 100]" in violation.message and "row 7" in violation.message
