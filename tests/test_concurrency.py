"""Two processes writing the warehouse at once neither fail with a lock error nor corrupt the database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline.config import PROJECT_ROOT
from pipeline.lib.warehouse.locking import locked_connection

WRITER = """
import sys, pathlib
from pipeline.lib.warehouse.locking import locked_connection
from pipeline.lib.warehouse.build import build_warehouse
with locked_connection(sys.argv[1]) as con:
    build_warehouse(con, pathlib.Path(sys.argv[2]))
print("ok")
"""


def test_two_writers_queue_on_the_lock(sources_copy: Path, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db), str(sources_copy)],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    with locked_connection(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM core.observations").fetchone()[0] > 100


def test_without_the_lock_a_second_writer_fails(tmp_path: Path) -> None:
    """The control: DuckDB itself refuses a second writer process, which is what the lock prevents."""
    db = tmp_path / "w.duckdb"
    holder = duckdb.connect(str(db))
    try:
        proc = subprocess.run(
            [sys.executable, "-c", f"import duckdb; duckdb.connect({str(db)!r})"], capture_output=True, text=True
        )
    finally:
        holder.close()
    assert proc.returncode != 0 and "lock" in proc.stderr.lower()


@pytest.mark.parametrize("read_only", [False, True])
def test_locked_connection_closes_and_releases(tmp_path: Path, read_only: bool) -> None:
    db = tmp_path / "w.duckdb"
    duckdb.connect(str(db)).close()
    with locked_connection(db, read_only=read_only) as con:
        con.execute("SELECT 1")
    with locked_connection(db) as con:
        assert con.execute("SELECT 42").fetchone() == (42,)
