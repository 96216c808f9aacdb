"""DuckDB helpers shared by every layer: connection settings, transactions, rows as records, identifiers and bound
parameters.

The SQL rule (docs/architecture.md, "SQL"): a value enters a statement only as a bound parameter (`?`, or `$name`
through `Params`); only identifiers are written into the SQL text, and only through `ident`/`table_name`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb

from pipeline.config import Settings, settings


def duckdb_config(config: Settings | None = None) -> dict[str, Any]:
    """DuckDB settings for the pipeline's warehouse connections (the Dagster resource, the benchmark).

    `memory_limit` caps DuckDB's buffer pool (REPORT_DUCKDB_MEMORY_LIMIT, default 700MB): past it DuckDB spills to
    its temporary directory (`<warehouse file>.tmp`) instead of growing to its own default of 80 % of the RAM.
    `threads` (REPORT_DUCKDB_THREADS) only when set: DuckDB's default is one per core."""
    config = config or settings()
    return connection_config(config.duckdb_memory_limit, config.duckdb_threads)


def connection_config(memory_limit: str, threads: int | None) -> dict[str, Any]:
    """DuckDB's `config` for a memory limit and an optional thread count."""
    return {"memory_limit": memory_limit} | ({"threads": threads} if threads else {})


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN … COMMIT, or ROLLBACK on any error. A rollback that fails itself (the connection lost, the disk
    read-only) never hides the error that caused it: the original exception is raised."""
    con.execute("BEGIN")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        # a failed rollback means the transaction is gone with the error below: that error is the one to report
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise


def ident(name: str) -> str:
    """An SQL identifier, quoted (the only way a name enters SQL text)."""
    return '"' + name.replace('"', '""') + '"'


def table_name(schema: str, table: str) -> str:
    """`schema.table`, both quoted."""
    return f"{ident(schema)}.{ident(table)}"


def records(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The rows of an executed statement as dicts keyed by column name."""
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def record(cur: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """The next row of an executed statement as a dict, or None."""
    row = cur.fetchone()
    return None if row is None else dict(zip([d[0] for d in cur.description], row, strict=True))


def fetch_records(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Run `sql` with bound `params` and return its rows as dicts."""
    return records(con.execute(sql, params))


class Params:
    """Named parameters for a statement assembled from parts: `p(value)` returns a placeholder (`$p0`, `$p1` …)
    and remembers the value; pass `p.values` to `execute`. Parts of one statement built by two `Params` need two
    prefixes."""

    def __init__(self, prefix: str = "p") -> None:
        self.prefix = prefix
        self.values: dict[str, Any] = {}

    def __call__(self, value: Any) -> str:
        name = f"{self.prefix}{len(self.values)}"
        self.values[name] = value
        return f"${name}"

    def text(self, value: str | None) -> str:
        """A placeholder for a text value typed VARCHAR (also when it is None)."""
        return f"{self(value)}::VARCHAR"
