"""Runs of the asset graph in this process (`reportctl build` and `refresh`): what to run, live progress, the
outcome as an exit code."""

from __future__ import annotations

import functools
import gc
import os
import sys
import time
from pathlib import Path

from pipeline.config import output_dir, sources_dir, warehouse_path
from pipeline.services.instance import open_instance

OK, FAILED, INTERRUPTED = 0, 1, 130


def _failure_message(data) -> str:
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    err = data.error
    while err is not None and err.cause is not None and "StepExecutionError" in err.cls_name:
        err = err.cause
    return f"{err.cls_name}: {err.message.strip()}" if err else "unknown error"


@functools.cache
def _source_hashes() -> dict[str, str]:
    """Hashes of the input files and manifest entries (`inputs.source_hashes`), computed once per command: the
    hashes that decided what to run are the ones recorded."""
    from pipeline.lib.ingest.inputs import source_hashes

    return source_hashes(sources_dir())


def _observe_sources(instance, changed: list[str] | None) -> None:
    """Record the hashes of the `changed` input files (None = all) as their source assets' data versions (what
    the sensor does for the runs it starts), instead of running one observation step per file."""
    from pipeline.defs.ingest.assets import source_observations

    hashes = _source_hashes()
    for event in source_observations(list(hashes) if changed is None else changed, hashes):
        instance.report_runless_asset_event(event)


@functools.cache
def _definitions():
    """The project's definitions, loaded once per command (loading them takes ~0.4 s)."""
    from pipeline.definitions import defs

    return defs()


class Progress:
    """Prints each event as the run emits it (a Dagster logger receives every event live; `execute_in_process`
    only returns them at the end): one line per asset built, failed checks and steps on stderr."""

    def __init__(self) -> None:
        self.built = 0
        self.failed: list[str] = []
        self.interrupted = False

    def event(self, event) -> None:
        kind = event.event_type_value
        if kind == "ASSET_MATERIALIZATION":
            self.built += 1
            partition = event.partition
            print(f"  built   {event.asset_key.to_user_string()}{f' [{partition}]' if partition else ''}", flush=True)
        elif kind == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            if not data.passed and getattr(data.severity, "value", None) == "WARN":  # reported, not a failure
                print(f"  warning {data.asset_key.to_user_string()}:{data.check_name}", flush=True)
            elif not data.passed:
                problems = data.metadata.get("problems")
                detail = f"\n{problems.value}" if problems is not None else ""
                print(
                    f"  CHECK FAILED {data.asset_key.to_user_string()}:{data.check_name}{detail}",
                    file=sys.stderr,
                    flush=True,
                )
                self.failed.append(data.check_name)
        elif kind == "STEP_FAILURE":
            msg = _failure_message(event.event_specific_data)
            if "ExecutionInterruptedError" in msg:  # Ctrl-C: Dagster stops the step and fails the run
                self.interrupted = True
            elif "blocking asset check failed" not in msg:
                print(f"  FAILED  {event.step_key}:\n{msg}", file=sys.stderr, flush=True)
            self.failed.append(event.step_key)

    def logger(self):
        """A Dagster logger definition that hands the run's events to `event` (it replaces the console logger)."""
        import logging

        import dagster as dg

        progress = self

        class Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                event = getattr(record, "dagster_event", None)
                if event is not None:
                    progress.event(event)

        @dg.logger(description="reportctl's live progress lines")
        def reportctl_progress(_init_context) -> logging.Logger:
            log = logging.Logger("reportctl.progress", logging.DEBUG)
            log.addHandler(Handler())
            return log

        return reportctl_progress


def run_tags(changed: list[str] | None) -> dict[str, str]:
    """Tags that make a CLI run findable in the UI: which command, what changed, who ran it."""
    import getpass

    command = "build" if changed is None else "refresh"
    return {
        "reportctl/command": command,
        "reportctl/user": getpass.getuser(),
        "reportctl/changed": "everything" if changed is None else ",".join(changed)[:200],
    }


