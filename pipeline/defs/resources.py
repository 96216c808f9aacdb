"""Resources shared by every layer: the DuckDB warehouse, opened under a lock, with a memory limit; the run's warm
render workers (charts and PDFs); the report slot.

Their settings come from `pipeline.config.settings()` (checked once, one error naming each bad variable). A setting
whose variable is set is handed over as a `dg.EnvVar` field, so the Dagster UI shows which variable it comes
from; an unset one as its default value."""

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field, PrivateAttr

from pipeline import config
from pipeline.defs.run_health import record_owner
from pipeline.lib.db import connection_config
from pipeline.lib.report.workers import RenderWorkers, started_earlier
from pipeline.lib.warehouse.locking import held, warehouse_lock

WRITER_POOL = "duckdb_writer"
REPORT_LOCK = ".report.lock"


class LockedDuckDBResource(DuckDBResource):
    """dagster-duckdb's resource, plus the project's cross-process writer lock around every connection and the
    pipeline's DuckDB limits (added to `connection_config`)."""

    memory_limit: str = Field(
        default=config.DEFAULT_MEMORY_LIMIT, description="DuckDB's buffer pool (REPORT_DUCKDB_MEMORY_LIMIT)"
    )
    threads: int | None = Field(default=None, description="DuckDB threads, None = one per core (REPORT_DUCKDB_THREADS)")
    lock_timeout_s: int = Field(
        default=config.DEFAULT_LOCK_TIMEOUT_S, description="seconds to wait for the writer lock (REPORT_LOCK_TIMEOUT)"
    )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Tag the run with this process (`run_health`), so that a slot it holds is freed if the process dies."""
        super().setup_for_execution(context)
        if context.instance is not None and context.run is not None:
            record_owner(context.instance, context.run.run_id)

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        limits = connection_config(self.memory_limit, self.threads)
        with (
            warehouse_lock(self.database, self.lock_timeout_s),
            self._with_config({**limits, **self.connection_config}).base_connection() as con,
        ):
            yield con

    def _with_config(self, connection_config: dict) -> "LockedDuckDBResource":
        return self.model_copy(update={"connection_config": connection_config})

    @contextmanager
    def base_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """dagster-duckdb's connection (no lock)."""
        with super().get_connection() as con:
            yield con


class RenderWorkersResource(dg.ConfigurableResource):
    """Render worker processes for the run (`pipeline.lib.report.workers`): started when a run that draws charts or
    PDFs starts, so they import matplotlib and WeasyPrint while the warehouse steps run; stopped when it ends.
    `count` 0 = the default (`workers.default_count`)."""

    count: int = Field(default=0, description="render processes, 0 = CPUs, 2 to 4 (REPORT_RENDER_WORKERS)")
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

    output_dir: str = Field(description="folder of generated files, holds the lock (REPORT_OUTPUT_DIR)")
    lock_timeout_s: int = Field(
        default=config.DEFAULT_LOCK_TIMEOUT_S, description="seconds to wait for the report lock (REPORT_LOCK_TIMEOUT)"
    )
    _stack: ExitStack | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._stack = ExitStack()
        run_id = context.run.run_id if context.run is not None else "outside a run"
        lock = Path(self.output_dir) / REPORT_LOCK
        self._stack.enter_context(held(lock, f"report of run {run_id}", float(self.lock_timeout_s)))

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._stack is not None:
            self._stack.close()
        self._stack = None


def _from_env(variable: str, value: object, as_int: bool = False) -> object:
    """`dg.EnvVar(variable)` when the variable is set (the UI then names it), else the settings' value."""
    if not os.environ.get(variable):
        return value
    return dg.EnvVar.int(variable) if as_int else dg.EnvVar(variable)


def warehouse_resource(settings: config.Settings | None = None) -> LockedDuckDBResource:
    """The DuckDB resource; the file is opened only when an asset asks for a connection."""
    settings = settings or config.settings()
    return LockedDuckDBResource(
        database=_from_env(config.WAREHOUSE, str(settings.warehouse)),
        memory_limit=_from_env(config.DUCKDB_MEMORY_LIMIT, settings.duckdb_memory_limit),
        threads=_from_env(config.DUCKDB_THREADS, settings.duckdb_threads, as_int=True),
        lock_timeout_s=_from_env(config.LOCK_TIMEOUT, settings.lock_timeout_s, as_int=True),
    )


@dg.definitions
def resources() -> dg.Definitions:
    """Bind the warehouse resource under the name `duckdb` and the render workers under `render`; run steps in one
    process (a step per process costs ~1 s of start-up each, and DuckDB allows a single writer anyway). Reading
    the settings here checks them: a bad value stops the definitions from loading, naming the variable."""
    settings = config.settings()
    return dg.Definitions(
        resources={
            "duckdb": warehouse_resource(settings),
            "render": RenderWorkersResource(count=_from_env(config.RENDER_WORKERS, 0, as_int=True)),
            "report_slot": ReportSlotResource(
                output_dir=_from_env(config.OUTPUT_DIR, str(settings.output_dir)),
                lock_timeout_s=_from_env(config.LOCK_TIMEOUT, settings.lock_timeout_s, as_int=True),
            ),
        },
        executor=dg.in_process_executor,
    )
