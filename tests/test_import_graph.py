"""One direction of imports (issue 23, item 8): no module of ``jaxsoftmax/`` or
``derivations/`` imports, directly or through others, a module that imports it back.

The graph is read from the source with :mod:`ast` (every ``import`` statement, at module level
or inside a function, except those under ``if TYPE_CHECKING:``), so a cycle hidden in a
function-level import (which Python tolerates until the day the call order changes) fails too.
``derivations/`` is installed as ``jaxsoftmax.derivations`` (the link ``jaxsoftmax/derivations``);
both spellings are the same node.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _module_files() -> dict[str, Path]:
    """Module name -> file, for every module of jaxsoftmax/ and derivations/."""
    files: dict[str, Path] = {}
    roots = (("jaxsoftmax", ROOT / "jaxsoftmax"), ("jaxsoftmax.derivations", ROOT / "derivations"))
    for package, folder in roots:
        for path in sorted(folder.rglob("*.py")):
            rel = path.relative_to(folder)
            if package == "jaxsoftmax" and rel.parts[0] == "derivations":
                continue  # the link to derivations/, read once under its own name
            parts = [package, *rel.with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            files[".".join(parts)] = path
    return files


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _canonical(name: str) -> str:
    is_derivations = name == "derivations" or name.startswith("derivations.")
    return "jaxsoftmax." + name if is_derivations else name


def import_graph(files: dict[str, Path] | None = None, sources: dict[str, str] | None = None):
    """``{module: {modules it imports}}`` among the project's own modules. ``sources``
    overrides a module's text (the tests plant cycles with it)."""
    files = _module_files() if files is None else files
    sources = sources or {}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(sources.get(module, path.read_text(encoding="utf-8")))
        targets: set[str] = set()
        for node in _imports(tree):
            if isinstance(node, ast.Import):
                targets.update(_canonical(alias.name) for alias in node.names)
                continue
            base = module if is_package else module.rpartition(".")[0]
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            origin = (
                _canonical(node.module or "")
                if node.level == 0
                else ".".join(p for p in (base, node.module) if p)
            )
            for alias in node.names:
                sub = f"{origin}.{alias.name}"
                targets.add(sub if sub in files else origin)
        graph[module] = {target for target in targets if target in files and target != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strongconnect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                strongconnect(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            strongconnect(node)
    return sorted(found)


def test_the_graph_sees_module_and_function_level_imports():
    # Bug caught: a reader that skipped relative or function-level imports would find no cycle
    # anywhere and the test below could never fail.
    graph = import_graph()
    assert "jaxsoftmax.derivations.algebra" in graph["jaxsoftmax.derivations.table1"]
    assert "jaxsoftmax.derivations.parameters" in graph["jaxsoftmax.pairings"]
    assert "jaxsoftmax.derivations.to_jax" in graph["jaxsoftmax.definitions"]  # in a function


def test_no_import_cycle_among_jaxsoftmax_and_derivations():
    # Bug caught: definitions <-> pairings, claims <-> render <-> hessian (issue 23, item 8),
    # or any new module importing back a module that imports it.
    assert cycles(import_graph()) == []


def test_a_planted_cycle_is_found():
    # Bug caught: a cycle detector that reports nothing (or only two-module cycles): a
    # function-level import of render from algebra closes algebra -> ... -> render -> algebra.
    files = _module_files()
    planted = files["jaxsoftmax.derivations.algebra"].read_text(encoding="utf-8") + (
        "\n\ndef _planted():\n    from .render import latex\n    return latex\n"
    )
    found = cycles(import_graph(files, {"jaxsoftmax.derivations.algebra": planted}))
    assert any(
        {"jaxsoftmax.derivations.algebra", "jaxsoftmax.derivations.render"} <= set(c) for c in found
    )
