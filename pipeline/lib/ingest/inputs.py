"""Hashes of the files in sources/ as the pipeline sees them (no database access: safe in sensors)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipeline.lib.errors import SourceError
from pipeline.lib.ingest.manifest import LABELS_FILE, MANIFEST_FILE, SERIES_FILE, load_manifest

ENTRY_PREFIX = "entry:"


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file ('' if it is missing)."""
    if not path.is_file():
        return ""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def source_hashes(sources_dir: Path) -> dict[str, str]:
    """{table id: sha256 of its file, 'entry:<table id>': sha256 of its manifest entry, 'catalog:<file>': sha256,
    'manifest': sha256}."""
    hashes = {f"catalog:{name}": file_sha256(sources_dir / name) for name in (SERIES_FILE, LABELS_FILE)}
    hashes["manifest"] = file_sha256(sources_dir / MANIFEST_FILE)
    try:
        specs = load_manifest(sources_dir)
    except SourceError:
        return hashes
    hashes |= {s.id: file_sha256(s.path(sources_dir)) for s in specs}
    hashes |= {f"entry:{s.id}": s.entry_sha256 for s in specs}
    return dict(sorted(hashes.items()))


def changed_inputs(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """Keys whose hash differs (added, removed or changed), the manifest itself excluded (its entries count one
    by one). A table recorded before entries were hashed has no `entry:` key: it counts as changed, so that the
    first refresh after that upgrade re-reads every table once instead of missing an edited entry."""
    return sorted(k for k in set(old) | set(new) if k != "manifest" and old.get(k) != new.get(k))


def unrecorded_entry(name: str, old: dict[str, str], new: dict[str, str]) -> bool:
    """True for an `entry:` key that one side lacks while both have the table: a record from before entries
    were hashed, not an edit worth listing in a changelog."""
    table = name.removeprefix(ENTRY_PREFIX)
    return name.startswith(ENTRY_PREFIX) and (name not in old or name not in new) and table in old and table in new


def table_of(name: str) -> str | None:
    """The table id an input name stands for (its file or its manifest entry); None for a catalogue file."""
    if name.startswith("catalog:"):
        return None
    return name.removeprefix(ENTRY_PREFIX)


def published_inputs(out_dir: Path) -> dict[str, str]:
    """The input hashes recorded by the last published edition (`out_dir/latest/edition.json`), {} if none."""
    import json

    record = out_dir / "latest" / "edition.json"
    try:
        return dict(json.loads(record.read_text(encoding="utf-8"))["inputs"])
    except (OSError, ValueError, KeyError, TypeError):
        return {}
