"""The code's shape: `pipeline/lib` in layers that mirror the pipeline, arrows pointing only down, no cycles.

    base (errors, yamlio, db, fonts) < ingest < warehouse < forecast < report < publish < defs < services < cli

Every import counts, function-level ones included, so a cycle cannot hide behind a late import.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pipeline
from pipeline.config import PROJECT_ROOT

LAYERS = ("base", "ingest", "warehouse", "forecast", "report", "publish", "defs", "services", "cli")


def _layer(module: str) -> str:
    parts = module.split(".")
    if parts[:2] == ["pipeline", "lib"]:
        return parts[2] if len(parts) > 3 and parts[2] in LAYERS else "base"
    if parts[:2] == ["pipeline", "services"]:
        return "services"
    if parts[:2] == ["pipeline", "defs"] or module == "pipeline.definitions":
        return "defs"
    if module == "pipeline.cli":
        return "cli"
    return "base"  # pipeline.config


def _modules() -> dict[str, Path]:
    root = PROJECT_ROOT / "pipeline"
    found = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(path: Path, known: set[str]) -> set[str]:
    """The project modules `path` imports anywhere in its body (`from a import b` counts `a.b` when b is one)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        out |= {n for n in names if n in known}
    return out


def test_every_module_imports_on_its_own() -> None:
    for info in pkgutil.walk_packages(pipeline.__path__, "pipeline."):
        importlib.import_module(info.name)


def test_arrows_point_down_the_layers() -> None:
    modules = _modules()
    upward = []
    for name, path in modules.items():
        for target in _imports(path, set(modules)):
            if LAYERS.index(_layer(target)) > LAYERS.index(_layer(name)):
                upward.append(f"{name} ({_layer(name)}) imports {target} ({_layer(target)})")
    assert upward == []


def test_no_import_cycle() -> None:
    modules = _modules()
    graph = {name: _imports(path, set(modules)) - {name} for name, path in modules.items()}
    # a package imports its own submodules through __init__ only by name; drop parent → child edges
    graph = {n: {t for t in ts if not t.startswith(n + ".")} for n, ts in graph.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(trail[trail.index(nxt) :] + [nxt]) if nxt in trail else nxt)
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []
