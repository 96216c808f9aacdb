"""What a figure's data is made of: the status of each value it shows (for the analyst-assumption labels)."""

from __future__ import annotations

from typing import Any


def statuses(node: Any) -> list[str | None]:
    """For every value of a figure's data that has a status or mark: 'assumption' if either says so, else the
    status (walks nested dicts and lists)."""
    if isinstance(node, list):
        return [s for item in node for s in statuses(item)]
    if not isinstance(node, dict):
        return []
    own = []
    if "status" in node or "mark" in node:
        own = ["assumption" if "assumption" in (node.get("status"), node.get("mark")) else node.get("status")]
    return own + [s for value in node.values() for s in statuses(value)]
