"""Blocking checks on every observations table: schema, units, years, duplicate keys, negative sizes."""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg
import duckdb as duckdb_lib
from dagster_duckdb import DuckDBResource

from pipeline.defs.checks_util import result_from
from pipeline.defs.ingest.assets import manifest_specs, table_key
from pipeline.lib.checks import TABLE_CHECKS


def make_table_check(table_id: str, name: str,
                     fn: Callable[[duckdb_lib.DuckDBPyConnection, str], list[str]]) -> dg.AssetChecksDefinition:
    """One blocking check of one table."""

    @dg.asset_check(asset=table_key(table_id), name=name, blocking=True, description=fn.__doc__)
    def _check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        with duckdb.get_connection() as con:
            return result_from(fn(con, table_id))

    return _check


table_checks = [make_table_check(s.id, name, fn) for s in manifest_specs() if s.kind == "observations"
                for name, fn in TABLE_CHECKS.items()]
