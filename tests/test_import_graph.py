"""No module of the repository imports itself through others: the import graph has no cycle.

Every ``import`` counts, at module level or inside a function: a cycle broken by a late import still
loads a half-initialised module when the entry point is one of its members (``python -m`` runs
``__main__`` once as ``__main__`` and once more under its own name if a member imports it).
"""

import ast
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("oauth2_provider", "benchmarks", "compat", "schema_parity", "tests", "demo")


def _module_files():
    """``{dotted name: path}`` of the repository's modules; folders named ``_...`` hold fetched or built
    files (upstream's tests, benchmark venvs and logs), not ours."""
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if any(part.startswith("_") and part != "__pycache__" for part in relative.parts[:-1]):
                continue
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _imported(name, path, modules):
    """The repository modules that module ``name`` imports."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            anchor = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                if f"{target}.{alias.name}" in modules:
                    found.add(f"{target}.{alias.name}")
                elif target in modules:
                    found.add(target)
    found.discard(name)
    return found


def _cycle_from(start, graph):
    """A list of modules leading from ``start`` back to ``start``, or None."""
    stack, seen = [(start, [start])], set()
    while stack:
        module, route = stack.pop()
        for imported in graph[module]:
            if imported == start:
                return [*route, start]
            if imported not in seen:
                seen.add(imported)
                stack.append((imported, [*route, imported]))
    return None


@pytest.fixture(scope="module")
def graph():
    modules = _module_files()
    return {name: _imported(name, path, modules) for name, path in modules.items()}


def test_the_graph_sees_the_package_and_the_tools(graph):
    assert {"oauth2_provider.models", "benchmarks.cli", "compat.upstream_venv"} <= set(graph)
    assert "oauth2_provider._batching" in graph["oauth2_provider.backfill"]


def test_no_module_imports_itself_through_others(graph):
    cycles = [cycle for cycle in map(lambda module: _cycle_from(module, graph), graph) if cycle]
    assert cycles == []
