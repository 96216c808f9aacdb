"""Which source files the PDFs carry as attachments: only what the manifest lists, within size caps.

The attachments are the manifest's tables and the catalogues beside them (manifest, series, labels): never an
unlisted file, never a symbolic link (a link could lead outside sources/). A file above the per-file cap, or one
that would take the PDF above the total cap, is left out; `source-files.csv`, always attached, lists every file
with its size and sha256 and says which were left out and why, so the audit trail stays complete. Decided before
anything is laid out.

    REPORT_ATTACHMENT_MAX_MB    largest file attached (default 20)
    REPORT_ATTACHMENTS_MAX_MB   all attachments of one PDF together (default 50)
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import settings
from pipeline.lib.ingest.manifest import LABELS_FILE, MANIFEST_FILE, SERIES_FILE, TableSpec

INDEX_NAME = "source-files.csv"
MB = 1 << 20


@dataclass(frozen=True)
class AttachmentPlan:
    """The files to attach (the index last) and the ones left out, with why."""

    files: list[Path]
    left_out: list[tuple[str, str]]


def _cap(megabytes: float) -> int:
    return round(megabytes * MB)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(MB):
            digest.update(chunk)
    return digest.hexdigest()


def plan_attachments(sources_dir: Path, specs: list[TableSpec], index_dir: Path) -> AttachmentPlan:
    """Choose the attachments and write the index (`index_dir/source-files.csv`)."""
    per_file = _cap(settings().attachment_max_mb)
    total_cap = _cap(settings().attachments_max_mb)
    names = sorted({MANIFEST_FILE, SERIES_FILE, LABELS_FILE} | {s.file for s in specs})
    chosen, left_out, rows, total = [], [], [], 0
    for name in names:
        path = sources_dir / name
        if path.is_symlink() or not path.is_file():
            left_out.append((name, "not a regular file in sources/ (a link or missing)"))
            rows.append([name, "", "", "no", left_out[-1][1]])
            continue
        size = path.stat().st_size
        why = (
            f"larger than the {per_file / MB:.3g} MB cap per file (REPORT_ATTACHMENT_MAX_MB)"
            if size > per_file
            else f"would take the attachments above {total_cap / MB:.3g} MB (REPORT_ATTACHMENTS_MAX_MB)"
            if total + size > total_cap
            else ""
        )
        if why:
            left_out.append((name, why))
        else:
            chosen.append(path)
            total += size
        rows.append([name, str(size), _sha256(path), "no" if why else "yes", why])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["file", "bytes", "sha256", "attached", "why not"])
    writer.writerows(rows)
    index_dir.mkdir(parents=True, exist_ok=True)
    index = index_dir / INDEX_NAME
    index.write_text(buffer.getvalue(), encoding="utf-8")
    return AttachmentPlan([*chosen, index], left_out)
