"""Shared fixtures: a copy of the bundled sources and a warehouse built from them in a temp folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipeline.config import PROJECT_ROOT
from pipeline.lib.forecast.engine import run_forecasts
from pipeline.lib.report.context import figure_kinds
from pipeline.lib.report.pages import load_report, read_chapters, resolve_numbers
from pipeline.lib.report.records import Meta, ReportContext
from pipeline.lib.warehouse.build import build_warehouse

BUNDLED_SOURCES = PROJECT_ROOT / "sources"


def project_env(sources: Path, root: Path, **extra: str) -> dict[str, str]:
    """The environment of a project of its own: its sources, an output folder and a Dagster home under `root`
    (`root/out`, `root/home`), no inherited warehouse path, plus `extra` variables."""
    env = {
        **os.environ,
        "REPORT_SOURCES_DIR": str(sources),
        "REPORT_OUTPUT_DIR": str(root / "out"),
        "DAGSTER_HOME": str(root / "home"),
        **extra,
    }
    env.pop("REPORT_WAREHOUSE", None)
    return env


def run_cli(env: dict[str, str], *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """`reportctl ARGS` as a separate process with `env` (its own sources, output and Dagster home)."""
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def built_project(root: Path) -> Path:
    """`root` with a copy of the bundled sources and a `reportctl build` done on it (root/out, root/home)."""
    copy_sources(root / "sources")
    built = run_cli(project_env(root / "sources", root), "build")
    assert built.returncode == 0, built.stdout + built.stderr
    return root


def copy_project(template: Path, target: Path) -> Path:
    """A private copy of a built project's sources, output and Dagster home (links kept as links)."""
    for name in ("sources", "out", "home"):
        shutil.copytree(template / name, target / name, symlinks=True)
    return target


def copy_sources(target: Path) -> Path:
    """Copy sources/ (without scratch folders) to `target`."""
    shutil.copytree(BUNDLED_SOURCES, target, ignore=shutil.ignore_patterns("_*", ".*"))
    return target


@pytest.fixture()
def sources_copy(tmp_path: Path) -> Path:
    """A private, editable copy of the bundled sources."""
    return copy_sources(tmp_path / "sources")


@pytest.fixture(scope="session")
def built_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project built by `reportctl build` once per session. Never change it: take a copy (`copy_project`)."""
    return built_project(tmp_path_factory.mktemp("built"))


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse file built once per session from the bundled sources."""
    root = tmp_path_factory.mktemp("warehouse")
    sources = copy_sources(root / "sources")
    path = root / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    try:
        build_warehouse(con, sources)
        run_forecasts(con)
    finally:
        con.close()
    return path


@pytest.fixture()
def warehouse_con(built_warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Read-only connection to the session warehouse."""
    con = duckdb.connect(str(built_warehouse), read_only=True)
    yield con
    con.close()


def prose_context(con: duckdb.DuckDBPyConnection, folder: Path) -> ReportContext:
    """A context of the pages in `folder` with the facts they need (no figures or tables: pages of prose)."""
    editions, pages = load_report(folder)
    chapters = read_chapters(pages, figure_kinds())
    return ReportContext(
        meta=Meta(published="2023-01-01", created="2023-01-01T00:00:00+00:00"),
        inputs={},
        labels={},
        facts=resolve_numbers(con, chapters),
        figures={},
        headlines=(),
        assumptions=(),
        backtest=(),
        sources=(),
        glossary=(),
        accepted_outliers=(),
        editions=editions,
        pages=pages,
    )
