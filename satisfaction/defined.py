"""Defined parameters (lavaan's ``:=``): functions of labelled parameters.

``ab := a*b`` defines the indirect effect through the paths labelled ``a`` and
``b``; ``total := c + a*b`` a total effect. The expression is read with
Python's :mod:`ast` and only arithmetic is allowed: numbers, labels, names
defined on earlier lines, ``+ - * / **``, unary minus and the functions
``sqrt exp log abs``. Nothing is evaluated as code.

Their standard errors come from the delta method and their intervals from the
delta method or the bootstrap (see :mod:`satisfaction.model`); their ``std.all``
is the same expression evaluated on the standardized parameters, as lavaan's
``standardizedSolution()`` does.

Example
-------
>>> from satisfaction.defined import compile_defined, evaluate
>>> code = compile_defined([("ab", "a*b"), ("total", "c + ab")], {"a", "b", "c"})
>>> evaluate(code, {"a": 0.5, "b": 0.4, "c": 0.1})
[0.2, 0.30000000000000004]
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterable, Mapping

FUNCTIONS: dict[str, Callable[[float], float]] = {
    "sqrt": math.sqrt, "exp": math.exp, "log": math.log, "abs": abs}
_BINARY = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
           ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
           ast.Pow: lambda a, b: a ** b}


class DefinitionProblem(ValueError):
    """A defined parameter that cannot be read; ``name`` is the one at fault."""

    def __init__(self, message: str, name: str) -> None:
        super().__init__(message)
        self.name = name


def _names(node: ast.AST, name: str) -> set[str]:
    """The names an expression uses; refuses anything but arithmetic."""
    out: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            if sub.id not in FUNCTIONS:
                out.add(sub.id)
        elif isinstance(sub, ast.Call):
            if not (isinstance(sub.func, ast.Name) and sub.func.id in FUNCTIONS
                    and len(sub.args) == 1 and not sub.keywords):
                raise DefinitionProblem(f"{name}: only {', '.join(FUNCTIONS)} of one "
                                        "argument may be called", name)
        elif isinstance(sub, ast.Constant):
            if not isinstance(sub.value, int | float) or isinstance(sub.value, bool):
                raise DefinitionProblem(f"{name}: {sub.value!r} is not a number", name)
        elif not isinstance(sub, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.USub,
                                  ast.UAdd, ast.Load, *_BINARY)):
            raise DefinitionProblem(f"{name}: {type(sub).__name__} is not allowed in a "
                                    "defined parameter (use numbers, labels and + - * / **)",
                                    name)
    return out


def compile_defined(definitions: Iterable[tuple[str, str]], labels: set[str]
                    ) -> list[tuple[str, ast.Expression]]:
    """Read ``(name, expression)`` pairs, checking every name they use.

    Raises
    ------
    DefinitionProblem
        An expression that is not arithmetic, a name that is neither a label nor
        defined on an earlier line, or a name defined twice.
    """
    out: list[tuple[str, ast.Expression]] = []
    known = set(labels)
    for name, text in definitions:
        if name in known:
            raise DefinitionProblem(f"{name!r} is already a label or a defined parameter",
                                    name)
        try:
            tree = ast.parse(text.replace("^", "**"), mode="eval")
        except SyntaxError:
            raise DefinitionProblem(f"{name} := {text}: not an arithmetic expression",
                                    name) from None
        unknown = sorted(_names(tree, name) - known)
        if unknown:
            raise DefinitionProblem(f"{name} := {text} uses {', '.join(unknown)}, which "
                                    "labels no parameter (label one with e.g. 'a*x')", name)
        out.append((name, tree))
        known.add(name)
    return out


def _value(node: ast.AST, values: Mapping[str, float]) -> float:
    if isinstance(node, ast.Expression):
        return _value(node.body, values)
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return float(values[node.id])
    if isinstance(node, ast.UnaryOp):
        v = _value(node.operand, values)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_value(node.left, values), _value(node.right, values))
    if isinstance(node, ast.Call):
        try:
            return float(FUNCTIONS[node.func.id](_value(node.args[0], values)))  # type: ignore[attr-defined]
        except ValueError:
            return math.nan
    raise TypeError(type(node).__name__)  # excluded by compile_defined


def evaluate(compiled: list[tuple[str, ast.Expression]], values: Mapping[str, float]
             ) -> list[float]:
    """Each defined parameter's value, given the labels' values (in order)."""
    known = dict(values)
    out = []
    for name, tree in compiled:
        try:
            v = _value(tree, known)
        except (ZeroDivisionError, OverflowError):
            v = math.nan
        known[name] = v
        out.append(v)
    return out


__all__ = ["FUNCTIONS", "DefinitionProblem", "compile_defined", "evaluate"]
