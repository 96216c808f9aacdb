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
import gc
import sys
from pathlib import Path

from pipeline.config import SettingsError, settings, sources_dir
from pipeline.lib.warehouse.locking import LockTimeout
from pipeline.services.instance import StateError
from pipeline.services.runs import FAILED, INTERRUPTED, OK, build, latest_name, manifest_ok, refresh, reset_caches
from pipeline.services.status import status
from pipeline.services.ui import ui

USAGE = 2


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
    print(
        f"added sources/{added.file}"
        + (f" (manifest entry {added.entry_id!r})" if added.entry_id else "")
        + "; run `reportctl refresh` (or let the sensor pick it up) to publish a new edition"
    )
    return OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    # Dagster, pandas and matplotlib allocate many long-lived objects: collect young garbage less often (measured
    # 0.3-0.4 s less per run, docs/benchmarks.md); memory stays bounded by the 50,000-object first generation.
    gc.set_threshold(50_000, 20, 100)
    parser = argparse.ArgumentParser(
        prog="reportctl", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
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
    try:
        settings()  # a bad environment variable: one message naming it, before anything runs
    except SettingsError as exc:
        print(f"reportctl {args.command}: {exc}", file=sys.stderr)
        return FAILED
    latest = latest_name()
    try:
        return _run(args)
    except KeyboardInterrupt:
        now = latest_name()
        print(
            "interrupted, nothing published" if now == latest else f"interrupted after publishing edition {now}",
            file=sys.stderr,
        )
        return INTERRUPTED
    except StateError as exc:
        print(f"reportctl {args.command}: {exc}", file=sys.stderr)
        return FAILED
    except (OSError, LockTimeout) as exc:
        print(f"reportctl {args.command}: {exc}; nothing was published", file=sys.stderr)
        return FAILED
    finally:
        gc.freeze()  # the interpreter's final collection over everything still alive took ~0.7 s at exit


def _run(args: argparse.Namespace) -> int:
    """Dispatch a parsed command; return its exit code."""
    reset_caches()
    if args.command in ("build", "refresh") and not manifest_ok():
        return FAILED
    commands = {
        "build": build,
        "refresh": refresh,
        "status": status,
        "add-source": lambda: add_source(args.file, args.entry),
        "ui": lambda: ui(args.port),
    }
    return commands[args.command]()


if __name__ == "__main__":
    raise SystemExit(main())
