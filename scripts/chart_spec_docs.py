"""Rewrite the generated key tables of docs/chart-specs.md from the chart spec and diagram models (a test fails when
they are out of date):

    .venv/bin/python scripts/chart_spec_docs.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.lib.report.figures import diagram_model  # noqa: E402
from pipeline.lib.report.figures.spec_model import keys_tables  # noqa: E402

BLOCKS = {"spec-keys": keys_tables(), "diagram-keys": keys_tables(diagram_model.MODELS)}


def main() -> int:
    """Rewrite the block between the markers in place."""
    doc = ROOT / "docs" / "chart-specs.md"
    text = new = doc.read_text(encoding="utf-8")
    for name, block in BLOCKS.items():
        begin, end = f"<!-- {name}:begin -->\n", f"<!-- {name}:end -->"
        head, rest = new.split(begin, 1)
        new = head + begin + block + end + rest.split(end, 1)[1]
    if new != text:
        doc.write_text(new, encoding="utf-8")
    print("updated docs/chart-specs.md" if new != text else "docs/chart-specs.md is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
