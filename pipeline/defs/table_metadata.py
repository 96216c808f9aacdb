"""Dagster's standard metadata for an asset that is a DuckDB table: `dagster/table_name`, `dagster/row_count` and
`dagster/column_schema`, so the UI shows the table's name, size and columns the same way for every layer."""

import dagster as dg
import duckdb

from pipeline.lib.db import table_name


def table_metadata(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, object]:
    """The three standard keys of `schema.table`, read from the warehouse (names bound as parameters; the count
    needs the quoted identifiers)."""
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
        "ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    rows = con.execute(f"SELECT count(*) FROM {table_name(schema, table)}").fetchone()[0] if columns else 0
    return {
        "dagster/table_name": f"warehouse.{schema}.{table}",
        "dagster/row_count": int(rows),
        "dagster/column_schema": dg.TableSchema(columns=[dg.TableColumn(name, kind) for name, kind in columns]),
    }
