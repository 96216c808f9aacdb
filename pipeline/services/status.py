"""`reportctl status`: sources, datasets and their vintages, the last edition, runs and failing checks."""

from __future__ import annotations

import sys

from pipeline.config import output_dir, sources_dir, warehouse_path
from pipeline.services.instance import open_instance
from pipeline.services.runs import FAILED, OK, edition_inputs_now, last_inputs


def status() -> int:
    """Print sources with vintages and change marks, the last edition, and failing checks."""
    from pipeline.defs.resources import WRITER_POOL
    from pipeline.defs.run_health import reap_dead_runs, slot_holders
    from pipeline.lib.errors import SourceError
    from pipeline.lib.ingest.manifest import load_manifest
    from pipeline.lib.publish.editions import verify_published
    from pipeline.lib.warehouse.state import warehouse_problem

    if problem := warehouse_problem(warehouse_path()):
        print(
            f"the warehouse {warehouse_path()} cannot be read ({problem}); `reportctl build` rebuilds it from "
            "sources/ (the damaged file is kept beside it as *.corrupt-<time>)",
            file=sys.stderr,
        )
        return FAILED
    instance = open_instance()
    for line in reap_dead_runs(instance, WRITER_POOL):
        print(line)
    for holder in slot_holders(instance, WRITER_POOL):
        print(f"running: {holder.description} holds the {WRITER_POOL} slot")
    edition, old = last_inputs()
    now = edition_inputs_now()
    try:
        specs = load_manifest(sources_dir())
    except SourceError as exc:
        print(f"manifest: {exc}", file=sys.stderr)
        return FAILED
    published = verify_published(output_dir()).problems
    print(
        f"last edition: {edition or 'none'}"
        + (f" (needs repair, run `reportctl refresh`: {'; '.join(published)})" if published else "")
    )
    print(f"{'source':42} {'vintage':10} {'status':11} {'sha256':12} changed")
    for s in specs:
        entry = f"entry:{s.id}"
        mark = (
            "new"
            if s.id not in old
            else "yes"
            if old[s.id] != now.get(s.id)
            else "manifest"
            if entry in old and old[entry] != now.get(entry)
            else ""
        )
        print(f"{s.id:42} {s.published.isoformat():10} {s.status:11} {now.get(s.id, '')[:12]:12} {mark}")
    _print_datasets()
    problems = failing_checks()
    for p in problems:
        print(f"  failing check: {p}")
    print(f"{len(specs)} source(s); {len(problems)} failing check(s)")
    return FAILED if problems or published else OK


def _print_datasets() -> None:
    """Each dataset's vintages in publication order (the last one is the latest) and the numbers it feeds."""
    from pipeline.lib.report.feeds import dataset_feeds
    from pipeline.lib.report.pages import prose_queries
    from pipeline.lib.warehouse.core import loaded_tables
    from pipeline.lib.warehouse.locking import locked_connection

    if not warehouse_path().exists():
        return
    with locked_connection(warehouse_path(), read_only=True) as con:
        if not {"sources", "observations"} <= loaded_tables(con, "core"):
            return
        feeds = dataset_feeds(con, prose_queries())
    print("datasets (vintages by publication date; the report uses the latest for each year it covers):")
    for d in feeds:
        vintages = ", ".join(
            f"{v.published} {v.file}" + (" (latest)" if i == len(d.vintages) - 1 and len(d.vintages) > 1 else "")
            for i, v in enumerate(d.vintages)
        )
        feeds_text = (
            f"feeds {len(d.numbers)} number(s): {', '.join(d.numbers)}"
            if d.numbers
            else "no number in the prose (charts, tables, forecasts or conversions)"
        )
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
        if "violations" in loaded_tables(con, "forecast"):
            problems += [
                f"forecast:forecasts_plausible: {m}"
                for (m,) in con.execute("SELECT message FROM forecast.violations ORDER BY bound_id").fetchall()
            ]
    return problems
