"""Currency by year and one basis per chart (issue 14, items 3 and 4).

Expected rates are typed here from the publications (NBS annual-average central parity, ECB annual-average euro
reference rates), never read from sources/ or the code under test.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from pipeline.lib.errors import SourceError
from pipeline.lib.report.figures import fig07, fig09
from pipeline.lib.warehouse.build import build_warehouse

USD_2021, USD_2022 = 6.4515, 6.7261  # NBS, 人民币汇率年平均价
CNY_PER_EUR_2021, JPY_PER_EUR_2021 = 7.6282, 129.88  # ECB annual averages


def _row(con: duckdb.DuckDBPyConnection, series: str, geography: str, segment: str, year: int) -> dict:
    cur = con.execute(
        "SELECT value, value_orig, fx_rate, fx_year, fx_source_id, fx_basis FROM core.observations_latest "
        "WHERE series_id = ? AND geography = ? AND segment = ? AND year = ?",
        [series, geography, segment, year],
    )
    row = cur.fetchone()
    assert row is not None, (series, geography, segment, year)
    return dict(zip([d[0] for d in cur.description], row, strict=True))


def _build(sources: Path, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    build_warehouse(con, sources)
    return con


def _edit(path: Path, old: str, new: str) -> int:
    """Replace `old` (once) in a source file; return the 1-based line number of the edited row."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def test_usd_values_of_2021_and_2022_use_their_own_years_rates(warehouse_con: duckdb.DuckDBPyConnection) -> None:
    cn_2021 = _row(warehouse_con, "digital_economy_size_usd", "CN", "total", 2021)
    assert cn_2021["value"] == pytest.approx(7.1e12 * USD_2021)
    assert (cn_2021["fx_rate"], cn_2021["fx_year"], cn_2021["fx_basis"]) == (
        pytest.approx(USD_2021),
        2021,
        "annual_average",
    )
    manufacturing_2022 = _row(warehouse_con, "us_chips_act_allocation", "US", "manufacturing_incentives", 2022)
    assert manufacturing_2022["value"] == pytest.approx(390e8 * USD_2022)
    assert (manufacturing_2022["fx_rate"], manufacturing_2022["fx_year"]) == (pytest.approx(USD_2022), 2022)
    publishers = dict(
        warehouse_con.execute(
            "SELECT source_id, publisher FROM core.sources WHERE source_id IN (?, ?)",
            [cn_2021["fx_source_id"], manufacturing_2022["fx_source_id"]],
        ).fetchall()
    )
    assert all(p.startswith("国家统计局") for p in publishers.values())


def test_yen_is_crossed_through_the_euro(warehouse_con: duckdb.DuckDBPyConnection) -> None:
    kumamoto = _row(warehouse_con, "jp_semiconductor_subsidy", "JP", "tsmc_kumamoto", 2021)
    rate = CNY_PER_EUR_2021 / JPY_PER_EUR_2021
    assert kumamoto["value"] == pytest.approx(6000e8 * rate)
    assert (kumamoto["fx_rate"], kumamoto["fx_year"], kumamoto["fx_basis"]) == (
        pytest.approx(rate),
        2021,
        "cross_rate_eur",
    )


def test_every_foreign_amount_records_its_rate(warehouse_con: duckdb.DuckDBPyConnection) -> None:
    missing = warehouse_con.execute(
        "SELECT series_id, year FROM core.observations WHERE currency_orig <> 'CNY' "
        "AND series_id NOT IN ('fx_rate', 'fx_per_eur') AND (fx_rate IS NULL OR fx_source_id IS NULL "
        "OR fx_basis IS NULL OR (fx_year IS NULL) <> (fx_basis = 'published_rmb'))"
    ).fetchall()
    assert missing == []
    assert (
        warehouse_con.execute(
            "SELECT count(*) FROM core.observations WHERE currency_orig = 'CNY' AND fx_rate IS NOT NULL"
        ).fetchone()[0]
        == 0
    )


def test_the_publishers_own_rmb_amount_is_the_rmb_value(warehouse_con: duckdb.DuckDBPyConnection) -> None:
    chips = _row(warehouse_con, "investment_plan", "US", "chips_act", 2022)
    assert chips["value"] == pytest.approx(3650e8)  # the seed's 约合人民币3,650亿元, not 527亿美元 × a rate
    assert chips["fx_basis"] == "published_rmb" and chips["fx_year"] is None
    assert chips["fx_rate"] == pytest.approx(3650 / 527)
    data = fig07.query(warehouse_con)
    assert {i["fx_basis"] for i in data["items"] if i["currency_orig"] != "CNY"} == {"published_rmb"}
    assert "RMB equivalents as given in the KPMG report" in fig07.note(data, "en")
    assert "采用毕马威报告给出的折算值" in fig07.note(data, "zh")


