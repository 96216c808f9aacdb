"""The headline check: the base scenario must reproduce every published claim (blocking)."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline.defs.checks_util import result_from
from pipeline.defs.forecast.assets import HEADLINES


@dg.asset_check(asset=HEADLINES, blocking=True)
def published_claims_hold(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    """Each claim (e.g. DC + cloud + AI ≥ 2.5万亿元 in 2025) holds in the base scenario; says which and by how much."""
    from pipeline.lib.forecast.engine import failed_claims

    with duckdb.get_connection() as con:
        cur = con.execute("SELECT * FROM forecast.headlines")
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    return result_from(failed_claims(rows), claims=len(rows))
