"""Named queries over the warehouse shared by the report context (cf. Evidence.dev: a page never computes numbers
itself; figures have their own queries in pipeline/lib/report/figures)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # duckdb only for type hints: the PDF processes need not import it
    import duckdb


def labels(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """Bilingual names: {'series:cloud_market': {'zh': ..., 'en': ...}, 'geography:CN': {...}, ...}."""
    out = {
        f"series:{s}": {"zh": zh, "en": en}
        for s, zh, en in con.execute("SELECT series_id, name_zh, name_en FROM core.series").fetchall()
    }
    out |= {
        f"{d}:{c}": {"zh": zh, "en": en}
        for d, c, zh, en in con.execute("SELECT dimension, code, name_zh, name_en FROM core.labels").fetchall()
    }
    has_aggregates = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'forecast' AND table_name = 'aggregates'"
    ).fetchone()[0]
    if has_aggregates:
        out |= {
            f"aggregate:{a}": {"zh": zh, "en": en}
            for a, zh, en in con.execute(
                "SELECT DISTINCT aggregate_id, name_zh, name_en FROM forecast.aggregates"
            ).fetchall()
        }
    return out


def sources(con: duckdb.DuckDBPyConnection, ids: list[str] | None = None) -> list[dict]:
    """Citations of source tables (all, or the given ids), in id order."""
    sql = (
        "SELECT source_id, publisher, title_zh, title_en, published::VARCHAR AS published, reference, status "
        "FROM core.sources"
    )
    params: list = []
    if ids is not None:
        sql += " WHERE list_contains(?, source_id)"
        params = [list(ids)]
    from pipeline.lib.db import fetch_records  # here: importing db imports duckdb

    return fetch_records(con, sql + " ORDER BY source_id", params)
