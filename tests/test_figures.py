"""The report's figures (pipeline/lib/report/figures): data from the warehouse, PNGs in both languages, tables."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import duckdb
import pytest

from pipeline.lib.report import style
from pipeline.lib.report.figures import CODED, FIGURES, SPECS, catalogue, title
from pipeline.lib.report.figures import _common as common
from pipeline.lib.report.figures import fig07 as fig07_module
from pipeline.lib.report.figures import fig12 as fig12_module
from pipeline.lib.report.records import Cell, FigureData

CHARTS = [fid for fid, f in FIGURES.items() if f.kind == "chart"]
TABLES = [fid for fid, f in FIGURES.items() if f.kind == "table"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    row = con.execute(sql, params or []).fetchone()
    assert row is not None, sql
    return row[0] if len(row) == 1 else row


def _obs(con: duckdb.DuckDBPyConnection, series: str, geo: str, seg: str, year: int) -> float:
    return _one(
        con,
        "SELECT value FROM core.observations_latest WHERE series_id = ? AND geography = ? AND segment = ? AND year = ?",
        [series, geo, seg, year],
    )


def _query(fid: str, con: duckdb.DuckDBPyConnection) -> dict:
    """A figure's data in its JSON form (what its module's query returns)."""
    return FIGURES[fid].data(con).to_json()


# --- the registry and the catalogue ----------------------------------------------------------------------------


def test_registry_in_report_order_with_expected_kinds() -> None:
    assert list(FIGURES)[:3] == ["fig03", "fig07", "fig09"]
    assert set(TABLES) == {"fig14", "fig15"}
    assert {
        "fig10",
        "fig11",
        "fig12",
        "fig16",
        "fig17",
        "sensitivity",
        "backtest",
        "digital_economy",
        "dc_energy",
        "autonomous_tops",
        "nev_sales",
    } <= set(CHARTS)
    for fid, figure in FIGURES.items():
        assert fid == figure.id
        assert figure.kind in ("chart", "table")
        assert (figure.subject is not None) == (figure.kind == "chart"), "a chart's asset is named by its subject"


def test_catalogue_has_both_languages_for_every_string() -> None:
    cat = catalogue()
    assert set(CODED) <= set(cat)
    assert not set(SPECS) & set(cat), "a chart spec carries its own strings"
    assert {k for k in cat if not k.startswith("_")} == set(CODED), "catalogue entries without a figure module"

    def leaves(node: dict, path: str) -> None:
        if set(node) == {"zh", "en"}:
            assert all(isinstance(node[lang], str) and node[lang].strip() for lang in ("zh", "en")), path
            return
        for key, child in node.items():
            assert isinstance(child, dict), f"{path}.{key} is not a {{zh, en}} leaf"
            leaves(child, f"{path}.{key}")

    leaves(cat, "figures.yaml")
    for fid in FIGURES:
        assert title(fid, "zh") != title(fid, "en")


# --- every figure ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fid", list(FIGURES))
def test_query_cites_known_sources_and_round_trips(warehouse_con: duckdb.DuckDBPyConnection, fid: str) -> None:
    data = _query(fid, warehouse_con)
    known = {s for (s,) in warehouse_con.execute("SELECT source_id FROM core.sources").fetchall()}
    known |= {c.source_id for c in FIGURES[fid].citations}  # a diagram cites the source its file names
    assert data["source_ids"], f"{fid} cites no source"
    assert set(data["source_ids"]) <= known, set(data["source_ids"]) - known
    assert isinstance(data["flagged"], bool)
    assert json.loads(json.dumps(data, allow_nan=False)) == data


@pytest.mark.parametrize("fid", CHARTS)
def test_chart_draws_both_languages_deterministically(
    warehouse_con: duckdb.DuckDBPyConnection, fid: str, tmp_path: Path
) -> None:
    figure = FIGURES[fid]
    data = figure.data(warehouse_con)
    for lang in ("zh", "en"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            first = figure.draw(data, lang, tmp_path / f"{fid}_{lang}.png")
            second = figure.draw(data, lang, tmp_path / f"{fid}_{lang}_again.png")
        assert not [w for w in caught if "missing from font" in str(w.message)]
        assert first.read_bytes()[:8] == PNG_MAGIC
        assert first.stat().st_size > 5_000
        assert first.read_bytes() == second.read_bytes(), f"{fid}/{lang}: drawing twice gives different bytes"
    assert (tmp_path / f"{fid}_zh.png").read_bytes() != (tmp_path / f"{fid}_en.png").read_bytes()


def test_a_missing_glyph_fails_the_chart(warehouse_con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    data = _query("fig03", warehouse_con)
    data["items"][0]["name"]["zh"] = "\U00020000"  # CJK extension B: in neither bundled font
    with pytest.raises(style.MissingGlyphError):
        FIGURES["fig03"].draw(FigureData.from_json(data), "zh", tmp_path / "bad.png")


@pytest.mark.parametrize(("fid", "columns"), [("fig14", 4), ("fig15", 3)])
def test_table_rows_have_the_expected_columns(warehouse_con: duckdb.DuckDBPyConnection, fid: str, columns: int) -> None:
    data = FIGURES[fid].data(warehouse_con)
    for lang in ("zh", "en"):
        body = FIGURES[fid].table(data, lang)
        assert len(body.header) == columns
        assert body.rows
        for row in body.rows:
            assert len(row) == columns
            for cell in row:
                assert isinstance(cell, Cell)
                assert isinstance(cell.text, str) and isinstance(cell.num, bool)
                assert isinstance(cell.flag, bool)


# --- figure-specific checks, computed independently from the warehouse -----------------------------------------


def test_fig03_sorted_and_marks_follow_status(warehouse_con: duckdb.DuckDBPyConnection) -> None:
    data = _query("fig03", warehouse_con)
    status = dict(
        warehouse_con.execute(
            "SELECT segment, status FROM core.observations_latest WHERE series_id = 'time_to_100m_users'"
        ).fetchall()
    )
    assert [i["segment"] for i in data["items"]] != [] and len(data["items"]) == len(status)
    values = [i["value"] for i in data["items"]]
    assert values == sorted(values)
    for item in data["items"]:
        assert (item["mark"] is not None) == (status[item["segment"]] != "solid")
    assert data["flagged"] == any(s != "solid" for s in status.values())


def test_fig07_keeps_the_original_amount(warehouse_con: duckdb.DuckDBPyConnection) -> None:
    data = _query("fig07", warehouse_con)
    us = next(i for i in data["items"] if i["geography"] == "US")
    value_orig, unit_orig, value = _one(
        warehouse_con,
        "SELECT value_orig, unit_orig, value FROM "
        "core.observations_latest WHERE series_id = 'investment_plan' AND "
        "geography = 'US'",
    )
    assert us["value"] == pytest.approx(value)
    assert fig07_module.original(us, "zh") == f"{value_orig:g}{unit_orig}"
    assert fig07_module.original(us, "en") == f"USD {value_orig / 10:g} bn"  # 亿美元 → USD bn
    assert [i["value"] for i in data["items"]] == sorted((i["value"] for i in data["items"]), reverse=True)


def test_fig09_derives_regions_from_share_times_world(warehouse_con: duckdb.DuckDBPyConnection) -> None:
    data = _query("fig09", warehouse_con)
    regions = {r["geography"]: {p["year"]: p for p in r["points"]} for r in data["regions"]}
    world_2021 = _obs(warehouse_con, "compute_capacity", "GLOBAL", "total", 2021)
    us_share = _obs(warehouse_con, "compute_share", "US", "total", 2021)
    us = regions["US"][2021]
    assert us["value"] == pytest.approx(us_share / 100 * world_2021)
    assert us["kind"] == "derived" and us["mark"] == "derived"
    cn = regions["CN"][2021]  # one basis: China from its share too, its own reported total only in the note
    cn_share = _obs(warehouse_con, "compute_share", "CN", "total", 2021)
    assert cn["kind"] == "derived" and cn["value"] == pytest.approx(cn_share / 100 * world_2021)
    cn_own = _obs(warehouse_con, "compute_capacity", "CN", "total", 2021)
    assert {(r["geography"], r["year"], r["value"]) for r in data["reported"]} >= {("CN", 2021, cn_own)}
    has_eu_2021 = _one(
        warehouse_con,
        "SELECT count(*) FROM core.observations_latest WHERE geography = 'EU' AND "
        "year = 2021 AND series_id IN ('compute_share', 'compute_capacity')",
    )
    assert (regions["EU"][2021]["value"] is None) == (has_eu_2021 == 0)
    assert data["flagged"]


def test_fig10_values_are_share_times_type_total(warehouse_con: duckdb.DuckDBPyConnection) -> None:
    data = _query("fig10", warehouse_con)
    intelligent = next(t for t in data["types"] if t["segment"] == "intelligent")
    total = _obs(warehouse_con, "compute_capacity", "GLOBAL", "intelligent", 2021)
    by_geo = {v["geography"]: v["value"] for v in intelligent["values"]}
    for geo in ("CN", "US"):
        assert by_geo[geo] == pytest.approx(
            _obs(warehouse_con, "compute_share", geo, "intelligent", 2021) / 100 * total
        )
    ratio = data["ratio"]
    assert ratio["seed_value"] == pytest.approx(
        _obs(warehouse_con, "intelligent_compute_ratio_cn_us", "CN", "intelligent", 2021)
    )
    assert ratio["derived_value"] == pytest.approx(by_geo["CN"] / by_geo["US"])


def test_fig11_projection_matches_forecast_tables(warehouse_con: duckdb.DuckDBPyConnection) -> None:
    data = _query("fig11", warehouse_con)
    assert [s["series_id"] for s in data["series"]] == ["dc_market", "cloud_market", "ai_core_industry"]
    for s in data["series"]:
        for scenario in ("low", "base", "high"):
            expected = _one(
                warehouse_con,
                "SELECT value FROM forecast.projections WHERE series_id = ? AND scenario = ? AND year = 2025",
                [s["series_id"], scenario],
            )
            got = next(p["value"] for p in s["scenarios"][scenario]["points"] if p["year"] == 2025)
            assert got == pytest.approx(expected)
        actual_years = [
            y
            for (y,) in warehouse_con.execute(
                "SELECT year FROM core.observations_latest WHERE series_id = ? AND geography = 'CN' AND "
                "segment = 'total' AND NOT is_outlook ORDER BY year",
                [s["series_id"]],
            ).fetchall()
        ]
        assert [h["year"] for h in s["history"]] == actual_years
        for h in s["history"]:
            assert (h["mark"] == "derived") == (h["status"] == "derived")
    assert "forecast_assumptions" in data["source_ids"] and data["flagged"]


def test_fig12_claims_and_projection(warehouse_con: duckdb.DuckDBPyConnection) -> None:
    data = _query("fig12", warehouse_con)
    for item in data["items"]:
        claimed, year = _one(
            warehouse_con, "SELECT claimed, year FROM forecast.headlines WHERE target = ?", [item["series_id"]]
        )
        assert item["claim"]["value"] == pytest.approx(claimed)
        base = _one(
            warehouse_con,
            "SELECT value FROM forecast.projections WHERE series_id = ? AND scenario = 'base' AND year = ?",
            [item["series_id"], year],
        )
        assert item["projection"]["base"] == pytest.approx(base)
        assert item["actual"]["value"] == pytest.approx(
            _obs(warehouse_con, item["series_id"], "CN", "total", item["actual"]["year"])
        )


def test_fig14_keeps_published_text_and_provider_types(warehouse_con: duckdb.DuckDBPyConnection) -> None:
    data = _query("fig14", warehouse_con)
    assert len(data["rows"]) == _one(warehouse_con, "SELECT count(*) FROM raw.fig14_compute_servers")
    figure, typed = FIGURES["fig14"], FigureData.from_json(data)
    zh, en = figure.table(typed, "zh"), figure.table(typed, "en")
    published = dict(
        warehouse_con.execute(
            "SELECT segment, value_text FROM core.observations_latest WHERE series_id = 'compute_service_servers'"
        ).fetchall()
    )
    for row, zh_row in zip(data["rows"], zh.rows, strict=True):
        assert zh_row[2].text == published.get(row["segment"], "—")
    alibaba = next(i for i, r in enumerate(data["rows"]) if r["segment"] == "cloud.alibaba")
    assert zh.rows[alibaba][2].text == "200-300"
    assert en.rows[alibaba][2].text == "2,000–3,000"
    types = {r[0] for r in warehouse_con.execute('SELECT "算力提供方式" FROM raw.fig14_compute_servers').fetchall()}
    assert {catalogue()["fig14"]["provider_type"][k]["zh"] for k in ("new_it", "cloud", "network")} == types


def test_fig15_lists_every_indicator(warehouse_con: duckdb.DuckDBPyConnection) -> None:
    data = _query("fig15", warehouse_con)
    assert len(data["items"]) == _one(warehouse_con, "SELECT count(*) FROM raw.fig15_evaluation_framework")
    assert [i["order"] for i in data["items"]] == sorted(i["order"] for i in data["items"])
    body = FIGURES["fig15"].table(FigureData.from_json(data), "en")
    assert body.rows[0][0].text == data["items"][0]["dimension"]["en"]
    assert body.css_class == "small", "a dense list of names is set in the small table type"


def test_fig16_is_labelled_as_assumption_with_public_gartner(warehouse_con: duckdb.DuckDBPyConnection) -> None:
    data = _query("fig16", warehouse_con)
    assert data["flagged"] and all(i["mark"] == "assumption" for i in data["items"])
    assert {"fig17_industry_assumptions", "fig16_it_spending_public"} <= set(data["source_ids"])
    world = next(p for p in data["public"] if p["segment"] == "total")
    assert world["growth"] == pytest.approx(_obs(warehouse_con, "it_spending_growth", "GLOBAL", "total", 2023))


def test_fig17_industries_sit_in_their_class_quadrant(warehouse_con: duckdb.DuckDBPyConnection) -> None:
    data = _query("fig17", warehouse_con)
    mid = data["scale_max"] / 2
    quadrant = {q["name"]["en"]: (q["pu_high"], q["hui_high"]) for q in data["quadrants"]}
    assert len(quadrant) == 4
    for item in data["items"]:
        assert quadrant[item["class"]["en"]] == (item["x"] >= mid, item["y"] >= mid), item["segment"]


def test_sensitivity_and_backtest_follow_forecast_tables(warehouse_con: duckdb.DuckDBPyConnection) -> None:
    sens = _query("sensitivity", warehouse_con)
    year = _one(warehouse_con, "SELECT min(year) FROM forecast.sensitivity")
    assert {p["claim_id"] for p in sens["panels"]} == {
        c
        for (c,) in warehouse_con.execute(
            "SELECT DISTINCT claim_id FROM forecast.sensitivity WHERE year = ?", [year]
        ).fetchall()
    }
    for panel in sens["panels"]:
        expected = warehouse_con.execute(
            "SELECT delta_pp, value FROM forecast.sensitivity WHERE claim_id = ? ORDER BY delta_pp", [panel["claim_id"]]
        ).fetchall()
        assert [(p["delta_pp"], pytest.approx(p["value"])) for p in panel["points"]] == expected
    back = _query("backtest", warehouse_con)
    rows = warehouse_con.execute("SELECT series_id, holdout_years, method, mape FROM forecast.backtest").fetchall()
    assert sum(len(g["methods"]) for g in back["groups"]) == len(rows)
    for sid, hold, method, mape in rows:
        group = next(g for g in back["groups"] if g["series_id"] == sid and g["holdout_years"] == hold)
        assert group["methods"][method]["mape"] == pytest.approx(mape)


def test_text_series_show_actuals_projections_and_outlooks(warehouse_con: duckdb.DuckDBPyConnection) -> None:
    for fid, series_id in (
        ("digital_economy", "digital_economy_size"),
        ("dc_energy", "dc_energy_consumption"),
        ("nev_sales", "nev_sales"),
    ):
        s = _query(fid, warehouse_con)["series"][0]
        assert s["series_id"] == series_id
        outlook_years = {
            y
            for (y,) in warehouse_con.execute(
                "SELECT year FROM core.observations_latest WHERE series_id = ? AND geography = 'CN' AND is_outlook",
                [series_id],
            ).fetchall()
        }
        assert {o["year"] for o in s["outlook"]} == outlook_years
        horizon = _one(
            warehouse_con,
            "SELECT max(year) FROM forecast.projections WHERE series_id = ? AND scenario = 'base'",
            [series_id],
        )
        if horizon is None:  # no independent base scenario (the claim is not assessed): none is drawn
            assert "base" not in s["scenarios"]
        else:
            assert s["scenarios"]["base"]["points"][-1]["year"] == horizon
    de = _query("digital_economy", warehouse_con)
    history = de["series"][0]["history"]  # one basis: the official RMB series, no USD value converted into it
    assert history and all(h["currency_orig"] == "CNY" and h["mark"] != "converted" for h in history)
    assert len({h["year"] for h in history}) == len(history)
    assert "fx_rates" not in de["source_ids"]
    tops = _query("autonomous_tops", warehouse_con)
    assert [i["segment"] for i in tops["items"]] == ["l2", "l3", "l4", "l5"]
    assert tops["flagged"]


@pytest.mark.parametrize(
    ("fid", "series_id"),
    [("digital_economy", "digital_economy_size"), ("dc_energy", "dc_energy_consumption"), ("nev_sales", "nev_sales")],
)
def test_spec_charts_show_what_their_modules_showed(
    warehouse_con: duckdb.DuckDBPyConnection, fid: str, series_id: str
) -> None:
    """The three charts that were modules, now specs: the same series, years, values, marks and scenario band as
    the module's query (every row and scenario of the series in CN/total), so the same PNG."""
    s = common.projection_series(warehouse_con, series_id)
    module = {
        "id": fid,
        "series": [s],
        "source_ids": common.projection_sources([s]),
        "flagged": bool(s["scenarios"] or s["outlook"]) or any(h["mark"] for h in s["history"]),
    }
    assert s["history"] and s["outlook"] and {"low", "high"} <= set(s["scenarios"])
    assert _query(fid, warehouse_con) == json.loads(json.dumps(module, default=str))


