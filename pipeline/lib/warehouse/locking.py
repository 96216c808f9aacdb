"""Cross-process locks, each a file lock that says who holds it.

- The warehouse: DuckDB allows a single read-write process per database file; a second process fails with a lock
  error (dagster issues 16248, 18746). Every connection the pipeline opens takes `<warehouse>.lock` first, so a
  sensor-triggered run and a manual `reportctl build` queue behind each other instead of failing.
- The report: one run at a time renders and publishes (`output/.report.lock`), so two runs never share the
  build folder or interleave their publishes.

A holder writes its pid, host, purpose and start time beside the lock (`<lock>.owner`); a waiter prints who it
waits for and gives up after REPORT_LOCK_TIMEOUT seconds (default 1800) with a message naming the holder. The
lock itself is an OS lock (fcntl via filelock): a holder that dies releases it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

from pipeline.config import settings


class LockTimeout(RuntimeError):
    """A lock stayed held by another process for longer than the timeout."""


def lock_timeout() -> float:
    """REPORT_LOCK_TIMEOUT in seconds (default 1800, `pipeline.config`)."""
    return float(settings().lock_timeout_s)


def lock_path(database: Path | str) -> Path:
    """The lock file of a database file."""
    return Path(f"{database}.lock")


def _owner_path(lock: Path) -> Path:
    return lock.with_name(lock.name + ".owner")


def holder(lock: Path) -> str:
    """Who holds (or last held) a lock, as recorded by its holder."""
    try:
        info = json.loads(_owner_path(lock).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "another process"
    return f"pid {info.get('pid')} on {info.get('host')} ({info.get('purpose')}, since {info.get('since')})"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def held(
    lock: Path, purpose: str, timeout: float | None = None, on_wait: Callable[[str], None] = _say
) -> Iterator[None]:
    """Hold `lock` for `purpose`; if another process holds it, say who and wait up to `timeout` seconds
    (REPORT_LOCK_TIMEOUT), then raise LockTimeout naming the holder."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    file_lock = FileLock(str(lock))
    wait = lock_timeout() if timeout is None else timeout
    try:
        file_lock.acquire(timeout=0)
    except Timeout:
        on_wait(f"waiting for {lock.name}: held by {holder(lock)} (up to {wait:g} s, REPORT_LOCK_TIMEOUT)")
        try:
            file_lock.acquire(timeout=wait)
        except Timeout as exc:
            raise LockTimeout(
                f"{lock} is still held by {holder(lock)} after {wait:g} s; if that process is gone, "
                "the lock frees itself; otherwise wait for it or raise REPORT_LOCK_TIMEOUT"
            ) from exc
    try:
        _owner_path(lock).write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "purpose": purpose,
                    "since": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
                }
            ),
            encoding="utf-8",
        )
        yield
    finally:
        file_lock.release()


@contextmanager
def warehouse_lock(database: Path | str, timeout: float | None = None) -> Iterator[None]:
    """Hold the warehouse's writer lock (waiting up to `timeout` seconds, default REPORT_LOCK_TIMEOUT)."""
    with held(lock_path(database), "warehouse writer", timeout):
        yield


@contextmanager
def locked_connection(database: Path | str, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse under the lock; closes the connection before releasing the lock."""
    from pipeline.lib.db import duckdb_config

    with warehouse_lock(database):
        con = duckdb.connect(str(database), read_only=read_only, config=duckdb_config())
        try:
            yield con
        finally:
            con.close()
