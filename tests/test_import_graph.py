"""No import cycle among the package's modules (issue 16: ``report/context.py`` and
``report/value_context.py`` used to import each other).

An edge ``a → b`` is an import of ``b`` that runs when ``a`` is imported: a module-level
``import``/``from … import`` (also inside a module-level ``if``/``try``), not one inside
a function (a lazy import) and not one under ``if TYPE_CHECKING:``. A cycle is a
strongly connected component of more than one module (Tarjan 1972).
"""

from __future__ import annotations

import ast
from pathlib import Path

import satisfaction

ROOT = Path(satisfaction.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    """Dotted module name → file, for every module of the package."""
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _eager_imports(name: str, path: Path, modules: set[str]) -> set[str]:
    """The package modules ``name`` imports when it is imported."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    imported: set[str] = set()

    def visit(statements: list[ast.stmt]) -> None:
        for s in statements:
            if isinstance(s, ast.If) and "TYPE_CHECKING" in ast.unparse(s.test):
                continue
            if isinstance(s, ast.If):
                visit(s.body)
                visit(s.orelse)
            elif isinstance(s, ast.Try):
                visit(s.body)
                visit(s.orelse)
                visit(s.finalbody)
                for handler in s.handlers:
                    visit(handler.body)
            elif isinstance(s, ast.Import):
                imported.update(a.name for a in s.names)
            elif isinstance(s, ast.ImportFrom):
                if s.level:
                    base = package.split(".")
                    base = base[: len(base) - (s.level - 1)]
                    module = ".".join(base + ([s.module] if s.module else []))
                else:
                    module = s.module or ""
                imported.add(module)
                imported.update(f"{module}.{a.name}" for a in s.names)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return {m for m in imported if m in modules and m != name}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one node (the cycles)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return cycles


def test_the_detector_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(graph) == [["a", "b", "c"]]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_the_import_graph_sees_the_known_edges() -> None:
    modules = _modules()
    graph = {m: _eager_imports(m, p, set(modules)) for m, p in modules.items()}
    # a module-level import the graph must see (else the test below proves nothing)
    assert "satisfaction.errors" in graph["satisfaction.cli"] | graph["satisfaction.api"]
    assert len(graph) > 50


def test_no_import_cycle_among_the_package_modules() -> None:
    modules = _modules()
    graph = {m: _eager_imports(m, p, set(modules)) for m, p in modules.items()}
    assert strongly_connected(graph) == []
