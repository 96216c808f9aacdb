"""Settings: read from the environment in one place, one clear error per bad value, handed to the resources."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipeline.config import Settings, SettingsError, settings
from pipeline.defs.resources import REPORT_LOCK, LockedDuckDBResource, ReportSlotResource, resources


def test_defaults_without_variables() -> None:
    s = Settings.from_env({})
    assert s.warehouse == s.output_dir / "warehouse.duckdb" and s.dagster_home == s.output_dir / "dagster_home"
    assert (s.duckdb_memory_limit, s.duckdb_threads, s.lock_timeout_s, s.render_workers) == ("700MB", None, 1800, None)
    assert (s.attachment_max_mb, s.attachments_max_mb) == (20.0, 50.0)


@pytest.mark.parametrize(
    ("variable", "value", "accepted"),
    [
        ("REPORT_LOCK_TIMEOUT", "soon", "a whole number of seconds"),
        ("REPORT_LOCK_TIMEOUT", "-5", "0 or more"),
        ("REPORT_RENDER_WORKERS", "0", "1 or more"),
        ("REPORT_DUCKDB_THREADS", "two", "a whole number of threads"),
        ("REPORT_DUCKDB_MEMORY_LIMIT", "lots", "a DuckDB memory size such as 700MB"),
        ("REPORT_ATTACHMENT_MAX_MB", "20MB", "a number of megabytes"),
        ("REPORT_PUBLISH_BUCKET", "/srv/reports", "an s3://bucket[/prefix] URL"),
    ],
)
def test_a_bad_value_names_the_variable_and_what_it_accepts(variable: str, value: str, accepted: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({variable: value})
    lines = str(caught.value).splitlines()[1:]
    assert lines == [f"  {variable}={value!r} is not valid: expected {lines[0].split('expected ', 1)[1]}"]
    assert accepted in lines[0]


def test_every_bad_value_is_named_once_in_one_error() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"REPORT_LOCK_TIMEOUT": "x", "REPORT_RENDER_WORKERS": "y", "REPORT_OUTPUT_DIR": "/tmp/o"})
    message = str(caught.value)
    assert message.count("REPORT_LOCK_TIMEOUT") == 1 and message.count("REPORT_RENDER_WORKERS") == 1
    assert "REPORT_OUTPUT_DIR" not in message


def test_settings_follow_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REPORT_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.delenv("REPORT_WAREHOUSE", raising=False)
    assert settings() is settings()  # read once for one set of values
    assert settings().warehouse == tmp_path / "out" / "warehouse.duckdb"
    monkeypatch.setenv("REPORT_WAREHOUSE", str(tmp_path / "w.duckdb"))
    assert settings().warehouse == tmp_path / "w.duckdb"


def test_definitions_refuse_a_bad_value_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORT_RENDER_WORKERS", "many")
    with pytest.raises(SettingsError, match="REPORT_RENDER_WORKERS='many' is not valid"):
        resources()


def test_the_cli_prints_the_bad_value_and_fails(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "REPORT_OUTPUT_DIR": str(tmp_path), "REPORT_LOCK_TIMEOUT": "1h"}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "status"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert "REPORT_LOCK_TIMEOUT='1h' is not valid: expected a whole number of seconds" in done.stderr
    assert "Traceback" not in done.stderr


def test_settings_reach_the_resources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REPORT_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("REPORT_WAREHOUSE", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("REPORT_DUCKDB_MEMORY_LIMIT", "300MB")
    monkeypatch.setenv("REPORT_DUCKDB_THREADS", "1")
    monkeypatch.setenv("REPORT_LOCK_TIMEOUT", "7")
    monkeypatch.setenv("REPORT_RENDER_WORKERS", "3")
    bound = resources().resources
    # set variables are EnvVar fields: the Dagster UI names the variable each value comes from
    assert bound["duckdb"].database == dg.EnvVar("REPORT_WAREHOUSE")
    assert bound["duckdb"].memory_limit == dg.EnvVar("REPORT_DUCKDB_MEMORY_LIMIT")
    assert bound["report_slot"].output_dir == dg.EnvVar("REPORT_OUTPUT_DIR")
    assert bound["render"].count.env_var_name == "REPORT_RENDER_WORKERS"
    assert bound["report_slot"].lock_timeout_s.env_var_name == "REPORT_LOCK_TIMEOUT"

    @dg.asset
    def probe(duckdb: LockedDuckDBResource, report_slot: ReportSlotResource) -> dict:
        with duckdb.get_connection() as con:
            limits = con.execute("SELECT current_setting('memory_limit'), current_setting('threads')").fetchone()
        return {
            "limits": limits,
            "database": duckdb.database,
            "timeout": duckdb.lock_timeout_s,
            "slot": (report_slot.output_dir, report_slot.lock_timeout_s),
        }

    result = dg.materialize([probe], resources={"duckdb": bound["duckdb"], "report_slot": bound["report_slot"]})
    got = result.output_for_node("probe")
    memory = duckdb.connect(config={"memory_limit": "300MB"}).execute("SELECT current_setting('memory_limit')")
    assert got["limits"] == (memory.fetchone()[0], 1)
    assert got["database"] == str(tmp_path / "w.duckdb") and got["timeout"] == 7
    assert got["slot"] == (str(tmp_path / "out"), 7)
    assert (tmp_path / "w.duckdb.lock").exists() and (tmp_path / "out" / REPORT_LOCK).exists()


def test_unset_variables_give_the_defaults_to_the_resources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("REPORT_DUCKDB_MEMORY_LIMIT", "REPORT_DUCKDB_THREADS", "REPORT_LOCK_TIMEOUT", "REPORT_RENDER_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REPORT_OUTPUT_DIR", str(tmp_path))
    bound = resources().resources
    assert (bound["duckdb"].memory_limit, bound["duckdb"].threads, bound["duckdb"].lock_timeout_s) == (
        "700MB",
        None,
        1800,
    )
    assert bound["render"].count == 0
