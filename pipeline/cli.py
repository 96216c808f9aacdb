"""`reportctl`: the analysts' command line.

  build             ingest, check, forecast, render and publish everything (in-process)
  refresh           re-run only what depends on files changed since the last published edition
  status            sources and their vintages, the last edition, failing checks
  add-source FILE   validate a new or corrected table (and its manifest entry) before copying it into sources/
  ui                start the Dagster UI (and its daemon, which runs the sources sensor) on localhost

Exit codes: 0 ok (or nothing to do), 1 a run, check or validation failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import sys
import time
import warnings
from pathlib import Path

from pipeline.config import output_dir, sources_dir, warehouse_path
from pipeline.lib.warehouse.locking import LockTimeout

OK, FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130


class StateError(RuntimeError):
    """A state file of the pipeline cannot be used; the message says which and what to do."""


def _instance():
    """Dagster's instance in DAGSTER_HOME (created with the writer pool limit when new); StateError naming the
    folder and the command to reset it if its run history cannot be read."""

    from pipeline.lib.warehouse.state import reset_hint

    home = Path(os.environ.setdefault("DAGSTER_HOME", str(output_dir() / "dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\nconcurrency:\n  pools:\n    default_limit: 1\n",
                          encoding="utf-8")
    try:
        instance = _instance_without_log_mirroring(home)
        instance.get_runs(limit=1)
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy, YAML and Dagster raise many types for a broken home
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise StateError(f"Dagster's run history in {home} cannot be read ({type(exc).__name__}: {first[:200]}); "
                         f"set it aside with `{reset_hint(home)}` and run the command again (the editions and the "
                         "warehouse are not affected)") from exc
    return instance


NO_COMPUTE_LOGS = {"module": "dagster._core.storage.noop_compute_log_manager", "class": "NoOpComputeLogManager"}


def _instance_without_log_mirroring(home: Path):
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


class _Progress:
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
            print(f"  built   {event.asset_key.to_user_string()}", flush=True)
        elif kind == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            if not data.passed:
                problems = data.metadata.get("problems")
                detail = f"\n{problems.value}" if problems is not None else ""
                print(f"  CHECK FAILED {data.asset_key.to_user_string()}:{data.check_name}{detail}", file=sys.stderr,
                      flush=True)
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


def run_assets(selection: list | None = None, changed: list[str] | None = None) -> int:
    """Materialise the selection (None = every materialisable asset) in-process after recording the changed
    files' hashes (None = all); one line per asset as it is built, a summary, an exit code. Runs whose process
    died are failed and their slots freed first; a slot held by a live run is waited for (REPORT_LOCK_TIMEOUT)."""
    from pipeline.defs.resources import WRITER_POOL
    from pipeline.defs.run_health import owner_tags, reap_dead_runs, wait_for_pool
    from pipeline.lib.warehouse.locking import lock_timeout

    start = time.perf_counter()
    definitions = _definitions()
    if selection is None:
        graph = definitions.resolve_asset_graph()
        selection = sorted((k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable), key=str)
    instance = _instance()
    for line in reap_dead_runs(instance, WRITER_POOL):
        print(line, file=sys.stderr)
    holders = wait_for_pool(instance, WRITER_POOL, lock_timeout())
    if holders:
        print(f"FAILED: the {WRITER_POOL} slot is still held by {', '.join(h.description for h in holders)} after "
              f"{lock_timeout():g} s (REPORT_LOCK_TIMEOUT); nothing was run", file=sys.stderr)
        return FAILED
    _observe_sources(instance, changed)
    progress = _Progress()
    latest = _latest_name()
    job = definitions.resolve_implicit_global_asset_job_def().with_logger_defs({"progress": progress.logger()})
    gc.freeze()  # definitions, modules and the instance live until exit: keep them out of every later collection
    print(f"running {len(selection)} asset(s)", flush=True)
    result = job.execute_in_process(instance=instance, raise_on_error=False, run_config={"loggers": {"progress": {}}},
                                    asset_selection=selection, tags=owner_tags())
    took = time.perf_counter() - start
    if result.success and not progress.failed:
        print(f"ok: {progress.built} asset(s) in {took:.1f}s; latest edition in {output_dir() / 'latest'}")
        return OK
    now = _latest_name()
    published = ("the last published edition was left as it was" if now == latest else
                 f"edition {Path(now or '').name} was published before it stopped")
    if progress.interrupted:
        print(f"interrupted after {took:.1f}s; {'nothing published' if now == latest else published}",
              file=sys.stderr)
        return INTERRUPTED
    print(f"FAILED in {took:.1f}s ({len(progress.failed)} problem(s)); {published}", file=sys.stderr)
    return FAILED


def _last_inputs() -> tuple[str | None, dict[str, str]]:
    from pipeline.lib.report.changes import latest_edition, read_json

    latest = latest_edition(output_dir())
    record = read_json(latest / "edition.json") if latest else None
    return (record["edition_id"], record["inputs"]) if record else (None, {})


def _edition_inputs_now() -> dict[str, str]:
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
        print("sources/manifest.yaml has problems; nothing was run and the last edition stays published:",
              file=sys.stderr)
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
        print(f"the warehouse {warehouse_path()} could not be read ({problem}); moved it to {moved.name} and "
              "rebuilding it from sources/", file=sys.stderr)
    with started_early():
        return run_assets()


def refresh() -> int:
    """Run only the ingest assets whose file changed since the last edition, and everything downstream."""
    from pipeline.lib.ingest.inputs import changed_inputs
    from pipeline.lib.publish.editions import verify_published
    from pipeline.lib.warehouse.state import warehouse_problem

    for line in verify_published(output_dir(), repair=True).repaired:
        print(f"repaired {line}")
    edition, old = _last_inputs()
    if edition is None:
        print("no published edition yet: building everything")
        return build()
    if warehouse_problem(warehouse_path()):
        return build()
    changed = changed_inputs(old, _edition_inputs_now())
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


def status() -> int:
    """Print sources with vintages and change marks, the last edition, and failing checks."""
    from pipeline.defs.resources import WRITER_POOL
    from pipeline.defs.run_health import reap_dead_runs, slot_holders
    from pipeline.lib.errors import SourceError
    from pipeline.lib.ingest.manifest import load_manifest
    from pipeline.lib.publish.editions import verify_published
    from pipeline.lib.warehouse.state import warehouse_problem

    if problem := warehouse_problem(warehouse_path()):
        print(f"the warehouse {warehouse_path()} cannot be read ({problem}); `reportctl build` rebuilds it from "
              "sources/ (the damaged file is kept beside it as *.corrupt-<time>)", file=sys.stderr)
        return FAILED
    instance = _instance()
    for line in reap_dead_runs(instance, WRITER_POOL):
        print(line)
    for holder in slot_holders(instance, WRITER_POOL):
        print(f"running: {holder.description} holds the {WRITER_POOL} slot")
    edition, old = _last_inputs()
    now = _edition_inputs_now()
    try:
        specs = load_manifest(sources_dir())
    except SourceError as exc:
        print(f"manifest: {exc}", file=sys.stderr)
        return FAILED
    published = verify_published(output_dir()).problems
    print(f"last edition: {edition or 'none'}" + (f" (needs repair, run `reportctl refresh`: {'; '.join(published)})"
                                                   if published else ""))
    print(f"{'source':42} {'vintage':10} {'status':11} {'sha256':12} changed")
    for s in specs:
        entry = f"entry:{s.id}"
        mark = ("new" if s.id not in old else "yes" if old[s.id] != now.get(s.id) else
                "manifest" if entry in old and old[entry] != now.get(entry) else "")
        print(f"{s.id:42} {s.published.isoformat():10} {s.status:11} {now.get(s.id, '')[:12]:12} {mark}")
    _print_datasets()
    problems = failing_checks()
    for p in problems:
        print(f"  failing check: {p}")
    print(f"{len(specs)} source(s); {len(problems)} failing check(s)")
    return FAILED if problems or published else OK


def _print_datasets() -> None:
    """Each dataset's vintages in publication order (the last one is the latest) and the numbers it feeds."""
    from pipeline.lib.report.facts import fact_specs
    from pipeline.lib.report.feeds import dataset_feeds
    from pipeline.lib.warehouse.core import loaded_tables
    from pipeline.lib.warehouse.locking import locked_connection

    if not warehouse_path().exists():
        return
    with locked_connection(warehouse_path(), read_only=True) as con:
        if not {"sources", "observations"} <= loaded_tables(con, "core"):
            return
        feeds = dataset_feeds(con, fact_specs())
    print("datasets (vintages by publication date; the report uses the latest for each year it covers):")
    for d in feeds:
        vintages = ", ".join(f"{v.published} {v.file}" + (" (latest)" if i == len(d.vintages) - 1 and
                                                           len(d.vintages) > 1 else "")
                             for i, v in enumerate(d.vintages))
        feeds_text = f"feeds {len(d.numbers)} number(s): {', '.join(d.numbers)}" if d.numbers else \
            "no number in the prose (charts, tables, forecasts or conversions)"
        print(f"  {d.dataset}: {vintages}; {feeds_text}")


