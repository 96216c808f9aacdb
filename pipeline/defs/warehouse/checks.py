"""Blocking checks on the core model and on the sources folder itself."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline.config import sources_dir
from pipeline.defs.checks_util import result_from
from pipeline.defs.warehouse.assets import OBSERVATIONS, SOURCES
from pipeline.lib import checks
from pipeline.lib.core import sources_dir_problems
from pipeline.lib.errors import SourceError
from pipeline.lib.manifest import load_manifest


@dg.asset_check(asset=OBSERVATIONS, blocking=True)
def totals_consistent(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    """Parts add up to the total where a source gives both (e.g. basic + intelligent + supercomputing)."""
    with duckdb.get_connection() as con:
        return result_from(checks.totals_consistent(con))


@dg.asset_check(asset=OBSERVATIONS, blocking=True)
def derived_formulas_hold(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    """Every derived value equals its formula."""
    with duckdb.get_connection() as con:
        return result_from(checks.formulas_hold(con))


@dg.asset_check(asset=OBSERVATIONS, blocking=True)
def every_row_sourced(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    """Every observation has a status and a source table with a citation."""
    with duckdb.get_connection() as con:
        return result_from(checks.every_row_sourced(con))


@dg.asset_check(asset=SOURCES, blocking=True)
def manifest_matches_files() -> dg.AssetCheckResult:
    """Every manifest entry has its file inside sources/, and every file its entry."""
    try:
        problems = [str(p) for p in sources_dir_problems(sources_dir(), load_manifest(sources_dir()))]
    except SourceError as exc:
        problems = [str(p) for p in exc.problems]
    return result_from(problems)
