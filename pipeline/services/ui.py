"""`reportctl ui`: Dagster's webserver, daemon and code server, started and stopped as one process group."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from pipeline.config import settings
from pipeline.services.instance import open_instance
from pipeline.services.runs import OK

STOP_GRACE_S = 5.0
LOCATION = "compute_report"
# The code location by name (a bare `-m pipeline.definitions` shows the module path as the location's name).
WORKSPACE = f"""load_from:
  - python_module:
      module_name: pipeline.definitions
      location_name: {LOCATION}
"""


def ui(port: str) -> int:
    """`dagster dev` (webserver, daemon, code server) as a child in its own process group. Ctrl-C or SIGTERM
    stop the whole group: SIGINT first, then SIGKILL after STOP_GRACE_S (Dagster alone took 15-25 s to exit)."""
    import signal
    import subprocess
    import threading

    open_instance()
    workspace = settings().dagster_home / "workspace.yaml"
    workspace.write_text(WORKSPACE, encoding="utf-8")
    dagster = str(Path(sys.executable).with_name("dagster"))  # the venv's, even when the venv is not activated
    proc = subprocess.Popen(
        [dagster, "dev", "-w", str(workspace), "-h", "127.0.0.1", "-p", port], start_new_session=True
    )
    print(f"Dagster UI on http://127.0.0.1:{port} (process group {proc.pid}); Ctrl-C stops it", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while proc.poll() is None and not stop.wait(0.5):
        pass
    if proc.poll() is None or stop.is_set():
        print("stopping the Dagster UI and daemon", flush=True)
        for signum, wait in ((signal.SIGINT, STOP_GRACE_S), (signal.SIGKILL, 2.0)):
            try:
                os.killpg(proc.pid, signum)
            except ProcessLookupError:
                break
            try:
                proc.wait(wait)
                if signum == signal.SIGINT:
                    os.killpg(proc.pid, signal.SIGKILL)  # the group's other processes, if any linger
            except (subprocess.TimeoutExpired, ProcessLookupError):
                continue
            break
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:  # until the kernel has removed every process of the group
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
    return OK if stop.is_set() else proc.returncode