def failing_checks() -> list[str]:
    """Run the warehouse checks read-only (empty if there is no warehouse yet)."""
    from pipeline.lib.errors import SourceError
    from pipeline.lib.ingest.manifest import load_manifest
    from pipeline.lib.warehouse import checks
    from pipeline.lib.warehouse.core import loaded_tables, sources_dir_problems
    from pipeline.lib.warehouse.locking import locked_connection

    try:
        problems = [str(p) for p in sources_dir_problems(sources_dir(), load_manifest(sources_dir()))]
    except SourceError as exc:
        problems = [str(p) for p in exc.problems]
    if not warehouse_path().exists():
        return problems + ["no warehouse yet: run `reportctl build`"]
    with locked_connection(warehouse_path(), read_only=True) as con:
        for table in sorted(loaded_tables(con, "tidy")):
            for name, fn in checks.TABLE_CHECKS.items():
                problems += [f"{table}:{name}: {p}" for p in fn(con, table)]
        if "observations" in loaded_tables(con, "core"):
            for fn in checks.CORE_CHECKS:
                problems += [f"core:{fn.__name__}: {p}" for p in fn(con)]
        if "headlines" in loaded_tables(con, "forecast"):
            from pipeline.lib.forecast.engine import failed_claims

            cur = con.execute("SELECT * FROM forecast.headlines")
            names = [d[0] for d in cur.description]
            problems += [f"forecast:published_claims_hold: {m}"
                         for m in failed_claims([dict(zip(names, r, strict=True)) for r in cur.fetchall()])]
    return problems


