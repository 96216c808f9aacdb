"""Render worker processes: matplotlib and WeasyPrint already imported, so drawing charts and laying out the
editions does not start from a cold interpreter.

A run starts its workers as soon as it starts (the Dagster resource `render` in `pipeline/defs/resources.py`):
they import their libraries (~1.1 s each) on the core the warehouse steps leave idle, and the chart and PDF steps
then hand them work. Outside a run, `draw_charts` and `build_pdfs` start workers for the call when it pays.

Why not `multiprocessing`: its "spawn" start re-imports the parent's `__main__` in every child (the Dagster
command line when a run is launched by the daemon), and "fork" is unsafe in a process with threads. A worker is a
plain `python -m pipeline.lib.report.workers` child that reads requests from its stdin and answers on its stdout,
one length-prefixed pickle frame each; its own prints and warnings go to a log file, quoted if it dies.
Its arguments name what it prepares for at start: `python -m pipeline.lib.report.workers charts pdf`.

    REPORT_RENDER_WORKERS   number of workers (default: the number of CPUs, at least 2, at most 4)
"""

from __future__ import annotations

import importlib
import os
import pickle
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from pipeline.config import settings

_HEADER = struct.Struct("!Q")
# What a worker can prepare for as soon as it starts: a name → the function that warms it up. Requests and
# warm-ups name their function (`module:function`) so that this module never imports the code it runs.
WARM_UP_TARGETS = {"charts": "pipeline.lib.report.charts:warm_up", "pdf": "pipeline.lib.report.build:warm_up"}
WARM_UPS = tuple(WARM_UP_TARGETS)
DRAW = "pipeline.lib.report.charts:draw_jobs"
# Workers run below the run's own priority: while they warm up, the run's process (Dagster, DuckDB) keeps its
# core; when they draw or lay out, the run's process is only waiting for them. Measured on 2 cores: a one-table
# refresh 0.4-0.5 s faster than at equal priority.
NICENESS = 10


class WorkerDied(RuntimeError):
    """A render worker exited before answering (crash, out of memory, killed)."""


def default_count() -> int:
    """REPORT_RENDER_WORKERS, else the number of CPUs bounded to 2..4 (the two editions always run side by side)."""
    wanted = settings().render_workers
    if wanted:
        return wanted
    return min(max(2, os.cpu_count() or 1), 4)


