"""Versions Dagster compares to decide what is unsynced: a `code_version` per asset (a hash of the code that
computes it) and content-hash `DataVersion`s of warehouse tables, so re-running with identical data and code
leaves everything downstream in sync."""

import hashlib
from pathlib import Path

import dagster as dg
import duckdb

from pipeline.lib.db import ident

PIPELINE = Path(__file__).resolve().parents[1]


def code_version(*parts: str, data: tuple[Path, ...] = ()) -> str:
    """sha256 (16 hex) of the Python files under each part (a module or package path relative to pipeline/), and
    of every file under each path of `data` (folders or files the code reads, such as the report's pages)."""
    digest = hashlib.sha256()
    for part in parts:
        base = PIPELINE / part
        files = sorted(base.rglob("*.py")) if base.is_dir() else [base.with_suffix(".py")]
        for path in files:
            digest.update(str(path.relative_to(PIPELINE)).encode())
            digest.update(path.read_bytes())
    for base in data:
        for path in sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else [base]:
            digest.update(str(path.relative_to(base.parent)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def content_version(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    *,
    exclude: tuple[str, ...] = (),
    where: str = "",
    params: list | None = None,
) -> dg.DataVersion:
    """A DataVersion of the rows of `schema.table` (optionally filtered, without the `exclude` columns such as load
    times): independent of row order."""
    columns = f"* EXCLUDE ({', '.join(ident(c) for c in exclude)})" if exclude else "*"
    (digest,) = con.execute(
        f"SELECT md5(coalesce(string_agg(h, '' ORDER BY h), '')) FROM "
        f"(SELECT md5(t::VARCHAR) AS h FROM (SELECT {columns} FROM {ident(schema)}.{ident(table)} {where}) t)",
        params or [],
    ).fetchone()
    return dg.DataVersion(digest[:16])


def bytes_version(data: bytes) -> dg.DataVersion:
    """A DataVersion of a file's bytes."""
    return dg.DataVersion(hashlib.sha256(data).hexdigest()[:16])
