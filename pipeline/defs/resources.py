"""Resources shared by every layer: the DuckDB warehouse (path from REPORT_WAREHOUSE), opened under a lock, with a
memory limit (REPORT_DUCKDB_MEMORY_LIMIT, default 700MB); the run's warm render workers (charts and PDFs)."""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from pipeline.config import output_dir, warehouse_path
from pipeline.defs.run_health import record_owner
from pipeline.lib.db import duckdb_config
from pipeline.lib.report.workers import RenderWorkers, started_earlier
from pipeline.lib.warehouse.locking import held, warehouse_lock

WRITER_POOL = "duckdb_writer"
REPORT_LOCK = ".report.lock"


class LockedDuckDBResource(DuckDBResource):
    """dagster-duckdb's resource, plus the project's cross-process writer lock around every connection."""

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Tag the run with this process (`run_health`), so that a slot it holds is freed if the process dies."""
        super().setup_for_execution(context)
        if context.instance is not None and context.run is not None:
            record_owner(context.instance, context.run.run_id)

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with warehouse_lock(self.database), super().get_connection() as con:
            yield con


class RenderWorkersResource(dg.ConfigurableResource):
    """Render worker processes for the run (`pipeline.lib.report.workers`): started when a run that draws charts or
    PDFs starts, so they import matplotlib and WeasyPrint while the warehouse steps run; stopped when it ends.
    `count` 0 = REPORT_RENDER_WORKERS or the default."""

    count: int = 0
    _workers: RenderWorkers | None = PrivateAttr(default=None)
    _owned: bool = PrivateAttr(default=False)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        earlier = started_earlier()  # the CLI's, already warm
        self._owned = earlier is None
        self._workers = RenderWorkers(self.count or None) if earlier is None else earlier

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._workers is not None and self._owned:
            self._workers.close()
        self._workers = None

    @property
    def workers(self) -> RenderWorkers:
        """The started workers (only inside a run)."""
        if self._workers is None:
            raise RuntimeError("render workers are started by the run; none in this context")
        return self._workers


class ReportSlotResource(dg.ConfigurableResource):
    """One run at a time renders and publishes: the report lock (`output/.report.lock`, see
    `pipeline.lib.warehouse.locking`) is taken when a run that builds report assets sets up its resources and
    released when it ends, so two runs never share `output/build/` or interleave their steps from context to
    publish. A waiting run prints who holds it and gives up after REPORT_LOCK_TIMEOUT. The report steps are not
    in the writer pool: they never hold a DuckDB slot while they wait here."""

    _stack: ExitStack | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._stack = ExitStack()
        run_id = context.run.run_id if context.run is not None else "outside a run"
        self._stack.enter_context(held(output_dir() / REPORT_LOCK, f"report of run {run_id}"))

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._stack is not None:
            self._stack.close()
        self._stack = None


def warehouse_resource() -> LockedDuckDBResource:
    """The DuckDB resource; the file is opened only when an asset asks for a connection. Its DuckDB settings
    (a memory limit, REPORT_DUCKDB_MEMORY_LIMIT) come from `duckdb_config`."""
    return LockedDuckDBResource(database=str(warehouse_path()), connection_config=duckdb_config())


@dg.definitions
def resources() -> dg.Definitions:
    """Bind the warehouse resource under the name `duckdb` and the render workers under `render`; run steps in one
    process (a step per process costs ~1 s of start-up each, and DuckDB allows a single writer anyway)."""
    return dg.Definitions(
        resources={
            "duckdb": warehouse_resource(),
            "render": RenderWorkersResource(),
            "report_slot": ReportSlotResource(),
        },
        executor=dg.in_process_executor,
    )
