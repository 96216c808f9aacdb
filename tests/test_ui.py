"""`reportctl ui` starts Dagster's webserver and daemon and stops all of them within 10 s of SIGTERM or Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import project_env

from pipeline.config import PROJECT_ROOT

STOP_WITHIN_S = 10.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _location_names(port: int) -> list[str]:
    query = json.dumps({"query": "{ workspaceOrError { ... on Workspace { locationEntries { name } } } }"})
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=query.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        entries = json.loads(response.read())["data"]["workspaceOrError"]["locationEntries"]
    return [e["name"] for e in entries]


def _group_alive(pgid: int) -> bool:
    return subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True).returncode == 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_ui_starts_and_stops_cleanly(sources_copy: Path, tmp_path: Path, signum: int) -> None:
    port = _free_port()
    env = project_env(sources_copy, tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "ui", "--port", str(port)],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    pgid = None
    try:
        first = proc.stdout.readline()
        pgid = int(re.search(r"process group (\d+)", first)[1])
        deadline = time.monotonic() + 180
        while not _answers(port):
            assert proc.poll() is None and time.monotonic() < deadline, "the UI did not come up"
            time.sleep(1)
        assert _location_names(port) == ["compute_report"]
        start = time.monotonic()
        proc.send_signal(signum)
        proc.wait(STOP_WITHIN_S + 5)
        took = time.monotonic() - start
        assert took <= STOP_WITHIN_S, f"took {took:.1f} s to stop"
        assert proc.returncode == 0
        assert not _group_alive(pgid), "a Dagster process was left running"
        assert not _answers(port)
    finally:
        if proc.poll() is None:
            proc.kill()
        if pgid is not None and _group_alive(pgid):
            os.killpg(pgid, signal.SIGKILL)
