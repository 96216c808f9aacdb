"""Published editions: an atomic, archived publish, and checks of what is published.

output/
  editions/<edition_id>/   report.pdf, report_zh.pdf, report_en.pdf, context.json, changes.json, edition.json
  latest -> editions/<edition_id>     (symlink, swapped atomically; always a complete good edition)
  report.pdf, report_zh.pdf, report_en.pdf -> latest/...   links: they switch together with `latest`
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pipeline.config import PROJECT_ROOT
from pipeline.lib.ingest.inputs import file_sha256
from pipeline.lib.report.build import PDF_NAMES, context_json
from pipeline.lib.report.changes import LATEST, latest_edition, read_json
from pipeline.lib.report.records import Changes, ReportContext, to_json
from pipeline.lib.warehouse.locking import held

EDITIONS = "editions"
PUBLISH_LOCK = ".publish.lock"
CODE_GLOBS = ("pipeline/**/*.py", "report_templates/**/*")


class PublishError(RuntimeError):
    """The staged edition failed validation; nothing was published."""


@dataclass(frozen=True, kw_only=True)
class EditionRecord:
    """An edition's record (edition.json): its id, when it was published, the input hashes and code version it was
    made from, the sha256 of each published file, and the edition before it."""

    edition_id: str
    published_at: str
    inputs: Mapping[str, str]
    code_version: str
    outputs: Mapping[str, str]
    previous: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EditionRecord:
        """A record read from edition.json (one written before a field existed reads it as empty)."""
        return cls(
            edition_id=data["edition_id"],
            published_at=data.get("published_at", ""),
            inputs=data.get("inputs", {}),
            code_version=data.get("code_version", ""),
            outputs=data.get("outputs", {}),
            previous=data.get("previous"),
        )


def read_record(folder: Path) -> EditionRecord | None:
    """The record of the edition in `folder`, None if it has none."""
    data = read_json(folder / "edition.json") if folder.is_dir() else None
    return EditionRecord.from_json(data) if data is not None else None


def code_version() -> str:
    """Hash of the code and templates that made an edition (git is not needed at run time)."""
    digest = hashlib.sha256()
    for pattern in CODE_GLOBS:
        for path in sorted(PROJECT_ROOT.glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(PROJECT_ROOT).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def validate_pdf(path: Path) -> int:
    """A complete PDF that a PDF reader opens, with at least one page; returns the page count."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    data = path.read_bytes() if path.is_file() else b""
    problem = f"{path.name} is missing or not a complete PDF; nothing was published"
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-1024:]:
        raise PublishError(problem)
    try:
        pages = len(PdfReader(path, strict=False).pages)
    except (PdfReadError, ValueError, KeyError) as exc:
        raise PublishError(f"{problem} ({exc})") from exc
    if pages < 1:
        raise PublishError(problem)
    return pages


def publish(
    staged: Path,
    out_dir: Path,
    ctx: ReportContext,
    changes: Changes,
    inputs: Mapping[str, str],
    run_id: str | None = None,
) -> EditionRecord:
    """Validate the staged PDFs, archive them as a new edition, then switch `latest` (one atomic rename; the
    top-level PDFs are links into it and switch with it). Under the publish lock: two runs publish one after the
    other, each edition chaining to the one before. The edition id is unique per run (time, inputs hash, run id)."""
    for name in PDF_NAMES.values():
        validate_pdf(staged / name)
    with held(out_dir / PUBLISH_LOCK, "publish"):
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        inputs_hash = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:8]
        edition_id = f"{now:%Y%m%dT%H%M%SZ}-{inputs_hash}-{(run_id or uuid.uuid4().hex)[:8]}"
        editions = out_dir / EDITIONS
        editions.mkdir(parents=True, exist_ok=True)
        for stale in editions.glob(".tmp-*"):  # left by a publish that died; none runs beside us (the lock)
            shutil.rmtree(stale, ignore_errors=True)
        tmp = editions / f".tmp-{edition_id}"
        final = editions / edition_id
        try:
            tmp.mkdir()
            outputs = {}
            for name in PDF_NAMES.values():
                shutil.copyfile(staged / name, tmp / name)
                outputs[name] = file_sha256(tmp / name)
            (tmp / "context.json").write_text(context_json(ctx), encoding="utf-8")
            (tmp / "changes.json").write_text(
                json.dumps(to_json(changes), ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8"
            )
            previous = latest_edition(out_dir)
            record = EditionRecord(
                edition_id=edition_id,
                published_at=now.isoformat(),
                inputs=dict(inputs),
                code_version=code_version(),
                outputs=outputs,
                previous=previous.name if previous else None,
            )
            (tmp / "edition.json").write_text(json.dumps(asdict(record), indent=1, sort_keys=True), encoding="utf-8")
            os.rename(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        _switch_link(out_dir / LATEST, Path(EDITIONS) / edition_id)
        link_stable_names(out_dir)
    return record


def _switch_link(link: Path, target: Path) -> None:
    """Point `link` at `target` with one atomic rename of a fresh link over it."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(target)
    os.replace(tmp, link)


def link_stable_names(out_dir: Path) -> list[str]:
    """Make output/report*.pdf links to latest/report*.pdf (they then switch with `latest`); returns the names
    that were not such links (a copy from an older version, a missing file) and were repaired."""
    repaired = []
    for name in PDF_NAMES.values():
        path, target = out_dir / name, Path(LATEST) / name
        if path.is_symlink() and Path(os.readlink(path)) == target:
            continue
        _switch_link(path, target)
        repaired.append(name)
    return repaired


@dataclass(frozen=True)
class PublishedState:
    """What `verify_published` found: problems, and what it repaired."""

    problems: list[str]
    repaired: list[str]


def verify_published(out_dir: Path, repair: bool = False) -> PublishedState:
    """Check that `latest` points at a complete edition whose files match its record, and that the top-level
    PDFs are links into it. With `repair`: re-point `latest` at the newest complete edition and re-link the
    top-level names (under the publish lock)."""
    link = out_dir / LATEST
    if not link.is_symlink() and not (out_dir / EDITIONS).is_dir():
        return PublishedState([], [])
    with held(out_dir / PUBLISH_LOCK, "verify published edition") if repair else contextlib.nullcontext():
        problems, repaired = [], []
        current = link.resolve() if link.is_symlink() else None
        if current is None or _edition_problems(current):
            why = "missing" if current is None else "; ".join(_edition_problems(current))
            problems.append(f"output/latest: {why}")
            good = _newest_complete(out_dir / EDITIONS)
            if repair and good is not None:
                _switch_link(link, Path(EDITIONS) / good.name)
                repaired.append(f"output/latest -> editions/{good.name}")
        for name in PDF_NAMES.values():
            path = out_dir / name
            if not (path.is_symlink() and Path(os.readlink(path)) == Path(LATEST) / name):
                problems.append(f"output/{name} is not the link to latest/{name}")
        if repair and link.is_symlink():
            repaired += [f"output/{n} -> latest/{n}" for n in link_stable_names(out_dir)]
    return PublishedState(problems, repaired)


def _edition_problems(folder: Path) -> list[str]:
    record = read_record(folder)
    if record is None:
        return [f"{folder.name} has no edition record"]
    return [
        f"{folder.name}/{name} differs from its record"
        for name, digest in record.outputs.items()
        if file_sha256(folder / name) != digest
    ]


def _newest_complete(editions: Path) -> Path | None:
    complete = [f for f in editions.iterdir() if not f.name.startswith(".") and not _edition_problems(f)]
    return max(complete, key=lambda f: record.published_at if (record := read_record(f)) else "", default=None)
