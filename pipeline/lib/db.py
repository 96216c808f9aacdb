"""DuckDB helpers shared by every layer: connection settings and transactions."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

MEMORY_LIMIT_ENV = "REPORT_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "700MB"


def duckdb_config() -> dict[str, str]:
    """DuckDB settings for the pipeline's warehouse connections (the Dagster resource, the benchmark).

    `memory_limit` caps DuckDB's buffer pool: REPORT_DUCKDB_MEMORY_LIMIT (any DuckDB size such as `2GB`),
    default 700MB. Past it DuckDB spills to its temporary directory (`<warehouse file>.tmp`) instead of growing;
    DuckDB's own default would be 80 % of the machine's RAM."""
    return {"memory_limit": os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT}


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
