"""Take a new or corrected table into sources/ (`reportctl add-source`), safely.

Guarantees (docs/add-a-source.md):
- nothing is written, copied or read outside sources/ and the command's own temp folder, whatever the entry
  says: the entry's `file` must be a plain file name, checked before any filesystem operation;
- the input file is read once, refusing symbolic links and anything but a regular file; the validation copy of
  sources/ keeps links as links (a link that leaves sources/ is refused there, never followed);
- the table and its entry are validated against a throwaway warehouse (the same ingest, core and forecast code
  as a run) and only then moved into sources/, each by an atomic rename; the temp folder is always removed;
- a refusal is one `Refused` with every problem, naming the analyst's own files (the table as given, the entry
  file and the line of its key, the sheet of a workbook).
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

from pipeline.lib import yamlio
from pipeline.lib.errors import Problem, SourceError
from pipeline.lib.forecast.engine import implausible, run_forecasts
from pipeline.lib.ingest.manifest import (
    MANIFEST_FILE,
    entry_file_problems,
    key_lines,
    load_manifest,
    plain_file_name_problem,
)
from pipeline.lib.ingest.manifest_docs import write_readme
from pipeline.lib.warehouse.build import build_warehouse
from pipeline.lib.warehouse.core import sources_dir_problems

MANIFEST_HEADER = "# One entry per source table. Format and rules: sources/README.md.\n"


class Refused(Exception):
    """The table was not added; `problems` say why. Nothing in sources/ changed."""

    def __init__(self, problems: list[Problem | str] | Problem | str) -> None:
        self.problems = problems if isinstance(problems, list) else [problems]
        super().__init__("\n".join(map(str, self.problems)))


@dataclass(frozen=True)
class Added:
    """What add-source put into sources/."""

    file: str
    entry_id: str | None


def read_regular_file(path: Path, label: str) -> bytes:
    """The bytes of `path`, refusing a symbolic link (O_NOFOLLOW) and anything but a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Refused(
                Problem(
                    label,
                    "is a symbolic link; give the table file itself (links are never "
                    "followed, so that nothing outside sources/ is read)",
                )
            ) from exc
        if exc.errno == errno.ENOENT:
            raise Refused(Problem(label, "not found")) from exc
        raise Refused(Problem(label, f"cannot be read: {exc.strerror}")) from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Refused(Problem(label, "is not a regular file; give a .csv or .xlsx table"))
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read()
    finally:
        os.close(fd)


def _read_entry(entry_file: Path, file: Path) -> tuple[dict[str, Any], str]:
    """The entry mapping and its text; `file` defaults to the table's own name."""
    label = str(entry_file)
    data = read_regular_file(entry_file, label)
    try:
        text = data.decode("utf-8-sig")
        entry = yamlio.load(text)
    except UnicodeDecodeError as exc:
        raise Refused(Problem(label, "is not UTF-8 text; save the entry as UTF-8 YAML")) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise Refused(
            Problem(
                label, f"is not valid YAML: {getattr(exc, 'problem', None) or exc}", row=mark.line + 1 if mark else None
            )
        ) from exc
    if not isinstance(entry, dict) or "id" not in entry:
        raise Refused(
            Problem(label, "must hold one manifest entry: a mapping with an `id` (format: sources/README.md)", row=1)
        )
    entry.setdefault("file", file.name)
    return entry, text


def _copy_sources(sources: Path, target: Path) -> None:
    """Copy sources/ for validation: links stay links (never followed), hidden names are left out."""
    shutil.copytree(sources, target, symlinks=True, ignore=shutil.ignore_patterns(".*"))


def _entry_spans(text: str) -> list[tuple[int, int]]:
    """(first, last) line index (0-based, inclusive) of each entry under `tables:`, trailing blanks excluded."""
    root = yamlio.compose(text)
    items = []
    for key, value in getattr(root, "value", []):
        if getattr(key, "value", None) == "tables" and isinstance(value, yaml.SequenceNode):
            items = value.value
    lines = text.splitlines()
    starts = [item.start_mark.line for item in items]
    spans = []
    for i, start in enumerate(starts):
        end = (starts[i + 1] if i + 1 < len(starts) else len(lines)) - 1
        while end > start and not lines[end].strip():
            end -= 1
        spans.append((start, end))
    return spans


def _entry_block(entry: dict[str, Any]) -> list[str]:
    body = yaml.safe_dump(entry, allow_unicode=True, sort_keys=False, width=120).splitlines()
    return [f"  - {body[0]}", *(f"    {line}" for line in body[1:])]


