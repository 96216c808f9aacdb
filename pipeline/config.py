"""Where things live. Every path comes from an environment variable with a local default."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def sources_dir() -> Path:
    """Folder of the analysts' input tables (REPORT_SOURCES_DIR, default ./sources)."""
    return Path(os.environ.get("REPORT_SOURCES_DIR", PROJECT_ROOT / "sources")).resolve()


def output_dir() -> Path:
    """Folder for generated files: warehouse, charts, PDFs (REPORT_OUTPUT_DIR, default ./output)."""
    return Path(os.environ.get("REPORT_OUTPUT_DIR", PROJECT_ROOT / "output")).resolve()


def warehouse_path() -> Path:
    """The DuckDB warehouse file (REPORT_WAREHOUSE, default ./output/warehouse.duckdb)."""
    return Path(os.environ.get("REPORT_WAREHOUSE", output_dir() / "warehouse.duckdb")).resolve()


def templates_dir() -> Path:
    """Jinja2 templates, CSS and fonts of the report."""
    return PROJECT_ROOT / "report_templates"


def publish_bucket() -> tuple[str, str | None] | None:
    """Where published editions are mirrored: (REPORT_PUBLISH_BUCKET `s3://bucket/prefix`, REPORT_S3_ENDPOINT_URL
    for an S3-compatible server other than AWS), or None (the default: the filesystem only)."""
    url = os.environ.get("REPORT_PUBLISH_BUCKET", "").strip()
    return (url, os.environ.get("REPORT_S3_ENDPOINT_URL") or None) if url else None
