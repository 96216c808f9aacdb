"""Bad input gives one clear error naming file, row and column, and the previous tables stay unchanged."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from pipeline.lib.errors import SourceError
from pipeline.lib.ingest.catalog import load_catalogs
from pipeline.lib.ingest.manifest import load_manifest
from pipeline.lib.ingest.tables import ensure_schemas, ingest_table

TABLE = "fig11_market_size"
LONG_TABLE = "fig09_global_compute_by_region"


def _spec(sources: Path, table_id: str):
    return next(s for s in load_manifest(sources) if s.id == table_id)


def _snapshot(con: duckdb.DuckDBPyConnection, table_id: str) -> tuple[list, list]:
    raw = con.execute(f"SELECT * FROM raw.{table_id} ORDER BY _row").fetchall()
    tidy = con.execute(f"SELECT * FROM tidy.{table_id} ORDER BY src_row, src_col").fetchall()
    return raw, tidy


@pytest.fixture()
def loaded(sources_copy: Path, tmp_path: Path):
    """A warehouse holding the good versions of the two tables under test."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schemas(con)
    load_catalogs(con, sources_copy)
    for table_id in (TABLE, LONG_TABLE):
        ingest_table(con, _spec(sources_copy, table_id), sources_copy)
    yield con, sources_copy
    con.close()


def _attempt(con, sources: Path, table_id: str) -> str:
    """Re-ingest after the test broke the file; return the error message, asserting nothing changed."""
    before = _snapshot(con, table_id)
    with pytest.raises(SourceError) as info:
        ingest_table(con, _spec(sources, table_id), sources)
    assert _snapshot(con, table_id) == before, "previous tables must stay unchanged"
    return str(info.value)


def test_malformed_csv_names_row(loaded) -> None:
    con, sources = loaded
    path = sources / "fig11_market_size.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2] + ",extra,cells"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    msg = _attempt(con, sources, TABLE)
    assert "sources/fig11_market_size.csv, row 3" in msg
    assert "malformed CSV row" in msg


def test_gbk_file_without_declaration(loaded) -> None:
    con, sources = loaded
    path = sources / "fig11_market_size.csv"
    text = path.read_text(encoding="utf-8")
    path.write_bytes(text.encode("gbk"))
    msg = _attempt(con, sources, TABLE)
    assert "sources/fig11_market_size.csv, row 1, column '#1'" in msg
    assert "GBK" in msg and "encoding: gbk" in msg


def test_gbk_file_with_declaration_loads(loaded) -> None:
    con, sources = loaded
    path = sources / "fig11_market_size.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    manifest = sources / "manifest.yaml"
    doc = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    next(e for e in doc["tables"] if e["id"] == TABLE)["encoding"] = "gbk"
    manifest.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    result = ingest_table(con, _spec(sources, TABLE), sources)
    assert result.tidy_rows == 6
    assert (
        con.execute(f"SELECT value_orig FROM tidy.{TABLE} WHERE series_id = 'cloud_market' AND year = 2021").fetchone()[
            0
        ]
        == 3229
    )


def test_empty_file(loaded) -> None:
    con, sources = loaded
    (sources / "fig11_market_size.csv").write_bytes(b"")
    msg = _attempt(con, sources, TABLE)
    assert "sources/fig11_market_size.csv, row 1: file is empty" in msg


def test_header_only_file(loaded) -> None:
    con, sources = loaded
    path = sources / "fig11_market_size.csv"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    msg = _attempt(con, sources, TABLE)
    assert "row 2: file has a header but no data rows" in msg


def test_unknown_unit(loaded) -> None:
    con, sources = loaded
    path = sources / "fig11_market_size.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("2018年（亿元）", "2018年（亿英镑）"), encoding="utf-8")
    msg = _attempt(con, sources, TABLE)
    assert "row 3, column '2018年（亿英镑）': unknown unit '亿英镑'" in msg


