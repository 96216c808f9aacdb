"""A throwaway PostgreSQL server for the team-profile tests: Debian's `postgresql` binaries, a temporary data
directory owned by the `postgres` user, a free loopback port; stopped and removed whatever happens."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Postgres:
    """Where the server listens and how to log in (trust authentication on loopback)."""

    host: str
    port: int
    user: str
    database: str

    def env(self) -> dict[str, str]:
        """The variables deploy/team/dagster.yaml reads."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": "unused-with-trust-auth",
            "DAGSTER_PG_DB": self.database,
        }


def _binary(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def unavailable_reason() -> str | None:
    """Why no server can be started here (None when one can)."""
    if _binary("initdb") is None or _binary("pg_ctl") is None:
        return "PostgreSQL server binaries not installed (scripts/setup.sh installs Debian's postgresql)"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "no postgres user"
    if os.geteuid() != 0:
        return "starting a server as the postgres user needs root"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres_server(user: str = "dagster", database: str = "dagster") -> Iterator[Postgres]:
    """Start a server (initdb, pg_ctl start -w, createdb); yield where it listens; stop it and remove its data."""
    workdir = Path(tempfile.mkdtemp(prefix="pg-test-"))  # not under pytest's 0700 root folders: postgres must reach it
    owner = pwd.getpwnam("postgres")
    os.chown(workdir, owner.pw_uid, owner.pw_gid)
    data, log, port = workdir / "data", workdir / "server.log", _free_port()

    def as_postgres(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", *args], capture_output=True, text=True, timeout=120, check=True
        )

    started = False
    try:
        as_postgres(_binary("initdb"), "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
        as_postgres(_binary("pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start")
        started = True
        as_postgres(_binary("createdb") or "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", user, database)
        yield Postgres("127.0.0.1", port, user, database)
    finally:
        if started:
            subprocess.run(
                ["runuser", "-u", "postgres", "--", _binary("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(workdir, ignore_errors=True)
