"""File-arrival sensor on sources/: when a file's content hash changes, run its ingest asset and everything
downstream in one run, and record the file hash as the source's data version.

Why a sensor and not declarative automation: one change should give one run covering the whole affected
subgraph (DuckDB has a single writer, and the report must be rendered once, after all blocking checks). Eager
automation would evaluate assets one by one and needs `all_deps_blocking_checks_passed()` on every asset; the
sensor gets the same "only what changed" behaviour with a single run. The cursor holds the per-file hashes, not a
timestamp, so files copied in with old modification times are still seen.
"""

from __future__ import annotations

import json

import dagster as dg

from pipeline.config import output_dir, sources_dir
from pipeline.defs.ingest.assets import CATALOG_KEY, input_keys, source_observations
from pipeline.defs.report.assets import edition_partition_tags
from pipeline.defs.resources import WRITER_POOL
from pipeline.defs.run_health import reap_dead_runs
from pipeline.lib.errors import SourceError
from pipeline.lib.ingest.inputs import changed_inputs, published_inputs, source_hashes
from pipeline.lib.ingest.manifest import load_manifest

everything_job = dg.define_asset_job(
    "refresh_from_sources",
    selection=dg.AssetSelection.all(),
    description="Run by the sources sensor for the assets a changed file feeds.",
)


@dg.sensor(
    job=everything_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=15,
    description="Watches sources/ by content hash and refreshes what depends on a changed file.",
)
def sources_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """Compare file hashes with the cursor; request one run for the changed tables and their downstream. Runs
    whose process died are failed first and their writer slots freed (`run_health`)."""
    try:
        instance = context.instance
    except dg.DagsterInvariantViolationError:  # evaluated without an instance (a unit test): nothing to reap
        instance = None
    for line in reap_dead_runs(instance, WRITER_POOL) if instance is not None else []:
        context.log.warning(line)
    current = source_hashes(sources_dir())
    # without a cursor (the first tick of a new daemon) the baseline is the last published edition, so a fresh
    # `reportctl ui` after a build does not rebuild and re-publish what is already published
    previous = json.loads(context.cursor) if context.cursor else published_inputs(output_dir())
    changed = changed_inputs(previous, current)
    if not changed:
        return dg.SkipReason("no file in sources/ changed")
    try:
        known = {s.id for s in load_manifest(sources_dir())}
    except SourceError as exc:  # keep the cursor: once the manifest is fixed, the same changes are picked up
        return dg.SkipReason(f"sources/manifest.yaml has problems, nothing run: {exc.problems[0]}")
    keys = [k for k in input_keys(changed) if k == CATALOG_KEY or k.path[-1] in known]
    observations = source_observations(changed, current)
    graph = context.repository_def.asset_graph
    selection = (
        dg.AssetSelection.assets(*keys).downstream().required_multi_asset_neighbors().resolve(graph) if keys else set()
    )
    runnable = sorted((k for k in selection if graph.get(k).is_materializable), key=str)
    run_key = "|".join(f"{n}:{current.get(n, '')[:12]}" for n in changed)
    requests = (
        [
            dg.RunRequest(
                run_key=run_key,
                asset_selection=runnable,
                tags={
                    "trigger": "sources_sensor",
                    "changed": ",".join(changed)[:200],
                    **edition_partition_tags(runnable),
                },
            )
        ]
        if runnable
        else []
    )
    return dg.SensorResult(run_requests=requests, asset_events=observations, cursor=json.dumps(current))