def add_source(file: Path, entry_file: Path | None) -> int:
    """Validate FILE (a new table, or a corrected version of a listed one) and move it into sources/."""
    from pipeline.services.intake import Refused
    from pipeline.services.intake import add_source as take_in

    try:
        added = take_in(file, entry_file, sources_dir())
    except Refused as exc:
        print(f"add-source: {file} was NOT added (sources/ is unchanged); fix these first:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return FAILED
    print(f"added sources/{added.file}" + (f" (manifest entry {added.entry_id!r})" if added.entry_id else "") +
          "; run `reportctl refresh` (or let the sensor pick it up) to publish a new edition")
    return OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    # Dagster, pandas and matplotlib allocate many long-lived objects: collect young garbage less often (measured
    # 0.3-0.4 s less per run, docs/benchmarks.md); memory stays bounded by the 50,000-object first generation.
    gc.set_threshold(50_000, 20, 100)
    # Known and accepted (the sources are observable source assets); not something an analyst can act on.
    warnings.filterwarnings("ignore", message="Function `observable_source_asset` is currently in beta")
    parser = argparse.ArgumentParser(prog="reportctl", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="build and publish everything in-process")
    sub.add_parser("refresh", help="re-run only what depends on changed files")
    sub.add_parser("status", help="sources, last edition, failing checks")
    add = sub.add_parser("add-source", help="validate a table and copy it into sources/")
    add.add_argument("file", type=Path)
    add.add_argument("--entry", type=Path, help="YAML file holding the table's manifest entry (new tables)")
    ui = sub.add_parser("ui", help="start the Dagster UI on localhost")
    ui.add_argument("--port", default="3000")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return USAGE if exc.code else OK
    latest = _latest_name()
    try:
        return _run(args)
    except KeyboardInterrupt:
        now = _latest_name()
        print("interrupted, nothing published" if now == latest else f"interrupted after publishing edition {now}",
              file=sys.stderr)
        return INTERRUPTED
    except StateError as exc:
        print(f"reportctl {args.command}: {exc}", file=sys.stderr)
        return FAILED
    except (OSError, LockTimeout) as exc:
        print(f"reportctl {args.command}: {exc}; nothing was published", file=sys.stderr)
        return FAILED
    finally:
        gc.freeze()  # the interpreter's final collection over everything still alive took ~0.7 s at exit


def _latest_name() -> str | None:
    link = output_dir() / "latest"
    return os.readlink(link) if link.is_symlink() else None


def _run(args: argparse.Namespace) -> int:
    """Dispatch a parsed command; return its exit code."""
    _definitions.cache_clear()  # both are "once per command", also when main() is called twice in one process
    _source_hashes.cache_clear()
    if args.command in ("build", "refresh") and not manifest_ok():
        return FAILED
    if args.command == "build":
        return build()
    if args.command == "refresh":
        return refresh()
    if args.command == "status":
        return status()
    if args.command == "add-source":
        return add_source(args.file, args.entry)
    return ui(args.port)


STOP_GRACE_S = 5.0


def ui(port: str) -> int:
    """`dagster dev` (webserver, daemon, code server) as a child in its own process group. Ctrl-C or SIGTERM
    stop the whole group: SIGINT first, then SIGKILL after STOP_GRACE_S (Dagster alone took 15-25 s to exit)."""
    import signal
    import subprocess
    import threading

    _instance()
    dagster = str(Path(sys.executable).with_name("dagster"))  # the venv's, even when the venv is not activated
    proc = subprocess.Popen([dagster, "dev", "-m", "pipeline.definitions", "-h", "127.0.0.1", "-p", port],
                            start_new_session=True)
    print(f"Dagster UI on http://127.0.0.1:{port} (process group {proc.pid}); Ctrl-C stops it", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while proc.poll() is None and not stop.wait(0.5):
        pass
    if proc.poll() is None or stop.is_set():
        print("stopping the Dagster UI and daemon", flush=True)
        for signum, wait in ((signal.SIGINT, STOP_GRACE_S), (signal.SIGKILL, 2.0)):
            try:
                os.killpg(proc.pid, signum)
            except ProcessLookupError:
                break
            try:
                proc.wait(wait)
                if signum == signal.SIGINT:
                    os.killpg(proc.pid, signal.SIGKILL)  # the group's other processes, if any linger
            except (subprocess.TimeoutExpired, ProcessLookupError):
                continue
            break
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:  # until the kernel has removed every process of the group
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
    return OK if stop.is_set() else proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
