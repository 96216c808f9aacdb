"""The core model: canonical units, FX conversion, vintages, atomic rebuild."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from pipeline.lib.db import duckdb_config, table_name
from pipeline.lib.errors import SourceError
from pipeline.lib.ingest.manifest import load_manifest
from pipeline.lib.warehouse.build import build_warehouse
from pipeline.lib.warehouse.core import build_core


def _value(con, series, year, geography="CN", segment="total"):
    return con.execute(
        "SELECT value, unit FROM core.observations_latest WHERE series_id=? AND year=? AND geography=? AND segment=?",
        [series, year, geography, segment],
    ).fetchone()


def test_money_in_yuan_and_compute_in_eflops(warehouse_con) -> None:
    assert _value(warehouse_con, "cloud_market", 2021) == (pytest.approx(3229 * 1e8), "CNY")
    assert _value(warehouse_con, "core_industry", 2021) == (pytest.approx(1.5 * 1e12), "CNY")
    assert _value(warehouse_con, "compute_capacity", 2021, "GLOBAL") == (pytest.approx(615), "EFLOPS")


def test_foreign_currency_converted_through_fx_table(warehouse_con) -> None:
    # the seed converts US$52.7bn to about 3,650亿元; the FX table is derived from that pair
    value, unit = _value(warehouse_con, "investment_plan", 2022, "US", "chips_act")
    assert unit == "CNY" and value == pytest.approx(3650e8)
    value, _ = _value(warehouse_con, "investment_plan", 2022, "JP", "jp_domestic_investment")
    assert value == pytest.approx(3590e8)
    orig = warehouse_con.execute(
        "SELECT value_orig, unit_orig, currency_orig FROM core.observations WHERE segment = 'eu_chips_act'"
    ).fetchone()
    assert orig == (430, "亿欧元", "EUR")


def test_every_observation_has_source_and_status(warehouse_con) -> None:
    bad = warehouse_con.execute(
        "SELECT count(*) FROM core.observations o LEFT JOIN core.sources s USING "
        "(source_id) WHERE s.publisher IS NULL OR o.status IS NULL"
    ).fetchone()[0]
    assert bad == 0
    assert warehouse_con.execute("SELECT count(*) FROM core.observations").fetchone()[0] > 40


def test_new_vintage_is_kept_next_to_the_old(sources_copy: Path, tmp_path: Path) -> None:
    newer = sources_copy / "fig11_market_size_2024.csv"
    newer.write_text('指标,2021年（亿元）\n云计算,"3,300"\n', encoding="utf-8")
    manifest = sources_copy / "manifest.yaml"
    doc = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    old = next(e for e in doc["tables"] if e["id"] == "fig11_market_size")
    doc["tables"].append(
        {
            **old,
            "id": "fig11_market_size_2024",
            "file": newer.name,
            "published": "2024-07-01",
            "dataset": "fig11_market_size",
        }
    )
    manifest.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    build_warehouse(con, sources_copy)
    vintages = con.execute(
        "SELECT vintage::VARCHAR, value FROM core.observations WHERE series_id = 'cloud_market' "
        "AND year = 2021 ORDER BY vintage"
    ).fetchall()
    assert vintages == [("2023-07-01", pytest.approx(3229e8)), ("2024-07-01", pytest.approx(3300e8))]
    assert _value(con, "cloud_market", 2021)[0] == pytest.approx(3300e8)


def test_core_rebuild_is_atomic_on_failure(sources_copy: Path, tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    build_warehouse(con, sources_copy)
    before = con.execute("SELECT * FROM core.observations ORDER BY ALL").fetchall()
    con.execute("DELETE FROM tidy.fx_rates WHERE segment = 'USD' AND year = 2021")
    with pytest.raises(SourceError, match="no USD exchange rate for 2021"):
        build_core(con, load_manifest(sources_copy))
    assert con.execute("SELECT * FROM core.observations ORDER BY ALL").fetchall() == before


def test_every_manifest_entry_loads(warehouse_con) -> None:
    from pipeline.config import PROJECT_ROOT

    specs = load_manifest(PROJECT_ROOT / "sources")
    assert len(specs) >= 20
    tidy = {
        r[0]
        for r in warehouse_con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'tidy'"
        ).fetchall()
    }
    for spec in specs:
        raw_rows = warehouse_con.execute(f'SELECT count(*) FROM raw."{spec.id}"').fetchone()[0]
        assert raw_rows > 0, spec.id
        if spec.kind == "observations":
            assert spec.id in tidy
            n = warehouse_con.execute(
                "SELECT count(*) FROM core.observations WHERE source_id = ?", [spec.id]
            ).fetchone()[0]
            assert n > 0, f"{spec.id} contributes no observation"
    kinds = {spec.file.rsplit(".", 1)[-1] for spec in specs}
    assert {"csv", "xlsx"} <= kinds
    assert any(spec.encoding.lower() == "gbk" for spec in specs)


def test_hundreds_of_tables_fit_in_the_default_memory_limit(built_warehouse: Path, tmp_path: Path) -> None:
    """Three hundred observation tables of ~50 rows (copies of one, each with its own series) build under the
    default memory limit: a view over a UNION ALL of every tidy table ran out of memory here."""
    db = tmp_path / "warehouse.duckdb"
    db.write_bytes(built_warehouse.read_bytes())
    specs = load_manifest(Path(__file__).resolve().parents[1] / "sources")
    template = next(s for s in specs if s.id == "caict_digital_economy_2023")
    con = duckdb.connect(str(db), config=duckdb_config())
    copies = []
    for n in range(300):
        spec = template.model_copy(update={"id": f"copy_{n:03d}", "file": f"copy_{n:03d}.csv"})
        raw, tidy = table_name("raw", spec.id), table_name("tidy", spec.id)
        con.execute(f"CREATE TABLE {raw} AS SELECT * FROM {table_name('raw', template.id)}")
        con.execute(
            f"CREATE TABLE {tidy} AS SELECT t.* REPLACE (? AS source_id, t.series_id || ? || r.range AS series_id) "
            f"FROM {table_name('tidy', template.id)} t, range(4) r",
            [spec.id, f"_{n:03d}_"],
        )
        copies.append(spec)
    counts = build_core(con, [*specs, *copies])
    per_copy = 4 * con.execute(f"SELECT count(*) FROM {table_name('tidy', template.id)}").fetchone()[0]
    assert counts["sources"] == len(specs) + 300
    assert con.execute("SELECT count(*) FROM core.observations WHERE source_id LIKE 'copy_%'").fetchone()[0] == (
        300 * per_copy
    )
