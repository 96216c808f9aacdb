"""Resources shared by every layer: the DuckDB warehouse (path from REPORT_WAREHOUSE)."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline.config import warehouse_path

WRITER_POOL = "duckdb_writer"


def warehouse_resource() -> DuckDBResource:
    """The DuckDB resource; the file is opened only when an asset asks for a connection."""
    path = warehouse_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return DuckDBResource(database=str(path))


@dg.definitions
def resources() -> dg.Definitions:
    """Bind the warehouse resource under the name `duckdb`."""
    return dg.Definitions(resources={"duckdb": warehouse_resource()})
