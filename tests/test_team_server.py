"""The team-server profile (docs/deploy.md) against a real PostgreSQL: code server and daemon as their own
processes from deploy/team, a sensor run and a `reportctl build` at the same time. Both succeed, the DuckDB writer
steps never overlap, each run publishes one edition. Deselect locally with `-m "not team"`; CI runs it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import copy_sources, project_env, run_cli
from local_postgres import Postgres, postgres_server, unavailable_reason

from pipeline.config import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy" / "team"
pytestmark = [pytest.mark.team, pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))]


def team_home(root: Path, grpc_port: int) -> Path:
    """A Dagster home with the profile's dagster.yaml and a workspace pointing at the code server's port."""
    home = root / "home"
    home.mkdir(parents=True)
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    text = (DEPLOY / "workspace.yaml").read_text(encoding="utf-8").replace("port: 4266", f"port: {grpc_port}")
    (home / "workspace.yaml").write_text(text, encoding="utf-8")
    return home


@contextmanager
def team_processes(env: dict[str, str], home: Path, grpc_port: int) -> Iterator[None]:
    """`dagster api grpc` and `dagster-daemon run` as in docs/deploy.md; both stopped at the end."""
    bin_dir = Path(sys.executable).parent
    logs = home / "logs"
    logs.mkdir()
    procs: list[subprocess.Popen] = []

    def start(args: list[str], log) -> subprocess.Popen:
        proc = subprocess.Popen(
            args, env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        procs.append(proc)
        return proc

    with open(logs / "grpc.log", "w") as grpc_log, open(logs / "daemon.log", "w") as daemon_log:
        try:
            grpc = start(
                [
                    str(bin_dir / "dagster"),
                    "api",
                    "grpc",
                    "-m",
                    "pipeline.definitions",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(grpc_port),
                ],
                grpc_log,
            )
            deadline = time.monotonic() + 120
            health = [str(bin_dir / "dagster"), "api", "grpc-health-check", "-p", str(grpc_port), "-h", "127.0.0.1"]
            while subprocess.run(health, env=env, capture_output=True).returncode != 0:
                assert time.monotonic() < deadline and grpc.poll() is None, (logs / "grpc.log").read_text()
                time.sleep(1)
            start([str(bin_dir / "dagster-daemon"), "run", "-w", str(home / "workspace.yaml")], daemon_log)
            yield
        finally:
            for p in procs:
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)


def _instance(home: Path, pg: Postgres):
    import dagster as dg

    os.environ.update(pg.env())
    os.environ["DAGSTER_COMPUTE_LOGS"] = str(home / "compute_logs")
    return dg.DagsterInstance.from_config(str(home))


def _writer_steps() -> set[str]:
    from pipeline.definitions import defs
    from pipeline.defs.resources import WRITER_POOL

    job = defs().resolve_implicit_global_asset_job_def()
    return {node.name for node in job.graph.nodes if getattr(node.definition, "pool", None) == WRITER_POOL}


def _step_intervals(instance, run_id: str, steps: set[str]) -> list[tuple[float, float, str, str]]:
    import dagster as dg

    starts: dict[str, float] = {}
    out = []
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or event.step_key not in steps:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            starts[event.step_key] = record.timestamp
        elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            out.append((starts.pop(event.step_key), record.timestamp, run_id, event.step_key))
    return out


def test_a_sensor_run_and_a_cli_build_at_once_share_one_writer(tmp_path: Path) -> None:
    import dagster as dg

    sources = copy_sources(tmp_path / "sources")
    with postgres_server() as pg:
        grpc_port = pg.port + 1 if pg.port < 65000 else pg.port - 1
        home = team_home(tmp_path, grpc_port)
        env = project_env(
            sources, tmp_path, **pg.env(), DAGSTER_HOME=str(home), DAGSTER_COMPUTE_LOGS=str(home / "compute_logs")
        )
        instance = _instance(home, pg)
        with team_processes(env, home, grpc_port):
            # no edition is published yet: the sensor's first tick requests a run of everything
            deadline = time.monotonic() + 240
            sensor_runs: list = []
            while not sensor_runs:
                assert time.monotonic() < deadline, (home / "logs" / "daemon.log").read_text()[-3000:]
                time.sleep(2)
                sensor_runs = [
                    r
                    for r in instance.get_runs(dg.RunsFilter(tags={"trigger": "sources_sensor"}))
                    if r.status in (dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED)
                ]
            cli = run_cli(env, "build")
            assert cli.returncode == 0, cli.stdout + cli.stderr
            sensor_run = sensor_runs[0]
            while not instance.get_run_by_id(sensor_run.run_id).is_finished:
                assert time.monotonic() < deadline + 300, (home / "logs" / "daemon.log").read_text()[-3000:]
                time.sleep(2)
        runs = instance.get_runs()
        cli_runs = [r for r in runs if r.tags.get("reportctl/command") == "build"]
        assert instance.get_run_by_id(sensor_run.run_id).status == dg.DagsterRunStatus.SUCCESS
        assert len(cli_runs) == 1 and cli_runs[0].status == dg.DagsterRunStatus.SUCCESS
        steps = _writer_steps()
        assert steps
        intervals = sorted(
            _step_intervals(instance, sensor_run.run_id, steps) + _step_intervals(instance, cli_runs[0].run_id, steps)
        )
        assert {i[2] for i in intervals} == {sensor_run.run_id, cli_runs[0].run_id}, "both runs wrote"
        for (_s1, e1, r1, k1), (s2, _e2, r2, k2) in zip(intervals, intervals[1:], strict=False):
            assert e1 <= s2, f"writer steps overlap: {r1[:8]}/{k1} until {e1}, {r2[:8]}/{k2} from {s2}"
        instance.dispose()
    editions = sorted(p.name for p in (tmp_path / "out" / "editions").iterdir() if p.is_dir())
    assert len(editions) == 2, editions
    for run in (sensor_run, cli_runs[0]):
        assert sum(run.run_id[:8] in name for name in editions) == 1, (run.run_id, editions)
