"""Resources shared by every layer: the DuckDB warehouse (path from REPORT_WAREHOUSE), opened under a lock, with a
memory limit (REPORT_DUCKDB_MEMORY_LIMIT, default 700MB)."""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from pipeline.config import warehouse_path
from pipeline.lib.ingest import duckdb_config
from pipeline.lib.locking import warehouse_lock

WRITER_POOL = "duckdb_writer"


class LockedDuckDBResource(DuckDBResource):
    """dagster-duckdb's resource, plus the project's cross-process writer lock around every connection."""

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with warehouse_lock(self.database), super().get_connection() as con:
            yield con


def warehouse_resource() -> LockedDuckDBResource:
    """The DuckDB resource; the file is opened only when an asset asks for a connection. Its DuckDB settings
    (a memory limit, REPORT_DUCKDB_MEMORY_LIMIT) come from `duckdb_config`."""
    return LockedDuckDBResource(database=str(warehouse_path()), connection_config=duckdb_config())


@dg.definitions
def resources() -> dg.Definitions:
    """Bind the warehouse resource under the name `duckdb`; run steps in one process (a step per process costs
    ~1 s of start-up each, and DuckDB allows a single writer anyway)."""
    return dg.Definitions(resources={"duckdb": warehouse_resource()}, executor=dg.in_process_executor)
