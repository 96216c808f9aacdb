"""One writer at a time: a file lock beside the DuckDB file, shared by every process of the project.

DuckDB allows a single read-write process per database file; a second process fails with a lock error
(dagster issues 16248, 18746). Every connection the pipeline opens takes this lock first, so a sensor-triggered
run and a manual `reportctl build` queue behind each other instead of failing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from filelock import FileLock

LOCK_TIMEOUT_S = float(os.environ.get("REPORT_LOCK_TIMEOUT", "1800"))


def lock_path(database: Path | str) -> Path:
    """The lock file of a database file."""
    return Path(f"{database}.lock")


@contextmanager
def warehouse_lock(database: Path | str, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the warehouse's writer lock (blocking up to `timeout` seconds)."""
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock_path(database)), timeout=timeout):
        yield


@contextmanager
def locked_connection(database: Path | str, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse under the lock; closes the connection before releasing the lock."""
    from pipeline.lib.ingest import duckdb_config

    with warehouse_lock(database):
        con = duckdb.connect(str(database), read_only=read_only, config=duckdb_config())
        try:
            yield con
        finally:
            con.close()
