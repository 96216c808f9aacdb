"""Safe evaluation of the arithmetic formulas that derived rows carry (e.g. '3650/527', '615/1.44')."""

from __future__ import annotations

import ast
import operator

_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def evaluate(formula: str) -> float:
    """Evaluate numbers with + - * / ** and parentheses; raise ValueError on anything else."""
    text = formula.strip().lstrip("=").replace("×", "*").replace("÷", "/").replace(",", "")

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](walk(node.operand))
        raise ValueError(f"formula {formula!r} may only hold numbers, + - * / ** and parentheses")

    try:
        return walk(ast.parse(text, mode="eval"))
    except (SyntaxError, ZeroDivisionError) as exc:
        raise ValueError(f"formula {formula!r} cannot be evaluated: {exc}") from exc