def test_table_column_widths_keep_unbreakable_text_whole() -> None:
    from pipeline.lib.report.records import Cell
    from pipeline.lib.report.tables import CELLS_ACROSS, PADDING, column_widths, text_width

    def cell(text: str, num: bool = False) -> Cell:
        return Cell(text=text, num=num)

    long_text = "a reference that runs on and on " * 6
    rows = [[cell("2023-07-01"), cell(long_text), cell("RMB 1,234.5 bn", True), cell("approximate")]] * 3
    widths = column_widths(["Date", "Reference", "Value", "Status"], rows, "small")
    assert abs(sum(widths) - 100) < 0.5
    cells = [w / 100 * CELLS_ACROSS["small"] for w in widths]
    for width, text in zip(cells, ("2023-07-01", None, "RMB 1,234.5 bn", "approximate"), strict=True):
        if text is not None:
            assert width >= text_width(text) + PADDING, (text, width)
    assert cells[1] == max(cells)  # the long text takes what is left
    assert text_width("算力") == 4


def test_fig12_labels_the_average_growth_from_the_actual_to_the_projection(warehouse_con) -> None:
    """The growth under the projected bar is the average annual growth from the last actual to that year (what the
    text and the claims table give), not the growth of one year."""
    for item in fig12_module.query(warehouse_con)["items"]:
        actual_year, actual = warehouse_con.execute(
            "SELECT year, value FROM core.observations_latest WHERE series_id = ? AND geography = 'CN' "
            "AND segment = 'total' AND NOT is_outlook ORDER BY year DESC LIMIT 1",
            [item["series_id"]],
        ).fetchone()
        year = item["projection"]["year"]
        (base,) = warehouse_con.execute(
            "SELECT value FROM forecast.projections WHERE series_id = ? AND scenario = 'base' AND year = ?",
            [item["series_id"], year],
        ).fetchone()
        expected = (base / actual) ** (1 / (year - actual_year)) - 1
        assert item["projection"]["rate"] == pytest.approx(expected), item["series_id"]
