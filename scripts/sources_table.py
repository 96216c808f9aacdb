"""Write the table of sources (id → file, seed figure/page, publisher, status) into sources/README.md.

Run after editing sources/manifest.yaml:  .venv/bin/python scripts/sources_table.py
A test fails when the README's table is out of date with the manifest.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.lib.manifest import load_manifest  # noqa: E402

BEGIN, END = "<!-- sources-table:begin -->", "<!-- sources-table:end -->"


def render_table(sources_dir: Path) -> str:
    """The markdown table of every manifest entry."""
    lines = ["| id | file | kind | where in the seed report | publisher | published | status |",
             "|---|---|---|---|---|---|---|"]
    for s in load_manifest(sources_dir):
        cells = [s.id, f"`{s.file}`", s.kind, s.reference, s.publisher, s.published.isoformat(), s.status]
        lines.append("| " + " | ".join(c.replace("|", "/").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines)


def updated_readme(readme: str, table: str) -> str:
    """The README with the table between the markers (appended with a heading if the markers are missing)."""
    block = f"{BEGIN}\n{table}\n{END}"
    if BEGIN in readme and END in readme:
        head, rest = readme.split(BEGIN, 1)
        return head + block + rest.split(END, 1)[1]
    return readme.rstrip() + "\n\n## Which table feeds which part of the seed report\n\n" + block + "\n"


def main() -> int:
    """Rewrite sources/README.md in place."""
    readme = ROOT / "sources" / "README.md"
    readme.write_text(updated_readme(readme.read_text(encoding="utf-8"), render_table(ROOT / "sources")),
                      encoding="utf-8")
    print(f"updated {readme.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
