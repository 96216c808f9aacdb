"""The pipeline's settings: every value it takes from the environment, read and checked in one place.

`settings()` reads the variables below once and checks them all; a bad value raises one `SettingsError` that names
each bad variable and what it accepts. The result is kept until one of the variables changes (tests set them per
test). Nothing else in the pipeline reads the environment.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

SOURCES_DIR = "REPORT_SOURCES_DIR"
OUTPUT_DIR = "REPORT_OUTPUT_DIR"
WAREHOUSE = "REPORT_WAREHOUSE"
DAGSTER_HOME = "DAGSTER_HOME"
DUCKDB_MEMORY_LIMIT = "REPORT_DUCKDB_MEMORY_LIMIT"
DUCKDB_THREADS = "REPORT_DUCKDB_THREADS"
LOCK_TIMEOUT = "REPORT_LOCK_TIMEOUT"
RENDER_WORKERS = "REPORT_RENDER_WORKERS"
ATTACHMENT_MAX_MB = "REPORT_ATTACHMENT_MAX_MB"
ATTACHMENTS_MAX_MB = "REPORT_ATTACHMENTS_MAX_MB"
PUBLISH_BUCKET = "REPORT_PUBLISH_BUCKET"
S3_ENDPOINT_URL = "REPORT_S3_ENDPOINT_URL"
VARIABLES = (
    SOURCES_DIR,
    OUTPUT_DIR,
    WAREHOUSE,
    DAGSTER_HOME,
    DUCKDB_MEMORY_LIMIT,
    DUCKDB_THREADS,
    LOCK_TIMEOUT,
    RENDER_WORKERS,
    ATTACHMENT_MAX_MB,
    ATTACHMENTS_MAX_MB,
    PUBLISH_BUCKET,
    S3_ENDPOINT_URL,
)

DEFAULT_MEMORY_LIMIT = "700MB"
DEFAULT_LOCK_TIMEOUT_S = 1800


class SettingsError(ValueError):
    """One or more environment variables hold a value the pipeline cannot use; one line per variable."""


@dataclass(frozen=True)
class Settings:
    """Where things live and how much the pipeline may use (README, "Configuration").

    `duckdb_threads` and `render_workers` are None when not set: DuckDB's own default (one thread per core) and
    `pipeline.lib.report.workers.default_count()`."""

    sources_dir: Path
    output_dir: Path
    warehouse: Path
    dagster_home: Path
    duckdb_memory_limit: str
    duckdb_threads: int | None
    lock_timeout_s: int
    render_workers: int | None
    attachment_max_mb: float
    attachments_max_mb: float
    publish_bucket: str | None = None
    s3_endpoint_url: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and check every variable of `environ` (default: the process environment); an empty value counts
        as unset."""
        env = os.environ if environ is None else environ
        raw = {name: env.get(name) or None for name in VARIABLES}
        problems: list[str] = []

        def read(name: str, parse: Callable[[str], object], accepted: str, default: object) -> object:
            text = raw[name]
            if text is None:
                return default
            try:
                return parse(text)
            except ValueError:
                problems.append(f"{name}={text!r} is not valid: expected {accepted}")
                return default

        output = Path(raw[OUTPUT_DIR] or PROJECT_ROOT / "output").resolve()
        found = cls(
            sources_dir=Path(raw[SOURCES_DIR] or PROJECT_ROOT / "sources").resolve(),
            output_dir=output,
            warehouse=Path(raw[WAREHOUSE] or output / "warehouse.duckdb").resolve(),
            dagster_home=Path(raw[DAGSTER_HOME] or output / "dagster_home").resolve(),
            duckdb_memory_limit=read(
                DUCKDB_MEMORY_LIMIT,
                _duckdb_size,
                f"a DuckDB memory size such as 700MB, 2GB or 1.5GiB (default {DEFAULT_MEMORY_LIMIT})",
                DEFAULT_MEMORY_LIMIT,
            ),
            duckdb_threads=read(
                DUCKDB_THREADS, _at_least(1), "a whole number of threads, 1 or more (default: one per core)", None
            ),
            lock_timeout_s=read(
                LOCK_TIMEOUT,
                _at_least(0),
                f"a whole number of seconds, 0 or more (default {DEFAULT_LOCK_TIMEOUT_S})",
                DEFAULT_LOCK_TIMEOUT_S,
            ),
            render_workers=read(
                RENDER_WORKERS, _at_least(1), "a whole number of processes, 1 or more (default: CPUs, 2 to 4)", None
            ),
            attachment_max_mb=read(
                ATTACHMENT_MAX_MB, _megabytes, "a number of megabytes, 0 or more, such as 20 or 0.5 (default 20)", 20.0
            ),
            attachments_max_mb=read(
                ATTACHMENTS_MAX_MB, _megabytes, "a number of megabytes, 0 or more, such as 50 (default 50)", 50.0
            ),
            publish_bucket=read(
                PUBLISH_BUCKET, _s3_url, "an s3://bucket[/prefix] URL (default: unset, editions stay on disk)", None
            ),
            s3_endpoint_url=raw[S3_ENDPOINT_URL],
        )
        if problems:
            raise SettingsError("bad configuration:\n" + "\n".join(f"  {p}" for p in problems))
        return found


def _at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text.strip())
        if value < low:
            raise ValueError(text)
        return value

    return parse


def _s3_url(text: str) -> str:
    if not text.strip().startswith("s3://") or len(text.strip()) <= len("s3://"):
        raise ValueError(text)
    return text.strip()


def _megabytes(text: str) -> float:
    value = float(text.strip())
    if not value >= 0 or value == float("inf"):
        raise ValueError(text)
    return value


def _duckdb_size(text: str) -> str:
    """The size as DuckDB reads it: an in-memory database is opened with it (DuckDB decides what is a size)."""
    import duckdb

    try:
        duckdb.connect(":memory:", config={"memory_limit": text}).close()
    except duckdb.Error as exc:
        raise ValueError(text) from exc
    return text


@lru_cache(maxsize=8)
def _settings_for(values: tuple[str | None, ...]) -> Settings:
    return Settings.from_env(dict(zip(VARIABLES, values, strict=True)))


def settings() -> Settings:
    """The settings of the current environment (read and checked once for each set of values)."""
    return _settings_for(tuple(os.environ.get(name) for name in VARIABLES))


def sources_dir() -> Path:
    """Folder of the analysts' input tables (REPORT_SOURCES_DIR, default ./sources)."""
    return settings().sources_dir


def output_dir() -> Path:
    """Folder for generated files: warehouse, charts, PDFs (REPORT_OUTPUT_DIR, default ./output)."""
    return settings().output_dir


def warehouse_path() -> Path:
    """The DuckDB warehouse file (REPORT_WAREHOUSE, default ./output/warehouse.duckdb)."""
    return settings().warehouse


def templates_dir() -> Path:
    """Jinja2 templates, CSS and fonts of the report."""
    return PROJECT_ROOT / "report_templates"


def publish_bucket() -> tuple[str, str | None] | None:
    """Where published editions are mirrored: (REPORT_PUBLISH_BUCKET `s3://bucket/prefix`, REPORT_S3_ENDPOINT_URL
    for an S3-compatible server other than AWS), or None (the default: the filesystem only)."""
    found = settings()
    return (found.publish_bucket, found.s3_endpoint_url) if found.publish_bucket else None