def manifest_with_entry(text: str, entry: dict[str, Any]) -> str:
    """The manifest text with `entry` added at the end, or in place of the entry with its id: every other line
    stays byte-identical. Falls back to rewriting the document if its layout cannot be edited line by line."""
    doc = yamlio.load(text) or {}
    tables = doc.get("tables") or []
    ids = [e.get("id") if isinstance(e, dict) else None for e in tables]
    replacing = entry["id"] in ids
    expected = {
        **doc,
        "tables": [entry if i == entry["id"] else e for i, e in zip(ids, tables, strict=True)]
        if replacing
        else [*tables, entry],
    }
    lines = text.splitlines()
    try:
        spans = _entry_spans(text)
        if replacing:
            first, last = spans[ids.index(entry["id"])]
            new_text = "\n".join(lines[:first] + _entry_block(entry) + lines[last + 1 :]) + "\n"
        else:
            new_text = "\n".join([*lines, "", *_entry_block(entry)]) + "\n"
        if yamlio.load(new_text) == expected:
            return new_text
    except (yaml.YAMLError, IndexError):
        pass
    return MANIFEST_HEADER + yaml.safe_dump(expected, allow_unicode=True, sort_keys=False, width=200)


def validate_candidate(sources: Path) -> list[Problem | str]:
    """Build a throwaway warehouse (in memory) and the forecasts from `sources`; return the problems."""
    con = duckdb.connect()
    try:
        build_warehouse(con, sources)
        problems: list[Problem | str] = list(sources_dir_problems(sources, load_manifest(sources)))
        problems += implausible(run_forecasts(con))
    except SourceError as exc:
        problems = list(exc.problems)
    finally:
        con.close()
    return problems


def _as_given(problem: Problem | str, dest: str, given: str, entry_id: str | None, entry_file: str) -> Problem | str:
    """A problem named by the analyst's own files: sources/<dest> (maybe with its sheet) by the path given, the
    new entry's problems in the candidate manifest by the entry file."""
    if not isinstance(problem, Problem):
        return problem
    prefix = f"sources/{dest}"
    if problem.file == prefix or problem.file.startswith(prefix + ", sheet "):
        return Problem(given + problem.file[len(prefix) :], problem.message, problem.row, problem.column)
    own = f"entry {entry_id!r}: "
    if entry_id is not None and problem.file == f"sources/{MANIFEST_FILE}" and problem.message.startswith(own):
        return Problem(entry_file, problem.message[len(own) :], None, problem.column)
    return problem


def _replace_atomically(data: bytes, target: Path) -> None:
    """Write `data` next to `target` under a hidden temp name, then rename it over `target`."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def add_source(file: Path, entry_file: Path | None, sources: Path) -> Added:
    """Validate `file` (with its manifest entry, for a new table) and move it into `sources`; raise Refused."""
    given = str(file)
    entry, entry_text = _read_entry(entry_file, file) if entry_file is not None else (None, "")
    dest = str(entry["file"]) if entry else file.name
    if (why := plain_file_name_problem(dest)) is not None:
        where = str(entry_file) if entry else given
        raise Refused(
            Problem(
                where, why, row=key_lines(entry_text).get("file") if entry else None, column="file" if entry else None
            )
        )
    if Path(dest).suffix.lower() != file.suffix.lower():
        raise Refused(
            Problem(
                given,
                f"is a {file.suffix or 'file without suffix'} but its entry names "
                f"{dest!r}; give a table of the same type",
            )
        )
    manifest_path = sources / MANIFEST_FILE
    try:
        manifest_text = manifest_path.read_text(encoding="utf-8")
        load_manifest(sources)
    except SourceError as exc:
        raise Refused(["sources/manifest.yaml has problems; fix them first:", *exc.problems]) from exc
    except OSError as exc:
        raise Refused(Problem("sources/manifest.yaml", f"cannot be read: {exc.strerror}")) from exc
    listed = {e.get("file") for e in (yamlio.load(manifest_text) or {}).get("tables") or [] if isinstance(e, dict)}
    if entry is None and dest not in listed:
        raise Refused(
            Problem(
                given,
                f"{dest} is not in sources/manifest.yaml; give its entry with --entry "
                "ENTRY.yaml (format: sources/README.md)",
            )
        )
    data = read_regular_file(file, given)
    with tempfile.TemporaryDirectory(prefix="add-source-") as tmp:
        candidate = Path(tmp) / "sources"
        _copy_sources(sources, candidate)
        staged = candidate / dest
        if staged.is_symlink() or staged.exists():
            staged.unlink()
        staged.write_bytes(data)
        new_manifest = manifest_text
        if entry is not None:
            problems = entry_file_problems(entry, entry_text, candidate, str(entry_file))
            if problems:
                raise Refused(list(problems))
            new_manifest = manifest_with_entry(manifest_text, entry)
            (candidate / MANIFEST_FILE).write_text(new_manifest, encoding="utf-8")
        entry_id = str(entry["id"]) if entry else None
        problems = [_as_given(p, dest, given, entry_id, str(entry_file)) for p in validate_candidate(candidate)]
        if problems:
            raise Refused(problems)
        for content, target in ((data, sources / dest), (new_manifest.encode("utf-8"), manifest_path)):
            if target == manifest_path and entry is None:
                continue
            try:
                _replace_atomically(content, target)
            except OSError as exc:
                raise Refused(Problem(f"sources/{target.name}", f"cannot be written: {exc.strerror or exc}")) from exc
        if entry is not None:
            write_readme(sources)  # its table of sources is generated from the manifest
    return Added(dest, str(entry["id"]) if entry else None)
