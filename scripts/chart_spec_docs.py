"""Rewrite the generated key tables of docs/chart-specs.md from the chart spec models (a test fails when they are
out of date):

    .venv/bin/python scripts/chart_spec_docs.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.lib.report.figures.spec_model import keys_tables  # noqa: E402

BEGIN, END = "<!-- spec-keys:begin -->\n", "<!-- spec-keys:end -->"


def main() -> int:
    """Rewrite the block between the markers in place."""
    doc = ROOT / "docs" / "chart-specs.md"
    text = doc.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    new = head + BEGIN + keys_tables() + END + rest.split(END, 1)[1]
    if new != text:
        doc.write_text(new, encoding="utf-8")
    print("updated docs/chart-specs.md" if new != text else "docs/chart-specs.md is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
