"""The Lambda package's layers, read from its source: no two modules import each other (through
any chain), and ingestion/ sits below adapters/.

Every import counts, at module level or inside a function, since a function-level import is
still a dependency, only a later one. Imports under ``if TYPE_CHECKING:`` are left out: they
never run. An import names one module: ``from a.b import c`` is ``a.b.c`` when that is a
module, else ``a.b``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "lambdas"
PACKAGE = "noticebot"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((ROOT / PACKAGE).rglob("*.py"))}


def _type_checking_only(tree: ast.AST) -> set[int]:
    """ids of the import nodes inside ``if TYPE_CHECKING:`` blocks."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                skipped.update(id(n) for n in ast.walk(inner))
    return skipped


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    skipped = _type_checking_only(tree)
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's package, up level - 1 more
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                child = f"{source}.{alias.name}"
                found.add(child if child in modules else source)
    return {m for m in found if m in modules and m != name} | (
        {name} if name in found and not is_package else set())


def import_graph() -> dict[str, set[str]]:
    modules = all_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module, or a module importing
    itself (Tarjan's algorithm, iterative: the package is deeper than nothing but
    Python's recursion limit is not the point of this test)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in graph[node]:
                        found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle_and_nothing_else():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}, "f": set()}
    assert sorted(cycles(graph)) == [["a", "b", "c"], ["e"]]


def test_imports_are_read_at_every_level_and_resolved_to_modules():
    graph = import_graph()
    # A function-level import (the API module is imported only when a Lambda container is built)
    assert "noticebot.bootstrap" in graph["noticebot.handlers.lambda_container"]
    # ``from package import module`` names the module; ``from module import name`` the module
    assert "noticebot.handlers.deploy" in graph["noticebot.entrypoints.local_stack"]
    assert "noticebot.container" in graph["noticebot.bootstrap_aws"]
    # a TYPE_CHECKING import never runs
    assert "noticebot.container" not in graph["noticebot.handlers.lambda_container"]


def test_no_module_imports_itself_through_any_chain():
    assert cycles(import_graph()) == []


def test_ingestion_imports_nothing_from_the_adapters():
    graph = import_graph()
    reaching_up = {module: sorted(m for m in imported if m.startswith("noticebot.adapters"))
                   for module, imported in graph.items()
                   if module.startswith("noticebot.ingestion")}
    assert {m: up for m, up in reaching_up.items() if up} == {}
    assert reaching_up  # the package was read: ingestion has modules