def _write_frame(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read_frame(stream: IO[bytes]) -> Any:
    """The next object, or None at the end of the stream."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)


class _Worker:
    """One child process and its pipes; `call` sends a request and waits for the answer."""

    def __init__(self, warm: tuple[str, ...]) -> None:
        self._log = tempfile.TemporaryFile(prefix="render-worker-")  # noqa: SIM115 - lives as long as the worker
        # The worker's own temp folder (its TMPDIR), removed when it is closed: WeasyPrint keeps the fonts of
        # each layout in a `weasyprint-*` folder it only removes when the layout is garbage-collected.
        self.tmp = Path(tempfile.mkdtemp(prefix="render-worker-"))
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline.lib.report.workers", *warm],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env={**os.environ, "TMPDIR": str(self.tmp)},
        )
        self._lock = threading.Lock()

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self._proc.pid

    def call(self, op: str, args: tuple) -> Any:
        with self._lock:
            try:
                _write_frame(self._proc.stdin, (op, args))
                reply = _read_frame(self._proc.stdout)
            except OSError:  # a broken pipe: the worker is gone
                reply = None
        if reply is None:
            raise WorkerDied(
                f"render worker {self._proc.pid} exited (code {self._proc.poll()}) during {op!r}:\n{self._log_tail()}"
            )
        status, value, trace = reply
        if status == "error":
            raise value from RuntimeError(f"in render worker {self._proc.pid}:\n{trace}")
        return value

    def _log_tail(self, limit: int = 4000) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-limit:].strip()

    def close(self, timeout: float = 10.0) -> None:
        try:
            self._proc.stdin.close()
            self._proc.wait(timeout)
        except (OSError, subprocess.TimeoutExpired):
            self._proc.kill()
            self._proc.wait()
        finally:
            self._proc.stdout.close()
            self._log.close()
            shutil.rmtree(self.tmp, ignore_errors=True)


_shared: list[RenderWorkers] = []


@contextmanager
def started_early(count: int | None = None) -> Iterator[RenderWorkers]:
    """Start workers now for a run that will begin later in this process (the CLI starts them before importing
    Dagster, so they warm up while it loads); the run's `render` resource takes them instead of starting its own.
    Closed when the block ends."""
    workers = RenderWorkers(count)
    _shared.append(workers)
    try:
        yield workers
    finally:
        _shared.remove(workers)
        workers.close()


def started_earlier() -> RenderWorkers | None:
    """The workers of the enclosing `started_early` block, if any."""
    return _shared[-1] if _shared else None


class RenderWorkers:
    """A few warm render processes. `run` spreads requests over them (round robin, one thread per worker) and
    returns the answers in order; an error in a worker is raised here with the worker's traceback as its cause."""

    def __init__(self, count: int | None = None, warm: tuple[str, ...] = WARM_UPS) -> None:
        """Start `count` workers (None: `default_count()`) that prepare for `warm` ("charts", "pdf") at once."""
        self._workers = [_Worker(warm) for _ in range(count or default_count())]

    def __len__(self) -> int:
        return len(self._workers)

    @property
    def pids(self) -> list[int]:
        """Process ids of the workers."""
        return [worker.pid for worker in self._workers]

    def run(self, requests: list[tuple[str, tuple]]) -> list[Any]:
        """Answers to `requests` ((op, args) pairs), computed in parallel across the workers."""
        if not self._workers:
            raise RuntimeError("the render workers are closed")
        lanes = [list(range(i, len(requests), len(self._workers))) for i in range(len(self._workers))]
        answers: list[Any] = [None] * len(requests)

        def work(lane: int) -> None:
            for index in lanes[lane]:
                answers[index] = self._workers[lane].call(*requests[index])

        with ThreadPoolExecutor(len(self._workers)) as pool:
            for future in [pool.submit(work, lane) for lane in range(len(lanes)) if lanes[lane]]:
                future.result()
        return answers

    def draw(self, jobs: list[tuple[str, Any, str, str]]) -> None:
        """Draw chart jobs (figure id, data, lang, PNG path), split evenly over the workers."""
        count = min(len(self._workers), len(jobs))
        self.run([(DRAW, (jobs[i::count],)) for i in range(count)])

    def close(self) -> None:
        """Stop every worker (they exit when their stdin closes)."""
        for worker in self._workers:
            worker.close()
        self._workers = []

    def __enter__(self) -> RenderWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- the worker side -------------------------------------------------------------------------------------------


def _resolve(target: str) -> Callable[..., Any]:
    """`package.module:function` → the function (imported in this worker on first use)."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _portable(exc: BaseException) -> BaseException:
    """The exception itself if it survives pickling, else a RuntimeError with its type and message."""
    try:
        return pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - any pickling failure
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def serve(warm: list[str]) -> None:
    """Worker loop: answer requests from stdin until it closes. Stdout is kept for the answers; anything else
    written to it goes to stderr (the log file). Runs at `NICENESS`."""
    os.nice(NICENESS)
    # Ctrl-C reaches the whole process group: the parent reports the interrupt and closes our stdin, which ends
    # this loop; a KeyboardInterrupt here would only print a second traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    requests = sys.stdin.buffer
    for name in warm:  # what a cold start would otherwise pay inside the step
        _resolve(WARM_UP_TARGETS[name])()
    while (request := _read_frame(requests)) is not None:
        op, args = request
        try:
            reply = ("ok", _resolve(op)(*args), "")
        except Exception as exc:  # noqa: BLE001 - every error goes back to the caller
            reply = ("error", _portable(exc), traceback.format_exc())
        _write_frame(answers, reply)
    answers.close()
    os._exit(0)  # skip the interpreter's teardown of matplotlib and WeasyPrint (~0.3 s): nothing is left to flush


if __name__ == "__main__":
    serve(sys.argv[1:])
