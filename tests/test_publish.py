"""Publishing: archive every edition, swap `latest` atomically, never lose the last good edition."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfWriter

from pipeline.config import PROJECT_ROOT
from pipeline.lib.publish.editions import PublishError, publish
from pipeline.lib.report.build import PDF_NAMES
from pipeline.lib.report.changes import latest_edition
from pipeline.lib.report.records import Changes, ReportContext


def _pdf(tag: bytes) -> bytes:
    """A small valid one-page PDF whose metadata carries `tag`."""
    writer = PdfWriter()
    writer.add_blank_page(width=100, height=100)
    writer.add_metadata({"/Title": tag.decode()})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


CTX_JSON = {"meta": {"published": "2023-07-01", "created": "2023-07-01T00:00:00+00:00"}}
CHANGES_JSON = {"previous": None}
CTX, CHANGES = ReportContext.from_json(CTX_JSON), Changes.from_json(CHANGES_JSON)


def _stage(folder: Path, tag: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in PDF_NAMES.values():
        (folder / name).write_bytes(_pdf(tag))
    return folder


def test_every_edition_is_archived_and_latest_moves(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = publish(_stage(tmp_path / "s1", b"one"), out, CTX, CHANGES, {"a": "1"})
    first_bytes = {n: (out / "latest" / n).read_bytes() for n in PDF_NAMES.values()}
    second = publish(_stage(tmp_path / "s2", b"two"), out, CTX, CHANGES, {"a": "2"})
    assert latest_edition(out).name == second.edition_id != first.edition_id
    assert second.previous == first.edition_id
    for name, data in first_bytes.items():
        assert (out / "editions" / first.edition_id / name).read_bytes() == data
    assert b"two" in (out / "report.pdf").read_bytes()
    record = json.loads((out / "latest" / "edition.json").read_text())
    assert record["inputs"] == {"a": "2"} and record["outputs"]["report.pdf"]
    assert (out / "latest" / "changes.json").is_file()


def test_incomplete_pdf_is_not_published(tmp_path: Path) -> None:
    out = tmp_path / "out"
    good = publish(_stage(tmp_path / "s1", b"one"), out, CTX, CHANGES, {"a": "1"})
    staged = _stage(tmp_path / "s2", b"two")
    (staged / "report_en.pdf").write_bytes(_pdf(b"two")[:200])
    with pytest.raises(PublishError, match="report_en.pdf is missing or not a complete PDF"):
        publish(staged, out, CTX, CHANGES, {"a": "2"})
    assert latest_edition(out).name == good.edition_id
    assert b"one" in (out / "report.pdf").read_bytes()


# Kill points, injected from the test: the process dies inside the named function of the publish.
KILL_POINTS = {"copy": "file_sha256", "archived": "_switch_link"}


@pytest.mark.parametrize("crash_at", sorted(KILL_POINTS))
def test_killed_publish_keeps_last_good_edition(tmp_path: Path, crash_at: str) -> None:
    out = tmp_path / "out"
    good = publish(_stage(tmp_path / "s1", b"one"), out, CTX, CHANGES, {"a": "1"})
    before = {n: (out / "latest" / n).read_bytes() for n in PDF_NAMES.values()}
    stable = (out / "report.pdf").read_bytes()
    staged = _stage(tmp_path / "s2", b"two")
    script = (
        "import os, sys, json; from pathlib import Path; import pipeline.lib.publish.editions as editions; "
        "from pipeline.lib.report.records import Changes, ReportContext; "
        f"editions.{KILL_POINTS[crash_at]} = lambda *a, **k: os._exit(17); "
        f"editions.publish(Path({str(staged)!r}), Path({str(out)!r}), ReportContext.from_json({CTX_JSON!r}), "
        f"Changes.from_json({CHANGES_JSON!r}), {{'a': '2'}})"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True)
    assert proc.returncode == 17, proc.stderr.decode()
    assert latest_edition(out).name == good.edition_id
    assert {n: (out / "latest" / n).read_bytes() for n in PDF_NAMES.values()} == before
    assert (out / "report.pdf").read_bytes() == stable
    again = publish(_stage(tmp_path / "s3", b"three"), out, CTX, CHANGES, {"a": "3"})
    assert latest_edition(out).name == again.edition_id
    assert not list((out / "editions").glob(".tmp-*"))