def test_without_a_published_rmb_amount_figure_7_converts_at_the_years_rate_and_says_so(
    sources_copy: Path, tmp_path: Path
) -> None:
    plans = sources_copy / "fig07_national_investment_plans.csv"
    lines = plans.read_text(encoding="utf-8").splitlines(keepends=True)
    plans.write_text("".join(x for x in lines if "investment_plan_rmb" not in x), encoding="utf-8")
    con = _build(sources_copy, tmp_path)
    chips = _row(con, "investment_plan", "US", "chips_act", 2022)
    assert chips["value"] == pytest.approx(527e8 * USD_2022) and chips["fx_basis"] == "annual_average"
    en = fig07.note(fig07.query(con), "en")
    assert "2022 annual-average rate (6.7261 yuan per US dollar)" in en


def test_a_usd_amount_of_a_year_without_rate_is_refused_naming_the_cell(sources_copy: Path, tmp_path: Path) -> None:
    row = _edit(
        sources_copy / "text_ai_compute.csv",
        "model_training_cost,GLOBAL,gpt3,2020,",
        "model_training_cost,GLOBAL,gpt3,2014,",
    )
    with pytest.raises(SourceError) as err:
        _build(sources_copy, tmp_path)
    msg = str(err.value)
    assert len(err.value.problems) == 1
    assert f"sources/text_ai_compute.csv, row {row}, column 'value': amount in USD of 2014" in msg
    assert "add a row for USD 2014 (yuan per USD, annual average) to sources/fx_rates.csv" in msg


def test_a_yen_amount_of_a_year_without_rate_points_at_the_euro_table(sources_copy: Path, tmp_path: Path) -> None:
    _edit(
        sources_copy / "text_national_strategy.csv",
        "jp_green_innovation_fund,JP,total,2021,",
        "jp_green_innovation_fund,JP,total,2019,",
    )
    with pytest.raises(SourceError, match=re.escape("add a JPY row and a CNY row for 2019")) as err:
        _build(sources_copy, tmp_path)
    assert "sources/fx_ecb_reference_rates.csv" in str(err.value)


def test_a_yen_rate_without_the_yuan_rate_of_its_year_is_refused(sources_copy: Path, tmp_path: Path) -> None:
    row = _edit(sources_copy / "fx_ecb_reference_rates.csv", "CNY,2021,7.6282,元", "CNY,2019,7.6282,元")
    with pytest.raises(SourceError) as err:
        _build(sources_copy, tmp_path)
    msg = str(err.value)
    assert "JPY per euro of 2021 has no CNY per euro of 2021" in msg
    assert f"sources/fx_ecb_reference_rates.csv, row {row + 3}" in msg  # the JPY 2021 row, three rows below


def test_an_rmb_equivalent_without_its_foreign_amount_is_refused(sources_copy: Path, tmp_path: Path) -> None:
    row = _edit(
        sources_copy / "fig07_national_investment_plans.csv",
        "美国,chips_act,2022,investment_plan,527,亿美元",
        "美国,chips_act,2021,investment_plan,527,亿美元",
    )
    with pytest.raises(SourceError) as err:
        _build(sources_copy, tmp_path)
    assert f"sources/fig07_national_investment_plans.csv, row {row + 1}" in str(err.value)
    assert "its table has no such row" in str(err.value)


def test_digital_economy_is_one_rmb_series_without_double_counting(warehouse_con: duckdb.DuckDBPyConnection) -> None:
    rows = warehouse_con.execute(
        "SELECT year, value, currency_orig FROM core.observations_latest "
        "WHERE series_id = 'digital_economy_size' AND geography = 'CN' AND NOT is_outlook ORDER BY year"
    ).fetchall()
    published = {2016: 22.6, 2017: 27.2, 2018: 31.3, 2019: 35.8, 2020: 39.2, 2021: 45.5, 2022: 50.2}  # 万亿元
    assert [y for y, *_ in rows] == sorted(published)  # one row per year
    assert all(v == pytest.approx(published[y] * 1e12) and cur == "CNY" for y, v, cur in rows)
    vintages_2022 = warehouse_con.execute(
        "SELECT count(*) FROM core.observations WHERE series_id = 'digital_economy_size' AND geography = 'CN' "
        "AND year = 2022"
    ).fetchone()[0]
    assert vintages_2022 == 2  # the CAICT table and the seed text: two vintages, one latest value
    usd = warehouse_con.execute(
        "SELECT geography, value_orig, unit_orig FROM core.observations_latest "
        "WHERE series_id = 'digital_economy_size_usd' ORDER BY geography"
    ).fetchall()
    assert usd == [("CN", 7.1, "万亿美元"), ("US", 15.3, "万亿美元")]


