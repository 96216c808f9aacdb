"""YAML reading through libyaml's C parser when PyYAML has it: 5-10x faster than the pure-Python parser, and the
manifest and the report's catalogues are read several times per run. The constructors (dates, numbers) are
PyYAML's own either way, so the values are the same."""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str) -> Any:
    """The document in `text` (safe types only)."""
    return yaml.load(text, Loader=SafeLoader)


def compose(text: str) -> yaml.Node | None:
    """The node tree of `text` (with line marks, for error messages)."""
    return yaml.compose(text, Loader=SafeLoader)
