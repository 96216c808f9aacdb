"""DuckDB helpers shared by every layer."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb


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