def _derived_points_on_one_basis(con: duckdb.DuckDBPyConnection, data: dict) -> None:
    """Every plotted region is share × world total of its year, and each year's shares share one citation."""
    world = {p["year"]: p["value"] for p in data["world"]}
    for year in data["years"]:
        points = [(r["geography"], p) for r in data["regions"] for p in r["points"] if p["year"] == year]
        plotted = [(g, p) for g, p in points if p["value"] is not None]
        assert all(p["kind"] == "derived" for _, p in plotted)
        citations = set()
        for g, p in plotted:
            share, citation = con.execute(
                "SELECT value, source_id || '|' || coalesce(source_note, '') FROM core.observations_latest "
                "WHERE series_id = 'compute_share' AND geography = ? AND segment = 'total' AND year = ?",
                [g, year],
            ).fetchone()
            assert p["value"] == pytest.approx(share / 100 * world[year])
            citations.add(citation)
        assert len(citations) <= 1, (year, citations)


def test_figure_of_regional_compute_is_on_one_basis(warehouse_con: duckdb.DuckDBPyConnection) -> None:
    data = fig09.query(warehouse_con)
    _derived_points_on_one_basis(warehouse_con, data)
    cn_2021 = next(p for r in data["regions"] if r["geography"] == "CN" for p in r["points"] if p["year"] == 2021)
    own = warehouse_con.execute(
        "SELECT value FROM core.observations_latest WHERE series_id = 'compute_capacity' AND geography = 'CN' "
        "AND segment = 'total' AND year = 2021"
    ).fetchone()[0]
    assert cn_2021["value"] != pytest.approx(own)  # China's own total is not mixed with the US's share-derived value
    assert "202" in fig09.note(data, "en") and "202" in fig09.note(data, "zh")


def test_regions_without_a_share_in_a_year_are_named_in_the_note(warehouse_con: duckdb.DuckDBPyConnection) -> None:
    """The 2021 source gives the US's and China's shares only: the EU's and Japan's 2021 bars are blank, and the
    note says which and why."""
    data = fig09.query(warehouse_con)
    blank = warehouse_con.execute(
        "SELECT DISTINCT geography FROM core.observations_latest WHERE series_id = 'compute_share' AND year = 2020 "
        "AND geography NOT IN (SELECT geography FROM core.observations_latest WHERE series_id = 'compute_share' "
        "AND year = 2021) ORDER BY geography"
    ).fetchall()
    assert [g for (g,) in blank] == ["EU", "JP"]
    assert "The 2021 bars for European Union and Japan are left blank" in fig09.note(data, "en")
    assert "欧盟、日本2021年留空" in fig09.note(data, "zh")


def test_a_share_from_another_citation_is_left_out_not_mixed(sources_copy: Path, tmp_path: Path) -> None:
    _edit(
        sources_copy / "fig09_global_compute_by_region.csv",
        'compute_share,CN,total,2021,27,%,approximate,,"邬贺铨, 2022 中国算力大会"',
        "compute_share,CN,total,2021,33,%,approximate,,another summary",
    )
    con = _build(sources_copy, tmp_path)
    data = fig09.query(con)
    _derived_points_on_one_basis(con, data)
    regions = {r["geography"]: {p["year"]: p for p in r["points"]} for r in data["regions"]}
    assert regions["US"][2021]["kind"] == "derived" and regions["CN"][2021]["kind"] == "missing"


def test_caption_notes_reach_the_edition(warehouse_con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    from pipeline.lib.report.changes import compute_changes
    from pipeline.lib.report.context import build_context, edition_view

    ctx = build_context(warehouse_con)
    ctx = ctx.with_changes(compute_changes(None, ctx, ctx.inputs))  # a first edition
    png = tmp_path / "chart.png"
    png.write_bytes(b"not really a png")
    view = edition_view(ctx, "en", {fid: png for fid in ctx.figures})
    figures = {b.id: b for s in view.sections for b in s.blocks if b.type == "figure"}
    assert figures["fig09"].note == fig09.note(ctx.figures["fig09"].to_json(), "en")
    assert figures["fig07"].note.startswith("Note: ")
