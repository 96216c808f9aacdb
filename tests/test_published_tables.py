"""Tables shaped like real releases go in as received, or are refused with one clear message; nothing is lost.

Units and geography inside row labels, a title row above the header, notes below, a total row, 亿元 and 万亿元
mixed in one table, years written 2022年 and 2022E.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from pipeline.lib.warehouse.build import build_warehouse
from pipeline.services.intake import Refused, add_source

ENTRY = {
    "id": "caict_2023",
    "publisher": "中国信息通信研究院 (CAICT)",
    "title_zh": "白皮书汇总表",
    "title_en": "White-paper summary table",
    "published": "2023-09-14",
    "reference": "白皮书正文 / white paper text",
    "status": "solid",
    "layout": "wide",
    "geography": "CN",
}
LABELLED = (
    "指标,2020年,2021年,2022E\n"
    '中国云计算市场规模（亿元）,"2,091","3,229","4,550"\n'
    "算力核心产业规模（万亿元）,,1.5,1.8\n"
    "全球算力规模（EFLOPS）,427,615,906\n"
    "中国算力规模 [EFLOPS],135,202,302\n"
)


def _add(tmp_path: Path, text: str | bytes, name: str = "caict_2023.csv", **entry: object) -> Path:
    from conftest import copy_sources

    sources = copy_sources(tmp_path / "sources")
    table = tmp_path / name
    table.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    entry_file = tmp_path / "entry.yaml"
    entry_file.write_text(yaml.safe_dump({**ENTRY, "file": name, **entry}, allow_unicode=True), encoding="utf-8")
    add_source(table, entry_file, sources)
    return sources


def _observations(sources: Path) -> list[tuple]:
    con = duckdb.connect()
    try:
        build_warehouse(con, sources)
        return con.execute(
            "SELECT series_id, geography, year, value, status, src_row FROM core.observations "
            "WHERE source_id = 'caict_2023' ORDER BY series_id, geography, year"
        ).fetchall()
    finally:
        con.close()


def test_units_and_geography_in_row_labels(tmp_path: Path) -> None:
    rows = _observations(_add(tmp_path, LABELLED))
    assert rows == [
        ("cloud_market", "CN", 2020, 2091e8, "solid", 2),
        ("cloud_market", "CN", 2021, 3229e8, "solid", 2),
        ("cloud_market", "CN", 2022, 4550e8, "estimate", 2),
        ("compute_capacity", "CN", 2020, 135.0, "solid", 5),
        ("compute_capacity", "CN", 2021, 202.0, "solid", 5),
        ("compute_capacity", "CN", 2022, 302.0, "estimate", 5),
        ("compute_capacity", "GLOBAL", 2020, 427.0, "solid", 4),
        ("compute_capacity", "GLOBAL", 2021, 615.0, "solid", 4),
        ("compute_capacity", "GLOBAL", 2022, 906.0, "estimate", 4),
        ("core_industry", "CN", 2021, 1.5e12, "solid", 3),
        ("core_industry", "CN", 2022, 1.8e12, "estimate", 3),
    ]


def test_title_row_above_the_header_and_notes_below(tmp_path: Path) -> None:
    text = (
        "表1 中国算力产业主要指标（2020-2022年）,,,\n" + LABELLED + "注：2022年为预计值。,,,\n资料来源：中国信通院,,,\n"
    )
    rows = _observations(_add(tmp_path, text))
    assert ("cloud_market", "CN", 2021, 3229e8, "solid", 3) in rows  # src_row is the line in the file
    assert len(rows) == 11


def test_unit_stated_in_a_title_row(tmp_path: Path) -> None:
    text = '单位：亿元\n指标,2021年,2022年\n云计算,"3,229","4,550"\n'
    assert _observations(_add(tmp_path, text))[0][:4] == ("cloud_market", "CN", 2021, 3229e8)


def test_xlsx_with_a_title_row(tmp_path: Path) -> None:
    import csv
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["表2 云计算市场规模"])
    for row in csv.reader(LABELLED.splitlines()):
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    rows = _observations(_add(tmp_path, buffer.getvalue(), name="caict_2023.xlsx"))
    assert ("core_industry", "CN", 2021, 1.5e12, "solid", 4) in rows


def test_unknown_label_is_one_problem_with_the_alias_to_add(tmp_path: Path) -> None:
    text = "指标,2019年,2020年,2021年,2022年\n中国云服务市场规模（亿元）,1,2,3,4\n"
    with pytest.raises(Refused) as info:
        _add(tmp_path, text)
    problems = [str(p) for p in info.value.problems]
    assert len(problems) == 1
    assert problems[0] == (
        f"{tmp_path / 'caict_2023.csv'}, row 2, column '指标': unknown series '中国云服务市场规模（亿元）' (read as "
        "series name '云服务市场规模', geography 中国 = CN, unit 亿元): add '云服务市场规模' to the `aliases` of its "
        "series in sources/series.csv (`|`-separated), probably cloud_market (known as '云计算市场规模'), or add "
        "the series itself; or map it for this table only: `rows: {云服务市场规模: <series id>}`"
    )


def test_total_row_is_refused_then_mapped(tmp_path: Path) -> None:
    text = '指标,2021年（亿元）\n数据中心,"1,500"\n云计算,"3,229"\n人工智能,"4,305"\n合计,"9,034"\n'
    with pytest.raises(Refused) as info:
        _add(tmp_path / "a", text)
    assert (
        "unknown series '合计': a total row? map it in the entry, for this table only: `rows: {合计: ignore}`"
        in str(info.value)
    )
    kept = _observations(_add(tmp_path / "b", text, rows={"合计": "ignore"}))
    assert {r[0] for r in kept} == {"dc_market", "cloud_market", "ai_core_industry"}
    mapped = _observations(_add(tmp_path / "c", text, rows={"合计": "dc_cloud_ai_market_combined"}))
    assert ("dc_cloud_ai_market_combined", "CN", 2021, 9034e8, "solid", 5) in mapped


def test_label_unit_that_contradicts_the_header_is_refused(tmp_path: Path) -> None:
    text = "指标,2021年（亿元）\n算力核心产业规模（万亿元）,1.5\n"
    with pytest.raises(Refused) as info:
        _add(tmp_path, text)
    assert (
        f"{tmp_path / 'caict_2023.csv'}, row 2, column '2021年（亿元）': the row label gives the unit '万亿元' but the "
        "column header '亿元'; keep the unit in one place"
    ) in str(info.value)


def test_columns_named_after_series_next_to_a_year_column(tmp_path: Path) -> None:
    text = '年份,中国云计算市场规模（亿元）,全球算力规模（EFLOPS）\n2021年,"3,229",615\n2022E,"4,550",906\n'
    rows = _observations(_add(tmp_path, text, layout="long"))
    assert rows == [
        ("cloud_market", "CN", 2021, 3229e8, "solid", 2),
        ("cloud_market", "CN", 2022, 4550e8, "estimate", 3),
        ("compute_capacity", "GLOBAL", 2021, 615.0, "solid", 2),
        ("compute_capacity", "GLOBAL", 2022, 906.0, "estimate", 3),
    ]
