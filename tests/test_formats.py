"""What analysts' files look like: wide tables, units in headers, separators, full-width digits, ranges, XLSX."""

from __future__ import annotations

from pathlib import Path

import duckdb
import openpyxl
import pytest
import yaml

from pipeline.lib.ingest.catalog import load_catalogs
from pipeline.lib.ingest.manifest import load_manifest
from pipeline.lib.ingest.tables import ensure_schemas, ingest_table

ENTRY = {
    "publisher": "Test publisher",
    "title_zh": "测试",
    "title_en": "Test",
    "published": "2023-01-01",
    "reference": "p. 1",
    "status": "solid",
    "geography": "CN",
}


def _add_entry(sources: Path, **entry: object) -> None:
    manifest = sources / "manifest.yaml"
    doc = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    doc["tables"].append({**ENTRY, **entry})
    manifest.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


def _ingest(sources: Path, table_id: str, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schemas(con)
    load_catalogs(con, sources)
    spec = next(s for s in load_manifest(sources) if s.id == table_id)
    ingest_table(con, spec, sources)
    return con


def test_wide_table_with_separators_fullwidth_and_qualifiers(sources_copy: Path, tmp_path: Path) -> None:
    (sources_copy / "t_wide.csv").write_text(
        '指标,2020年（亿元）,2021年（万亿元）\n云计算,"2,091.5",０.３２２９\n人工智能,约3031,≥0.43\n', encoding="utf-8"
    )
    _add_entry(sources_copy, id="t_wide", file="t_wide.csv", layout="wide")
    con = _ingest(sources_copy, "t_wide", tmp_path)
    rows = dict(
        ((s, y), (v, f, q))
        for s, y, v, f, q in con.execute(
            "SELECT series_id, year, value_orig, factor, qualifier FROM tidy.t_wide"
        ).fetchall()
    )
    assert rows[("cloud_market", 2020)] == (2091.5, 1e8, None)
    assert rows[("cloud_market", 2021)][:2] == (0.3229, 1e12)
    assert rows[("ai_core_industry", 2020)] == (3031.0, 1e8, "约")
    assert rows[("ai_core_industry", 2021)] == (0.43, 1e12, "≥")


def test_ranges_keep_bounds_and_text(sources_copy: Path, tmp_path: Path) -> None:
    (sources_copy / "t_range.csv").write_text(
        "series,year,value,unit\ndc_market,2021,200-300,亿元\ncloud_market,2021,约100,亿元\n", encoding="utf-8"
    )
    _add_entry(sources_copy, id="t_range", file="t_range.csv")
    con = _ingest(sources_copy, "t_range", tmp_path)
    got = dict(
        (s, (v, lo, hi, t))
        for s, v, lo, hi, t in con.execute(
            "SELECT series_id, value_orig, low_orig, high_orig, value_text FROM tidy.t_range"
        ).fetchall()
    )
    assert got["dc_market"] == (250.0, 200.0, 300.0, "200-300")
    assert got["cloud_market"] == (100.0, 100.0, 100.0, "约100")


def test_xlsx_with_merged_two_row_header(sources_copy: Path, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append(["指标", "规模（亿元）", None])
    ws.append([None, "2020年", "2021年"])
    ws.merge_cells("B1:C1")
    ws.merge_cells("A1:A2")
    ws.append(["云计算", 2091, "3,229"])
    ws.append(["人工智能", 3031, 4305])
    wb.save(sources_copy / "t_merged.xlsx")
    _add_entry(sources_copy, id="t_merged", file="t_merged.xlsx", layout="wide", header_rows=2, sheet="数据")
    con = _ingest(sources_copy, "t_merged", tmp_path)
    headers = [r[0] for r in con.execute("DESCRIBE raw.t_merged").fetchall()]
    assert headers[:4] == ["_row", "指标", "规模（亿元）|2020年", "规模（亿元）|2021年"]
    got = {
        (s, y): (v, row)
        for s, y, v, row in con.execute(
            "SELECT series_id, year, value_orig * factor, src_row FROM tidy.t_merged"
        ).fetchall()
    }
    assert got[("cloud_market", 2021)] == (pytest.approx(3229e8), 3)
    assert got[("ai_core_industry", 2020)] == (pytest.approx(3031e8), 4)


def test_raw_table_keeps_provenance(sources_copy: Path, tmp_path: Path) -> None:
    con = _ingest(sources_copy, "fig11_market_size", tmp_path)
    file, sha, loaded = con.execute("SELECT DISTINCT _file, _sha256, _loaded_at FROM raw.fig11_market_size").fetchone()
    import hashlib

    assert file == "fig11_market_size.csv"
    assert sha == hashlib.sha256((sources_copy / "fig11_market_size.csv").read_bytes()).hexdigest()
    assert loaded is not None


def test_quotes_and_semicolons_round_trip_through_ingest(sources_copy: Path, tmp_path: Path) -> None:
    """Cells, headers, row labels and the file name with quotes, semicolons and SQL comment marks reach raw and
    tidy unchanged: they are bound as parameters or quoted identifiers, never spliced into SQL."""
    header = "value 'a'; \"b\" --"
    note = 'it\'s "quoted"; DROP TABLE raw.series_catalog; --'
    source = "O'Brien; 'x' || '"
    ignored = "合计'; SELECT 1; --"
    (sources_copy / "t_o'quote;.csv").write_text(
        f'series,year,"{header.replace(chr(34), chr(34) * 2)}",unit,note,source\n'
        f'cloud_market,2021,100,亿元,"{note.replace(chr(34), chr(34) * 2)}",{source}\n'
        f"{ignored},2021,999,亿元,,\n",
        encoding="utf-8",
    )
    _add_entry(
        sources_copy,
        id="t_quote",
        file="t_o'quote;.csv",
        columns={header: "value"},
        rows={ignored: "ignore"},
        status="solid",
    )
    con = _ingest(sources_copy, "t_quote", tmp_path)
    tidy = con.execute(
        "SELECT series_id, value_orig, src_col, note, source_note, unit_text FROM tidy.t_quote"
    ).fetchall()
    assert tidy == [("cloud_market", 100.0, header, note, source, "亿元")]
    raw = con.execute("SELECT series, note, source, _file FROM raw.t_quote ORDER BY _row").fetchall()
    assert raw == [("cloud_market", note, source, "t_o'quote;.csv"), (ignored, None, None, "t_o'quote;.csv")]
    assert con.execute("SELECT count(*) FROM raw.series_catalog").fetchone()[0] > 0
