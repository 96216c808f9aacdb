"""Rewrite the generated parts of sources/README.md (manifest keys, column roles, the table of sources) from the
definitions the validator uses. `reportctl add-source` does this itself; run it after editing the manifest by hand:

    .venv/bin/python scripts/sources_table.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.lib.ingest.manifest_docs import write_readme  # noqa: E402


def main() -> int:
    """Rewrite sources/README.md in place."""
    changed = write_readme(ROOT / "sources")
    print("updated sources/README.md" if changed else "sources/README.md is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
