"""No concurrency slot outlives its run.

A run killed (SIGKILL, power loss) while a warehouse step holds the `duckdb_writer` slot leaves the slot claimed in
Dagster's instance, and every later run would wait for it forever. Each run therefore records which process runs
it (pid, host and the process's start time, as run tags: `reportctl build` when it launches the run, the DuckDB
resource when a run started elsewhere first opens the warehouse). Before a run starts, before the sensor requests
one, and in `reportctl status`, `reap_dead_runs` marks in-progress runs whose process is gone as failed and frees
their slots through the instance API (`free_concurrency_slots_for_run`), and frees slots of runs that have ended.
A run without the tags (another host, another tool) is left alone and named when something waits for it.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

IN_PROGRESS = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
PID_TAG, HOST_TAG, STARTED_TAG = "reportctl/pid", "reportctl/host", "reportctl/process_start"


def _process_start(pid: int) -> str | None:
    """The start time of a process (clock ticks since boot, /proc/<pid>/stat field 22); None if it is gone. With
    the pid it names one process: a pid reused by a later process has another start time."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def owner_tags(pid: int | None = None) -> dict[str, str]:
    """Run tags naming the process that runs it (this one by default)."""
    pid = os.getpid() if pid is None else pid
    return {PID_TAG: str(pid), HOST_TAG: socket.gethostname(), STARTED_TAG: _process_start(pid) or ""}


def record_owner(instance: dg.DagsterInstance, run_id: str) -> None:
    """Tag a run with this process unless it already names its owner."""
    run = instance.get_run_by_id(run_id)
    if run is not None and PID_TAG not in run.tags:
        instance.add_run_tags(run_id, owner_tags())


def owner_alive(tags: dict[str, str]) -> bool | None:
    """Whether the process a run's tags name still runs: None when that cannot be told (no tags, other host)."""
    if PID_TAG not in tags or tags.get(HOST_TAG) != socket.gethostname():
        return None
    started = _process_start(int(tags[PID_TAG]))
    return started is not None and (not tags.get(STARTED_TAG) or started == tags[STARTED_TAG])


def reap_dead_runs(instance: dg.DagsterInstance, pool: str) -> list[str]:
    """Fail in-progress runs whose process is gone and free their slots; free the `pool` slots of ended runs.
    Returns one line per action, for the caller to print."""
    done = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS)):
        if owner_alive(dict(run.tags)) is False:
            instance.report_run_failed(
                run,
                message=f"its process (pid {run.tags[PID_TAG]}) is gone: killed or crashed; marked failed by reportctl",
            )
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            done.append(f"run {run.run_id[:8]} (pid {run.tags[PID_TAG]}) had died; marked failed, its slots freed")
    for run_id in sorted(instance.event_log_storage.get_concurrency_info(pool).active_run_ids):
        run = instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)
            done.append(f"run {run_id[:8]} had ended holding a {pool} slot; slot freed")
    return done


@dataclass(frozen=True)
class SlotHolder:
    """A live (or unknown) run holding a slot of the pool."""

    run_id: str
    description: str


def slot_holders(instance: dg.DagsterInstance, pool: str) -> list[SlotHolder]:
    """The runs holding `pool`'s slots, described for a person."""
    holders = []
    for run_id in sorted(instance.event_log_storage.get_concurrency_info(pool).active_run_ids):
        run = instance.get_run_by_id(run_id)
        tags = dict(run.tags) if run else {}
        who = f"pid {tags[PID_TAG]} on {tags.get(HOST_TAG)}" if PID_TAG in tags else "a process we cannot check"
        holders.append(SlotHolder(run_id, f"run {run_id[:8]} ({who})"))
    return holders


def wait_for_pool(instance: dg.DagsterInstance, pool: str, timeout: float, poll: float = 1.0) -> list[SlotHolder]:
    """Wait while live runs hold `pool`'s slots (printing who, once); returns the holders still there after
    `timeout` seconds (empty: the pool is free). Dead holders are reaped on every poll."""
    deadline = time.monotonic() + timeout
    said = False
    while True:
        reap_dead_runs(instance, pool)
        holders = slot_holders(instance, pool)
        if not holders or time.monotonic() >= deadline:
            return holders
        if not said:
            print(
                f"waiting for the {pool} slot: held by {', '.join(h.description for h in holders)} "
                f"(up to {timeout:g} s, REPORT_LOCK_TIMEOUT)",
                file=sys.stderr,
                flush=True,
            )
            said = True
        time.sleep(poll)