def test_unit_that_does_not_fit_the_series(loaded) -> None:
    con, sources = loaded
    path = sources / "fig09_global_compute_by_region.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("2021,615,EFLOPS", "2021,615,亿元"), encoding="utf-8")
    msg = _attempt(con, sources, LONG_TABLE)
    assert "row 2" in msg and "unit '亿元' (money) does not fit series compute_capacity (compute)" in msg


def test_duplicate_key(loaded) -> None:
    con, sources = loaded
    path = sources / "fig09_global_compute_by_region.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, lines[3]]) + "\n", encoding="utf-8")
    msg = _attempt(con, sources, LONG_TABLE)
    assert f"row 4, column 'value': duplicate key compute_capacity/CN/total/2021 (also in rows {len(lines) + 1})" in msg


def test_negative_size(loaded) -> None:
    con, sources = loaded
    path = sources / "fig11_market_size.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("514.9", "-514.9"), encoding="utf-8")
    msg = _attempt(con, sources, TABLE)
    assert "row 3, column '2016年（亿元）': negative value -514.9 for cloud_market" in msg


def test_missing_year(loaded) -> None:
    con, sources = loaded
    path = sources / "fig09_global_compute_by_region.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("CN,total,2021,202", "CN,total,,202"), encoding="utf-8")
    msg = _attempt(con, sources, LONG_TABLE)
    assert "row 4, column 'year': no year; expected 2022, 2022年, or with a marker" in msg


def test_not_a_number(loaded) -> None:
    con, sources = loaded
    path = sources / "fig11_market_size.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("962.8", "n/a"), encoding="utf-8")
    msg = _attempt(con, sources, TABLE)
    assert "row 3, column '2018年（亿元）': not a number: 'n/a'" in msg


def test_unknown_geography(loaded) -> None:
    con, sources = loaded
    path = sources / "fig09_global_compute_by_region.csv"
    path.write_text(
        path.read_text(encoding="utf-8").replace("compute_share,JP", "compute_share,Atlantis"), encoding="utf-8"
    )
    msg = _attempt(con, sources, LONG_TABLE)
    assert "column 'geography': unknown geography 'Atlantis'" in msg


def _edit_manifest_entry(sources_copy: Path, index: int, key: str, value: str) -> Path:
    """Set one key of the manifest's `index`-th entry (rewriting the YAML); return the manifest's path."""
    manifest = sources_copy / "manifest.yaml"
    doc = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    doc["tables"][index][key] = value
    manifest.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return manifest


def test_manifest_path_outside_sources(sources_copy: Path) -> None:
    manifest = _edit_manifest_entry(sources_copy, 0, "file", "../../etc/passwd")
    with pytest.raises(SourceError) as info:
        load_manifest(sources_copy)
    first_line = next(
        i
        for i, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1)
        if line.lstrip().startswith("- ")
    )
    assert f"sources/manifest.yaml, row {first_line}, column 'file'" in str(info.value)
    assert "points outside sources/" in str(info.value)


def test_manifest_unknown_status(sources_copy: Path) -> None:
    _edit_manifest_entry(sources_copy, 1, "status", "rumour")
    with pytest.raises(SourceError, match="status 'rumour' is not one of"):
        load_manifest(sources_copy)


def test_manifest_publisher_needs_an_english_name(sources_copy: Path) -> None:
    _edit_manifest_entry(sources_copy, 2, "publisher", "中国信息通信研究院")
    with pytest.raises(SourceError) as info:
        load_manifest(sources_copy)
    assert "column 'publisher'" in str(info.value) and "'中文名 (English name)'" in str(info.value)


def test_manifest_reference_with_english_prose_is_refused(sources_copy: Path) -> None:
    _edit_manifest_entry(sources_copy, 2, "reference", "图9 / Figure 9 (p. 26); shares read off the chart")
    with pytest.raises(SourceError) as info:
        load_manifest(sources_copy)
    message = str(info.value)
    assert "entry 3 (id 'fig09_global_compute_by_region')" in message and "column 'reference'" in message
    assert "(chart, off, read, shares, the)" in message and "put explanations in note" in message
