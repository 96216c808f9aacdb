"""The pipeline's own state files, checked before a command relies on them: the warehouse (DuckDB) and Dagster's
run history (`dagster_home`). A damaged one is named with what to do; the warehouse can always be rebuilt from
sources/, so `build` moves a damaged file aside (`<file>.corrupt-<time>`, kept for inspection) and rebuilds it.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb


def warehouse_problem(path: Path) -> str | None:
    """Why the warehouse file cannot be read (None if it can, or if there is none yet)."""
    if not path.exists():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
        try:
            con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()
        finally:
            con.close()
    except duckdb.Error as exc:
        message = str(exc).strip().splitlines()[0]
        if "lock" in message.lower() and "conflicting" in message.lower():
            return None  # another process is writing it: busy, not damaged
        return f"{type(exc).__name__}: {message}"
    return None


def quarantine(path: Path) -> Path:
    """Move a damaged file aside as `<file>.corrupt-<UTC time>` (and its WAL with it); returns the new path."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    os.replace(path, target)
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        os.replace(wal, target.with_name(target.name + ".wal"))
    return target


def reset_hint(home: Path) -> str:
    """The command that sets a broken Dagster home aside (run history is lost; editions and warehouse are not)."""
    return f"mv {home} {home}.broken"
