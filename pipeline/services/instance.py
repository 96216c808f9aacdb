"""Dagster's instance for the command line's runs: the one in DAGSTER_HOME, checked before use."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.config import DAGSTER_HOME, settings


class StateError(RuntimeError):
    """A state file of the pipeline cannot be used; the message says which and what to do."""


def open_instance():
    """Dagster's instance in DAGSTER_HOME (created with the writer pool limit when new); StateError naming the
    folder and the command to reset it if its run history cannot be read."""

    from pipeline.defs.resources import WRITER_POOL
    from pipeline.lib.warehouse.state import reset_hint

    home = settings().dagster_home
    os.environ[DAGSTER_HOME] = str(home)  # Dagster reads it itself
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(
            "telemetry:\n  enabled: false\nconcurrency:\n  pools:\n    default_limit: 1\n", encoding="utf-8"
        )
    try:
        instance = instance_without_log_mirroring(home)
        instance.get_runs(limit=1)
        writer_limit = instance.event_log_storage.get_concurrency_info(WRITER_POOL).limit
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy, YAML and Dagster raise many types for a broken home
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise StateError(
            f"Dagster's run history in {home} cannot be read ({type(exc).__name__}: {first[:200]}); "
            f"set it aside with `{reset_hint(home)}` and run the command again (the editions and the "
            "warehouse are not affected)"
        ) from exc
    if writer_limit != 1:
        raise StateError(
            f"the Dagster instance in {home} lets {writer_limit or 'unlimited'} step(s) of the {WRITER_POOL} pool "
            "run at once, but DuckDB takes one writer: add `concurrency: {pools: {default_limit: 1}}` to "
            f"{config} (deploy/team/dagster.yaml has it) or run `dagster instance concurrency set {WRITER_POOL} 1`"
        )
    return instance


NO_COMPUTE_LOGS = {"module": "dagster._core.storage.noop_compute_log_manager", "class": "NoOpComputeLogManager"}


def instance_without_log_mirroring(home: Path):
    """The instance of DAGSTER_HOME as configured, except that the CLI's in-process runs do not mirror step
    output to compute-log files: that spawns a `tail` and a watcher process per step and stream (slower, and a
    Ctrl-C prints a KeyboardInterrupt traceback from each watcher). The CLI prints its own progress; the runs'
    events stay in the instance. Uses Dagster's `InstanceRef.from_dir(overrides=)` (not public API): checked for
    the pinned 1.13 line, otherwise the plain instance (with mirroring) is used."""
    import dagster as dg

    if dg.__version__.startswith("1.13."):
        try:
            from dagster._core.instance.ref import InstanceRef

            ref = InstanceRef.from_dir(str(home), overrides={"compute_logs": NO_COMPUTE_LOGS})
            return dg.DagsterInstance.from_ref(ref)
        except (ImportError, TypeError):
            pass
    return dg.DagsterInstance.get()
