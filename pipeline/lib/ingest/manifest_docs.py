"""sources/README.md's generated parts, from the same definitions the validator uses: the manifest keys (the
schema of the `manifest.TableSpec` model), the column roles and the names recognised for them
(`columns.ROLE_ALIASES`, `columns.ROLE_DOCS`), and the table of every entry. `reportctl add-source` rewrites them
after it changes the manifest; `scripts/sources_table.py` does the same by hand; a test fails when they are out of
date."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pipeline.lib.ingest.columns import ROLE_ALIASES, ROLE_DOCS
from pipeline.lib.ingest.manifest import TableSpec, load_manifest

README = "README.md"


def _cell(text: str) -> str:
    return text.replace("|", "/").replace("\n", " ")


def keys_table() -> str:
    """Every manifest key from the entry model's schema: required or not, what it means, an example."""
    schema = TableSpec.model_json_schema()
    required = set(schema.get("required", []))
    lines = ["| key | required | meaning | example |", "|---|---|---|---|"]
    for name, prop in schema["properties"].items():
        example = (prop.get("examples") or [""])[0]
        lines.append(
            f"| `{name}` | {'yes' if name in required else ''} | {_cell(prop['description'])} | "
            f"{f'`{_cell(example)}`' if example else ''} |"
        )
    return "\n".join(lines)


def roles_table() -> str:
    """Every column role and the headers recognised for it (case-insensitive; a unit may follow in brackets)."""
    lines = ["| role | headers recognised | meaning |", "|---|---|---|"]
    for role, aliases in ROLE_ALIASES.items():
        lines.append(f"| {role} | {', '.join(f'`{a}`' for a in aliases)} | {_cell(ROLE_DOCS[role])} |")
    lines.append(f"| ignore | (only through `columns:`) | {_cell(ROLE_DOCS['ignore'])} |")
    lines.append(f"| year columns | `2021`, `2021年`, `2021年（亿元）`, `2022E` | {_cell(ROLE_DOCS['year_column'])} |")
    lines.append(
        f"| series columns | a series name or alias, with geography and unit | {_cell(ROLE_DOCS['series_column'])} |"
    )
    return "\n".join(lines)


def entries_table(sources_dir: Path) -> str:
    """The markdown table of every manifest entry."""
    lines = [
        "| id | file | kind | where in the seed report | publisher | published | status |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in load_manifest(sources_dir):
        cells = [s.id, f"`{s.file}`", s.kind, s.reference, s.publisher, s.published.isoformat(), s.status]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def _replace_block(text: str, name: str, body: str) -> str:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    if begin not in text or end not in text:
        return text
    head, rest = text.split(begin, 1)
    return head + f"{begin}\n{body}\n{end}" + rest.split(end, 1)[1]


def updated_readme(readme: str, sources_dir: Path) -> str:
    """The README text with every generated block rewritten (blocks without markers are left alone)."""
    for name, body in (
        ("manifest-keys", keys_table()),
        ("column-roles", roles_table()),
        ("sources-table", entries_table(sources_dir)),
    ):
        readme = _replace_block(readme, name, body)
    return readme


def write_readme(sources_dir: Path) -> bool:
    """Rewrite sources/README.md's generated blocks in place (atomically); True if it changed."""
    path = sources_dir / README
    if not path.is_file():
        return False
    old = path.read_text(encoding="utf-8")
    new = updated_readme(old, sources_dir)
    if new == old:
        return False
    fd, tmp = tempfile.mkstemp(prefix=".README.", suffix=".tmp", dir=sources_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(new)
    os.replace(tmp, path)
    return True
