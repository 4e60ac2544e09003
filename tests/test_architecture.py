"""The package's shape: imports flow one way, modules stay small, no private names cross modules.

The import graph is read from the source with `ast` (every import statement, at any depth,
except those under ``if TYPE_CHECKING:``), so a deferred import inside a function counts too.
One exception: the top-level namespace's ``__getattr__`` (PEP 562) lazily re-exports front ends
such as ``chainrule.playground``; `test_lazy_reexports_resolve` checks those.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "chainrule"

# Lower ranks are imported by higher ones, never the other way round.
RANKS = {
    "chainrule._version": 0,
    "chainrule.errors": 0,
    "chainrule.datasets": 0,
    "chainrule.nn": 1,
    "chainrule.train": 2,
    "chainrule.io": 3,
    "chainrule.network": 4,
    "chainrule.teaching": 5,
    "chainrule.table": 5,  # a network with its table's preprocessing; `chainrule.load` lives here
    "chainrule.dask": 5,  # data-parallel L-BFGS on a Dask cluster (needs only train and nn)
    "chainrule": 6,  # the top-level namespace re-exports the layers below
    "chainrule.examples": 7,
    "chainrule.cli": 8,
    "chainrule.sklearn": 8,
    "chainrule.live": 8,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path) -> set[str]:
    """The chainrule modules a file imports (``from a import b`` counts as ``a.b`` if that is a module)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if (
            isinstance(node, ast.FunctionDef)
            and node.name == "__getattr__"
            and path == PACKAGE / "__init__.py"
        ):
            return  # lazy re-exports of front ends (PEP 562): `import chainrule` does not load them
        if isinstance(node, ast.If) and is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
                found.add(node.module)  # `from pkg import mod` runs pkg/__init__ too: count it
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return {name for name in found if name == "chainrule" or name.startswith("chainrule.")}


def with_parent_packages(module: str, targets: set[str]) -> set[str]:
    """Importing ``a.b.c`` runs ``a/b/__init__.py`` too, unless ``a.b`` already contains the importer."""
    edges = set(targets)
    for target in targets:
        parts = target.split(".")
        for depth in range(2, len(parts)):
            parent = ".".join(parts[:depth])
            if parent in MODULES and not (module == parent or module.startswith(parent + ".")):
                edges.add(parent)
    return edges


GRAPH = {name: with_parent_packages(name, imports_of(path)) - {name} for name, path in MODULES.items()}


def rank(module: str) -> int:
    best = max((prefix for prefix in RANKS if module == prefix or module.startswith(prefix + ".")), key=len)
    return RANKS[best]


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_import_graph_has_no_cycle():
    assert find_cycle(GRAPH) is None, " -> ".join(find_cycle(GRAPH) or [])


def test_the_cycle_finder_finds_a_cycle():
    """The check above must be able to fail."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_flow_down_the_layers(module):
    upward = sorted(target for target in GRAPH[module] if rank(target) > rank(module))
    assert not upward, f"{module} (layer {rank(module)}) imports higher layers: {upward}"


def test_every_module_has_a_layer():
    """A new sub-package must be placed in RANKS, or the layering test would not see it."""
    unplaced = [m for m in MODULES if not any(m == p or m.startswith(p + ".") for p in RANKS)]
    assert not unplaced


def docstring_lines(tree: ast.Module) -> int:
    """Lines taken by the docstrings of a module, its classes and its functions."""
    total = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                if isinstance(first.value.value, str):
                    total += first.end_lineno - first.lineno + 1
    return total


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_under_400_lines(module):
    """At most 400 lines of code and comments: docstrings aside, as for functions below (a full
    numpydoc docstring with Parameters, Returns and Examples must not push a module to split)."""
    text = MODULES[module].read_text()
    lines = text.count("\n") - docstring_lines(ast.parse(text))
    assert lines <= 400, f"{module} has {lines} lines besides its docstrings"


def test_docstrings_are_what_the_line_count_leaves_out():
    tree = ast.parse('"""Module.\n\nMore."""\n\n\ndef f():\n    """One line."""\n    return 1\n')
    assert docstring_lines(tree) == 4


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_name_is_imported_across_modules(module):
    tree = ast.parse(MODULES[module].read_text())
    private = [
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("chainrule")
        for alias in node.names
        if alias.name.startswith("_") and alias.name != "__version__"
    ]
    assert not private


def test_functions_stay_readable():
    """No function body (docstring aside) over 70 lines: the ~60-line rule with a little slack."""
    long = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = node.body[0]
                has_doc = isinstance(first, ast.Expr) and isinstance(
                    getattr(first, "value", None), ast.Constant
                )
                start = node.body[1].lineno if has_doc and len(node.body) > 1 else first.lineno
                if node.end_lineno - start + 1 > 70:
                    long.append(f"{module}.{node.name}: {node.end_lineno - start + 1} lines")
    assert not long


def test_lazy_reexports_resolve():
    """What the namespace's __getattr__ promises exists, and `import chainrule` did not load it."""
    code = (
        "import sys, chainrule; assert 'chainrule.live' not in sys.modules; "
        "f = chainrule.playground; assert callable(f) and chainrule.playground is f; "
        "assert 'http.server' in sys.modules"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
