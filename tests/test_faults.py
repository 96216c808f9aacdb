"""Crash, concurrency and corruption, injected as an operator would meet them.

Kill points are injected from the test (a small script patches one function so that the process dies inside it),
never through a hook in production code. Every case checks: the exit code, the message (no traceback),
`latest` and the top-level PDFs openable and equal to `latest/`, no temp left, and that the next command succeeds
without manual cleanup.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.config import PROJECT_ROOT
from pipeline.lib.publish.editions import validate_pdf
from pipeline.lib.report.build import PDF_NAMES

KILLED_INSIDE = """
import os, signal, sys
import {module} as target
target.{function} = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
from pipeline.cli import main
sys.exit(main({argv!r}))
"""


@dataclass(frozen=True)
class Project:
    """Sources, output folder and Dagster home of one test, and the environment that points at them."""

    sources: Path
    out: Path
    home: Path
    env: dict[str, str]

    def cli(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pipeline.cli", *args],
            env=self.env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def killed_inside(self, module: str, function: str, *argv: str) -> subprocess.CompletedProcess:
        """Run `reportctl ARGV` with `module.function` replaced by a SIGKILL of the process."""
        script = KILLED_INSIDE.format(module=module, function=function, argv=list(argv))
        return subprocess.run(
            [sys.executable, "-c", script], env=self.env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600
        )


def _project(root: Path, sources: Path | None = None) -> Project:
    from conftest import copy_sources, project_env

    sources = sources or copy_sources(root / "sources")
    return Project(sources, root / "out", root / "home", project_env(sources, root, REPORT_LOCK_TIMEOUT="120"))


@pytest.fixture()
def built(built_template: Path, tmp_path: Path) -> Project:
    """A private copy of a built project (links kept as links)."""
    from conftest import copy_project

    copy_project(built_template, tmp_path)
    return _project(tmp_path, tmp_path / "sources")


def assert_published_consistently(out: Path) -> str:
    """`latest` names a complete edition; the top-level PDFs are its files (links into it), open as PDFs; no temp
    file is left. Returns the edition id."""
    latest = (out / "latest").resolve()
    assert (latest / "edition.json").is_file()
    for name in PDF_NAMES.values():
        top = out / name
        assert top.is_symlink() and os.readlink(top) == f"latest/{name}", name
        validate_pdf(top)
        assert top.read_bytes() == (latest / name).read_bytes()
    assert not list((out / "editions").glob(".tmp-*"))
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    return latest.name


def _slot_run_ids(home: Path) -> set[str]:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        return set(instance.event_log_storage.get_concurrency_info("duckdb_writer").active_run_ids)


# --- no slot outlives its run ----------------------------------------------------------------------------------


def test_run_killed_in_a_warehouse_step_does_not_block_the_next(built: Project) -> None:
    killed = built.killed_inside("pipeline.defs.warehouse.assets", "build_core", "build")
    assert killed.returncode == -signal.SIGKILL
    assert _slot_run_ids(built.home), "the scenario needs a slot left claimed by the dead run"
    again = built.cli("build", timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "had died; marked failed, its slots freed" in again.stderr
    assert not _slot_run_ids(built.home)
    import dagster as dg

    with dg.DagsterInstance.from_config(str(built.home)) as instance:
        runs = instance.get_runs(limit=2)
    assert [(r.status, r.tags["reportctl/command"]) for r in runs] == [
        (dg.DagsterRunStatus.SUCCESS, "build"),
        (dg.DagsterRunStatus.FAILURE, "build"),
    ]
    assert_published_consistently(built.out)


def test_slot_held_by_a_live_run_is_named_and_given_up_on(built: Project) -> None:
    """A live holder (here: this test process, tagged as the owner of a fake run) is waited for, named, and the
    command gives up after REPORT_LOCK_TIMEOUT."""
    import dagster as dg

    from pipeline.defs.run_health import owner_tags

    with dg.DagsterInstance.from_config(str(built.home)) as instance:
        run = instance.create_run_for_job(
            dg.GraphDefinition("holder").to_job(), tags=owner_tags(), status=dg.DagsterRunStatus.STARTED
        )
        instance.event_log_storage.claim_concurrency_slot("duckdb_writer", run.run_id, "core_model")
    impatient = Project(built.sources, built.out, built.home, {**built.env, "REPORT_LOCK_TIMEOUT": "2"})
    proc = impatient.cli("build", timeout=120)
    assert proc.returncode == 1
    assert f"waiting for the duckdb_writer slot: held by run {run.run_id[:8]} (pid {os.getpid()}" in proc.stderr
    assert "is still held by" in proc.stderr and "nothing was run" in proc.stderr
    assert "Traceback" not in proc.stderr


# --- publish is one switch ---------------------------------------------------------------------------------------


def _change_a_table(project: Project) -> None:
    table = project.sources / "fig12_core_related_industry.csv"
    table.write_text(table.read_text(encoding="utf-8").replace(",超过8,", ",超过8.3,"), encoding="utf-8")


def test_killed_publish_keeps_latest_and_copies_together(built: Project) -> None:
    before = assert_published_consistently(built.out)
    _change_a_table(built)
    killed = built.killed_inside("pipeline.lib.publish.editions", "_switch_link", "refresh")
    assert killed.returncode == -signal.SIGKILL
    assert assert_published_consistently(built.out) == before
    again = built.cli("refresh")
    assert again.returncode == 0, again.stdout + again.stderr
    assert assert_published_consistently(built.out) != before


def test_refresh_repairs_stale_top_level_copies(built: Project) -> None:
    """An output folder from before the links (copies), one of them stale: refresh re-links them."""
    latest = (built.out / "latest").resolve()
    for name in PDF_NAMES.values():
        (built.out / name).unlink()
        shutil.copyfile(latest / name, built.out / name)
    (built.out / "report_en.pdf").write_bytes((latest / "report_zh.pdf").read_bytes())
    status = built.cli("status")
    assert status.returncode == 1 and "output/report_en.pdf is not the link to latest/report_en.pdf" in status.stdout
    proc = built.cli("refresh")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "repaired output/report_en.pdf -> latest/report_en.pdf" in proc.stdout
    assert "nothing changed since edition" in proc.stdout
    assert assert_published_consistently(built.out) == latest.name


# --- concurrent runs ---------------------------------------------------------------------------------------------


def test_two_builds_with_different_inputs_at_once(built: Project, tmp_path: Path) -> None:
    other_sources = tmp_path / "other_sources"
    shutil.copytree(built.sources, other_sources)
    other = Project(other_sources, built.out, built.home, {**built.env, "REPORT_SOURCES_DIR": str(other_sources)})
    _change_a_table(other)
    first_edition = (built.out / "latest").resolve().name
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "build"],
            env=p.env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in (built, other)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    editions = sorted(p.name for p in (built.out / "editions").iterdir())
    assert len(editions) == 3
    records = {e: json.loads((built.out / "editions" / e / "edition.json").read_text()) for e in editions}
    previous = sorted(r["previous"] for r in records.values() if r["previous"])
    assert len(previous) == 2 and len(set(previous)) == 2 and first_edition in previous
    assert_published_consistently(built.out)


PUBLISHER = """
import sys
from pathlib import Path
from pipeline.lib.publish.editions import publish
from pipeline.lib.report.records import Changes, ReportContext
staged, out, n = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
meta = {"published": "2023-07-01", "created": "2023-07-01T00:00:00+00:00"}
publish(staged, out, ReportContext.from_json({"meta": meta}), Changes.from_json({"previous": None}), {"table": n})
"""


def test_ten_concurrent_publishes_all_land_and_chain(built: Project, tmp_path: Path) -> None:
    staged = tmp_path / "staged"
    shutil.copytree((built.out / "latest").resolve(), staged)
    out = tmp_path / "out10"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PUBLISHER, str(staged), str(out), str(n)],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(10)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 10, outs
    records = [json.loads((e / "edition.json").read_text()) for e in (out / "editions").iterdir()]
    assert len(records) == 10 and len({r["edition_id"] for r in records}) == 10
    previous = [r["previous"] for r in records]
    assert previous.count(None) == 1 and len(set(previous)) == 10  # one chain: each edition follows another
    assert {r["edition_id"] for r in records} - set(previous) == {(out / "latest").resolve().name}
    assert_published_consistently(out)


# --- only what the manifest lists is attached --------------------------------------------------------------------


def test_attachments_are_exactly_the_manifests_files(built: Project) -> None:
    from pypdf import PdfReader

    from pipeline.lib.ingest.manifest import load_manifest

    listed = {s.file for s in load_manifest(built.sources)} | {"manifest.yaml", "series.csv", "labels.csv"}
    for name in PDF_NAMES.values():
        assert set(PdfReader(built.out / "latest" / name).attachments) == listed | {"source-files.csv"}, name


def test_unlisted_and_linked_files_are_refused_and_never_attached(built: Project, tmp_path: Path) -> None:
    from pipeline.lib.ingest.manifest import load_manifest
    from pipeline.lib.report.attachments import plan_attachments

    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0\n", encoding="utf-8")
    (built.sources / "_notes.csv").symlink_to(secret)
    (built.sources / "_scratch.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    plan = plan_attachments(built.sources, load_manifest(built.sources), tmp_path / "index")
    assert not {"_notes.csv", "_scratch.csv"} & {p.name for p in plan.files}
    status = built.cli("status")
    assert status.returncode == 1
    assert "sources/_notes.csv: is a symbolic link" in status.stdout
    assert "sources/_scratch.csv: file has no manifest entry" in status.stdout
    proc = built.cli("build")
    assert proc.returncode == 1 and "manifest_matches_files" in proc.stderr
    assert b"root:x" not in (built.out / "latest" / "report.pdf").read_bytes()


def test_big_table_is_listed_not_attached(built: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.lib.ingest.manifest import load_manifest
    from pipeline.lib.report.attachments import plan_attachments

    monkeypatch.setenv("REPORT_ATTACHMENT_MAX_MB", "0.02")  # ~20 KB: case_study_metrics.csv (23 KB) is over it
    plan = plan_attachments(built.sources, load_manifest(built.sources), tmp_path)
    assert (
        "case_study_metrics.csv",
        "larger than the 0.02 MB cap per file (REPORT_ATTACHMENT_MAX_MB)",
    ) in plan.left_out
    index = (tmp_path / "source-files.csv").read_text(encoding="utf-8")
    row = next(line for line in index.splitlines() if line.startswith("case_study_metrics.csv,"))
    assert ",no,larger than the" in row and len(row.split(",")[2]) == 64  # the sha256 is listed
    assert plan.files[-1].name == "source-files.csv"


# --- deterministic wherever built ---------------------------------------------------------------------------------


def test_same_sources_give_the_same_pdfs_in_another_folder(built: Project, tmp_path: Path) -> None:
    elsewhere = Project(
        built.sources,
        tmp_path / "elsewhere" / "out",
        tmp_path / "elsewhere" / "home",
        {
            **built.env,
            "REPORT_OUTPUT_DIR": str(tmp_path / "elsewhere" / "out"),
            "DAGSTER_HOME": str(tmp_path / "elsewhere" / "home"),
        },
    )
    proc = elsewhere.cli("build")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in PDF_NAMES.values():
        assert (elsewhere.out / name).read_bytes() == (built.out / name).read_bytes(), name


# --- corrupt or missing state -------------------------------------------------------------------------------------


def test_truncated_warehouse_is_named_then_rebuilt(built: Project) -> None:
    warehouse = built.out / "warehouse.duckdb"
    data = warehouse.read_bytes()
    warehouse.write_bytes(data[: len(data) // 2])
    status = built.cli("status")
    assert status.returncode == 1 and "Traceback" not in status.stderr
    assert f"the warehouse {warehouse} cannot be read" in status.stderr
    proc = built.cli("refresh")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "could not be read" in proc.stderr and "rebuilding it from sources/" in proc.stderr
    assert list(built.out.glob("warehouse.duckdb.corrupt-*"))
    assert built.cli("status").returncode == 0
    assert_published_consistently(built.out)


def test_garbage_dagster_home_is_named_with_the_reset_command(built: Project) -> None:
    for db in built.home.rglob("*.db"):
        db.write_bytes(b"this is not a database" * 100)
    proc = built.cli("build")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"Dagster's run history in {built.home} cannot be read" in proc.stderr
    assert f"`mv {built.home} {built.home}.broken`" in proc.stderr
    shutil.move(built.home, f"{built.home}.broken")
    assert built.cli("build").returncode == 0


def test_disk_full_during_publish_names_the_path_and_keeps_the_edition(built: Project) -> None:
    before = assert_published_consistently(built.out)
    _change_a_table(built)
    script = (
        "import errno, os, shutil, sys\nimport pipeline.lib.publish.editions as e\n"
        "def full(src, dst, *a, **k):\n    raise OSError(errno.ENOSPC, 'No space left on device', str(dst))\n"
        "e.shutil = type('S', (), {'copyfile': staticmethod(full), 'rmtree': staticmethod(shutil.rmtree)})\n"
        "from pipeline.cli import main\nsys.exit(main(['refresh']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], env=built.env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 1
    assert "No space left on device" in proc.stderr and "/editions/.tmp-" in proc.stderr
    assert "the last published edition was left as it was" in proc.stderr
    assert assert_published_consistently(built.out) == before
    assert built.cli("refresh").returncode == 0


def test_failed_rollback_never_hides_the_error(tmp_path: Path) -> None:
    import duckdb

    from pipeline.lib.db import transaction

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    with pytest.raises(PermissionError, match="read-only disk"), transaction(con):
        con.execute("CREATE TABLE t (x INT)")
        con.close()  # the rollback below now fails: its error must not replace the real one
        raise PermissionError("read-only disk")


# --- interrupted -----------------------------------------------------------------------------------------------------


def test_ctrl_c_says_nothing_was_published(built: Project) -> None:
    before = assert_published_consistently(built.out)
    _change_a_table(built)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "refresh"],
        env=built.env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    for line in proc.stdout:
        if line.startswith("  built   raw/"):
            break
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group, render workers included
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    assert "interrupted after" in err and "nothing published" in err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    time.sleep(0.5)
    assert subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True).returncode == 1, "a worker was left"
    assert assert_published_consistently(built.out) == before
    again = built.cli("refresh")
    assert again.returncode == 0, again.stdout + again.stderr
