"""`reportctl`: the analysts' command line (build the report in-process, open the UI)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from pipeline.config import output_dir


def _instance():
    import dagster as dg

    home = Path(os.environ.setdefault("DAGSTER_HOME", str(output_dir() / "dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    return dg.DagsterInstance.get()


def build() -> int:
    """Materialise every asset in-process; print one line per step and a summary. Exit 1 on any failure."""
    from pipeline.definitions import defs

    start = time.perf_counter()
    job = defs().resolve_implicit_global_asset_job_def()
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    result = job.execute_in_process(instance=_instance(), raise_on_error=False, run_config=quiet)
    failed = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            print(f"  built   {event.asset_key.to_user_string()}")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            if not data.passed:
                problems = data.metadata.get("problems")
                detail = f"\n{problems.value}" if problems is not None else ""
                print(f"  CHECK FAILED {data.asset_key.to_user_string()}:{data.check_name}{detail}", file=sys.stderr)
                failed.append(data.check_name)
        elif event.event_type_value == "STEP_FAILURE":
            data = event.event_specific_data
            if data.user_failure_data is not None and data.user_failure_data.description:
                msg = data.user_failure_data.description
            else:
                err = data.error
                while err is not None and err.cause is not None and "StepExecutionError" in err.cls_name:
                    err = err.cause
                msg = f"{err.cls_name}: {err.message.strip()}" if err else "unknown error"
            if "blocking asset check failed" not in msg:
                print(f"  FAILED  {event.step_key}:\n{msg}", file=sys.stderr)
            failed.append(event.step_key)
    took = time.perf_counter() - start
    if result.success and not failed:
        print(f"build ok in {took:.1f}s: PDFs in {output_dir()}")
        return 0
    print(f"build FAILED in {took:.1f}s ({len(failed)} problem(s)); the last good PDFs were left as they were",
          file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = argparse.ArgumentParser(prog="reportctl", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="ingest, validate, forecast and render everything in-process")
    ui = sub.add_parser("ui", help="start the Dagster UI on localhost")
    ui.add_argument("--port", default="3000")
    args = parser.parse_args(argv)
    if args.command == "build":
        return build()
    if args.command == "ui":
        _instance()
        os.execvp("dagster", ["dagster", "dev", "-m", "pipeline.definitions", "-p", args.port])
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