def run_assets(selection: list | None = None, changed: list[str] | None = None) -> int:
    """Materialise the selection (None = every materialisable asset) in-process after recording the changed
    files' hashes (None = all); one line per asset as it is built, a summary, an exit code. Runs whose process
    died are failed and their slots freed first; a slot held by a live run is waited for (REPORT_LOCK_TIMEOUT)."""
    from pipeline.defs.report.assets import edition_partition_tags
    from pipeline.defs.resources import WRITER_POOL
    from pipeline.defs.run_health import owner_tags, reap_dead_runs, wait_for_pool
    from pipeline.lib.warehouse.locking import lock_timeout

    start = time.perf_counter()
    definitions = _definitions()
    if selection is None:
        graph = definitions.resolve_asset_graph()
        selection = sorted((k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable), key=str)
    instance = open_instance()
    for line in reap_dead_runs(instance, WRITER_POOL):
        print(line, file=sys.stderr)
    holders = wait_for_pool(instance, WRITER_POOL, lock_timeout())
    if holders:
        print(
            f"FAILED: the {WRITER_POOL} slot is still held by {', '.join(h.description for h in holders)} after "
            f"{lock_timeout():g} s (REPORT_LOCK_TIMEOUT); nothing was run",
            file=sys.stderr,
        )
        return FAILED
    _observe_sources(instance, changed)
    progress = Progress()
    latest = latest_name()
    job = definitions.resolve_implicit_global_asset_job_def().with_logger_defs({"progress": progress.logger()})
    gc.freeze()  # definitions, modules and the instance live until exit: keep them out of every later collection
    print(f"running {len(selection)} asset(s)", flush=True)
    result = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config={"loggers": {"progress": {}}},
        asset_selection=selection,
        tags={**owner_tags(), **run_tags(changed), **edition_partition_tags(selection)},
    )
    took = time.perf_counter() - start
    if result.success and not progress.failed:
        print(f"ok: {progress.built} asset(s) in {took:.1f}s; latest edition in {output_dir() / 'latest'}")
        return OK
    now = latest_name()
    published = (
        "the last published edition was left as it was"
        if now == latest
        else f"edition {Path(now or '').name} was published before it stopped"
    )
    if progress.interrupted:
        print(f"interrupted after {took:.1f}s; {'nothing published' if now == latest else published}", file=sys.stderr)
        return INTERRUPTED
    print(f"FAILED in {took:.1f}s ({len(progress.failed)} problem(s)); {published}", file=sys.stderr)
    return FAILED


def last_inputs() -> tuple[str | None, dict[str, str]]:
    from pipeline.lib.publish.editions import read_record
    from pipeline.lib.report.changes import latest_edition

    latest = latest_edition(output_dir())
    record = read_record(latest) if latest else None
    return (record.edition_id, dict(record.inputs)) if record else (None, {})


def edition_inputs_now() -> dict[str, str]:
    """Current hashes keyed like an edition's inputs (table ids and catalog:<file>)."""
    return {k: v for k, v in _source_hashes().items() if k != "manifest"}


def manifest_ok() -> bool:
    """False (and the problems on stderr) when sources/manifest.yaml cannot be read: without it the definitions
    have no ingest assets, and a run would publish from stale tables while recording the new files as done."""
    from pipeline.lib.errors import SourceError
    from pipeline.lib.ingest.manifest import load_manifest

    try:
        load_manifest(sources_dir())
    except SourceError as exc:
        print(
            "sources/manifest.yaml has problems; nothing was run and the last edition stays published:", file=sys.stderr
        )
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return False
    return True


def build() -> int:
    """Run every asset; the render workers start first, so they warm up while Dagster loads. A warehouse that
    cannot be read is moved aside (kept as `*.corrupt-<time>`) and rebuilt from sources/."""
    from pipeline.lib.report.workers import started_early
    from pipeline.lib.warehouse.state import quarantine, warehouse_problem

    if problem := warehouse_problem(warehouse_path()):
        moved = quarantine(warehouse_path())
        print(
            f"the warehouse {warehouse_path()} could not be read ({problem}); moved it to {moved.name} and "
            "rebuilding it from sources/",
            file=sys.stderr,
        )
    with started_early():
        return run_assets()


def refresh() -> int:
    """Run only the ingest assets whose file changed since the last edition, and everything downstream."""
    from pipeline.lib.ingest.inputs import changed_inputs
    from pipeline.lib.publish.editions import verify_published
    from pipeline.lib.warehouse.state import warehouse_problem

    for line in verify_published(output_dir(), repair=True).repaired:
        print(f"repaired {line}")
    edition, old = last_inputs()
    if edition is None:
        print("no published edition yet: building everything")
        return build()
    if warehouse_problem(warehouse_path()):
        return build()
    changed = changed_inputs(old, edition_inputs_now())
    if not changed:
        print(f"nothing changed since edition {edition}")
        return OK
    print(f"changed since edition {edition}: {', '.join(changed)}")
    from pipeline.lib.report.workers import started_early

    with started_early():
        return _run_changed(changed)


def _run_changed(changed: list[str]) -> int:
    import dagster as dg

    from pipeline.defs.ingest.assets import input_keys

    graph = _definitions().resolve_asset_graph()
    keys = {k for k in input_keys(changed) if graph.has(k)}
    selection = dg.AssetSelection.assets(*keys).downstream().required_multi_asset_neighbors().resolve(graph)
    return run_assets(sorted((k for k in selection if graph.get(k).is_materializable), key=str), changed)


def latest_name() -> str | None:
    link = output_dir() / "latest"
    return os.readlink(link) if link.is_symlink() else None


def reset_caches() -> None:
    """The definitions and the source hashes are computed once per command (also when `main()` is called twice
    in one process)."""
    _definitions.cache_clear()
    _source_hashes.cache_clear()
