"""docs/architecture.md tells the truth about the code: its tree and every code name it uses.

**The tree.** The fenced code block whose first line is ``src/chainrule/`` lists the package.
Every other line of it is blank, a ``# ...`` heading (a layer's name), or an entry
``<path> — <role>``: a path relative to src/chainrule/ (indentation is free), at least one
space, an em dash, a space and a one-line role. A module is its file (``nn/output.py``); a
package is its folder with a trailing slash (``nn/kernels/``), which stands for its
``__init__.py``; the top-level ``__init__.py`` (the namespace, a layer of its own) is listed as
``__init__.py``. The tree must hold every module and package on disk, nothing else, each once,
and list the layers bottom-up in the order of `RANKS` in tests/test_architecture.py.

**Code names.** Every inline code span outside fenced blocks is read. Spans holding anything but
letters, digits and ``_ . : /`` (plus one trailing ``()``) are not code names: commands, flags,
formulas, quoted strings. Of the rest:

- a span with a ``/`` is a path: ``train/step.py`` must exist under src/chainrule/ or the
  repository root; ``train/step.py:train_step`` (``file:name.attr``) must also resolve in that
  module;
- a dotted span is a name in chainrule or NumPy: ``chainrule.x.y``, ``cr.x``, ``np.x``,
  ``train.step.Steppable``
  (relative to chainrule), ``whole_loop.covers`` (a module of chainrule by its last name) or
  ``Loss.fuses_with`` (a class or function defined in src/chainrule, then attributes). Spans
  ending in a file suffix (``model.npz``, ``.npz``) are file names and are skipped;
- a bare span counts when it is CamelCase, ends in ``()`` or contains ``_``: it must be a class,
  function, assignment or parameter name somewhere in src/chainrule (an ALL_CAPS name may also be
  a string in the source: an environment variable). Plain lowercase words (``lr``, ``fit``,
  ``nn``) are skipped.

Attributes resolve with ``getattr``, or as instance attributes (annotated on the class or
assigned to ``self`` in its source). Modules whose optional dependency is missing (Numba) are
read with `ast` instead of imported.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from functools import cache
from pathlib import Path
from typing import Any

from tests.test_architecture import rank

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "chainrule"
DOC = ROOT / "docs" / "architecture.md"
DOC_NAME = "docs/architecture.md"
TREE_HEADER = "src/chainrule/"

ENTRY = re.compile(r"^(?P<path>[\w./]+)\s+— \S")
CODE_SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
CODE_CHARS = re.compile(r"^[A-Za-z0-9_.:/]+(\(\))?$")
CAMEL_CASE = re.compile(r"^_*[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*$")
ALL_CAPS = re.compile(r"^[A-Z][A-Z0-9_]*$")
FILE_SUFFIXES = {"py", "md", "txt", "csv", "npz", "npy", "json", "onnx", "toml", "png", "svg", "pdf"}
ALIASES = {"cr": "chainrule", "np": "numpy"}


# ----------------------------------------------------------------------------- the tree
def fenced_blocks(text: str) -> list[tuple[int, list[str]]]:
    """Each fenced block's first content line number (1-based) and its lines."""
    blocks: list[tuple[int, list[str]]] = []
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if fence is None and stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
            blocks.append((number + 1, []))
        elif fence is not None and stripped.startswith(fence) and not stripped.strip(fence[0]):
            fence = None
        elif fence is not None:
            blocks[-1][1].append(line)
    return blocks


def parse_tree(text: str) -> tuple[list[tuple[int, str]], list[str]]:
    """The tree's entries as (line number, path), and the problems met reading it."""
    trees = [
        (start, lines) for start, lines in fenced_blocks(text) if lines and lines[0].strip() == TREE_HEADER
    ]
    if len(trees) != 1:
        found = "none" if not trees else f"{len(trees)}, at lines {[start for start, _ in trees]}"
        return [], [
            f"{DOC_NAME} must have exactly one tree, a fenced block whose first line is "
            f"`{TREE_HEADER}` (found {found})"
        ]
    start, lines = trees[0]
    entries, problems = [], []
    for number, line in enumerate(lines[1:], start + 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = ENTRY.match(stripped)
        if match is None:
            problems.append(
                f"{DOC_NAME} line {number}: {stripped!r} is not a tree entry: write "
                "`<path> — <role>` (a module `nn/output.py` or a package `nn/kernels/`, relative "
                "to src/chainrule/, then an em dash and its one-line role), a `# heading` or nothing"
            )
        else:
            entries.append((number, match["path"]))
    return entries, problems


def modules_on_disk(package: Path) -> dict[str, Path]:
    """The tree's paths for what is on disk: each module, each package folder, the namespace."""
    found: dict[str, Path] = {}
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if "__pycache__" in relative.parts:
            continue
        if relative.name != "__init__.py" or relative.parent == Path("."):
            found[relative.as_posix()] = path
        for folder in relative.parents:
            if folder != Path("."):
                found.setdefault(f"{folder.as_posix()}/", package / folder / "__init__.py")
    return found


def role_of(path: Path) -> str:
    """The first line of a module's docstring, as a suggested role."""
    try:
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    except (OSError, SyntaxError):
        doc = ""
    first = " ".join(doc.split("\n\n")[0].split())
    return first if len(first) <= 70 else first[:67].rstrip() + "..."


def module_of(tree_path: str) -> str:
    """``nn/kernels/`` -> ``chainrule.nn.kernels``; ``__init__.py`` -> ``chainrule``."""
    parts = [part for part in tree_path.removesuffix(".py").split("/") if part and part != "__init__"]
    return ".".join(["chainrule", *parts])


def tree_problems(text: str, package: Path = PACKAGE) -> list[str]:
    """Everything in which the doc's tree and the package on disk disagree."""
    entries, problems = parse_tree(text)
    if not entries and problems:  # no tree to compare
        return problems
    on_disk = modules_on_disk(package)
    first_line: dict[str, int] = {}
    for number, path in entries:
        if path in first_line:
            problems.append(
                f"{DOC_NAME} line {number}: `{path}` is listed again (first at line "
                f"{first_line[path]}): keep one line"
            )
        first_line.setdefault(path, number)
    for path, source in on_disk.items():
        if path not in first_line:
            kind = "the package" if path.endswith("/") else "the module"
            problems.append(
                f"src/chainrule/{path} ({kind} {module_of(path)}) is not in {DOC_NAME}'s tree: "
                f"add a line `{path} — <role>` in its layer (layer {rank(module_of(path))}); "
                f"its docstring says: {role_of(source)!r}"
            )
    for path, number in first_line.items():
        if path in on_disk:
            continue
        if path.endswith("__init__.py"):
            advice = f"a package is listed by its folder: write `{path.removesuffix('__init__.py')}` instead"
        elif (package / path).exists():
            advice = "that is neither a module nor a package: only .py files and package folders belong"
        else:
            advice = (
                f"src/chainrule/{path} does not exist: remove the line (and the prose about it), "
                "or write the path it has now"
            )
        problems.append(f"{DOC_NAME} line {number}: the tree lists `{path}`, but {advice}")
    problems += order_problems(entries)
    return problems


def order_problems(entries: list[tuple[int, str]]) -> list[str]:
    """Entries whose layer is below that of an entry listed before them."""
    problems, highest = [], None
    for number, path in entries:
        layer = rank(module_of(path))
        if highest is not None and layer < highest[0]:
            problems.append(
                f"{DOC_NAME} line {number}: `{path}` (layer {layer}) comes after `{highest[1]}` "
                f"(layer {highest[0]}): list the layers bottom-up, in the order of RANKS in "
                "tests/test_architecture.py"
            )
        if highest is None or layer > highest[0]:
            highest = (layer, path)
    return problems


# ------------------------------------------------------------------------- code names
@cache
def source_index() -> dict[str, Any]:
    """What src/chainrule defines, read with ast: names, names by module, strings, module leaves."""
    names: dict[str, set[str]] = {}  # name -> modules that define it (class, def, assignment, parameter)
    per_module: dict[str, set[str]] = {}
    strings: set[str] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_of(path.relative_to(PACKAGE).as_posix())
        defined = per_module.setdefault(module, set())
        for node in ast.walk(ast.parse(path.read_text())):
            found: list[str] = []
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                found.append(node.name)
            elif isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Store):
                found.append(node.id if isinstance(node, ast.Name) else node.attr)
            elif isinstance(node, ast.arg):
                found.append(node.arg)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.add(node.value)
            for name in found:
                defined.add(name)
                names.setdefault(name, set()).add(module)
    leaves: dict[str, set[str]] = {}
    for module in per_module:
        leaves.setdefault(module.rsplit(".", 1)[-1], set()).add(module)
    return {"names": names, "per_module": per_module, "strings": strings, "leaves": leaves}


def instance_attributes(cls: type) -> set[str]:
    """Attributes a class's instances have: annotated on the class, or assigned to ``self``."""
    found: set[str] = set()
    for klass in cls.__mro__:
        found.update(getattr(klass, "__annotations__", {}))
        try:
            tree = ast.parse(inspect.getsource(klass).strip())
        except (OSError, TypeError, SyntaxError):
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Store)
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
            ):
                found.add(node.attr)
    return found


def walk_attributes(obj: Any, where: str, attributes: list[str]) -> str | None:
    """None if ``obj.a.b...`` exists, else what is missing."""
    for i, attribute in enumerate(attributes):
        if hasattr(obj, attribute):
            obj, where = getattr(obj, attribute), f"{where}.{attribute}"
        elif isinstance(obj, type) and attribute in instance_attributes(obj) and i == len(attributes) - 1:
            return None
        else:
            return f"{where} has no attribute {attribute!r}"
    return None


def resolve_in_module(module: str, attributes: list[str]) -> str | None:
    """None if ``module`` has ``attributes``, else what is missing.

    A module that cannot be imported here (its optional dependency is missing) is read with ast:
    each attribute must then be a name it defines.
    """
    try:
        obj = importlib.import_module(module)
    except ImportError as error:
        name = error.name if isinstance(error, ModuleNotFoundError) else None
        if name and (module == name or module.startswith(name + ".")):
            return f"there is no module {module}"
        # It cannot be imported here (an optional dependency such as Numba is missing): read it.
        defined = source_index()["per_module"].get(module, set())
        missing = [name for name in attributes if name not in defined]
        return f"{module} defines no {missing[0]!r}" if missing else None
    return walk_attributes(obj, module, attributes)


def resolve_dotted(name: str) -> str | None:
    """None if a dotted name resolves (see the module docstring), else why not."""
    parts = name.split(".")
    parts[0] = ALIASES.get(parts[0], parts[0])
    index = source_index()
    heads = [] if parts[0] in ("chainrule", "numpy") else [["chainrule", *parts]]
    heads.append(parts)
    heads += [[*leaf.split("."), *parts[1:]] for leaf in sorted(index["leaves"].get(parts[0], ()))]
    attempts: list[tuple[str, list[str]]] = []
    for head in heads:
        attempts += [(".".join(head[:k]), head[k:]) for k in range(len(head), 0, -1)]
    attempts += [(module, parts) for module in sorted(index["names"].get(parts[0], ()))]
    reasons = []
    for module, attributes in attempts:
        if module.split(".")[0] not in ("chainrule", "numpy"):
            continue
        reason = resolve_in_module(module, attributes)
        if reason is None:
            return None
        if not reason.startswith("there is no module"):
            reasons.append(reason)
    known = parts[0] in ("chainrule", "numpy") or parts[0] in index["leaves"] or parts[0] in index["names"]
    if reasons and known:
        return reasons[0]
    return f"nothing in chainrule is called {parts[0]!r} (no module, class, function or assignment)"


def classify(span: str) -> str | None:
    """What kind of code name a span is: "path", "dotted", "name", or None (not checked)."""
    if not CODE_CHARS.match(span) or "://" in span:
        return None
    name = span.removesuffix("()")
    if "/" in name or ":" in name:
        return "path"
    if "." in name:
        if name.startswith(".") or name.rsplit(".", 1)[1] in FILE_SUFFIXES:
            return None
        return "dotted"
    if span.endswith("()") or "_" in name or CAMEL_CASE.match(name):
        return "name"
    return None


def span_problem(span: str) -> str | None:
    """None if a code span is true of the code (or is not a code name), else why not."""
    kind = classify(span)
    name = span.removesuffix("()")
    if kind == "name":
        if name in source_index()["names"]:
            return None
        if ALL_CAPS.match(name) and name in source_index()["strings"]:
            return None
        return "is not defined anywhere in src/chainrule (no class, function, assignment or parameter)"
    if kind == "dotted":
        reason = resolve_dotted(name)
        return None if reason is None else f"does not resolve: {reason}"
    if kind == "path":
        path, _, attributes = name.partition(":")
        if not attributes:
            if (PACKAGE / path).exists() or (ROOT / path).exists():
                return None
            return f"is neither src/chainrule/{path} nor {path} in the repository"
        if not (PACKAGE / path).exists():
            return f"names src/chainrule/{path}, which does not exist"
        if not path.endswith(".py") or not (PACKAGE / path).is_file():
            return f"names src/chainrule/{path}, which is not a module"
        reason = resolve_in_module(module_of(path), attributes.split("."))
        return None if reason is None else f"does not resolve: {reason}"
    return None


def name_problems(text: str) -> list[str]:
    """Every code span of the doc (outside fenced blocks) that is not true of the code."""
    lines = text.splitlines()
    for start, block in fenced_blocks(text):
        for i in range(start - 1, start - 1 + len(block)):
            lines[i] = ""
    problems = []
    for number, line in enumerate(lines, 1):
        for span in CODE_SPAN.findall(line):
            reason = span_problem(span)
            if reason is not None:
                problems.append(
                    f"{DOC_NAME} line {number}: `{span}` {reason}: write what the code calls it "
                    "now, or remove it"
                )
    return problems


# ------------------------------------------------------------------------------ tests
def test_the_tree_lists_every_module_and_package_and_nothing_else():
    problems = tree_problems(DOC.read_text())
    assert not problems, "\n".join(problems)


def test_every_code_name_in_the_doc_exists():
    problems = name_problems(DOC.read_text())
    assert not problems, "\n".join(problems)


def test_the_checks_can_fail(tmp_path):
    """Each kind of disagreement is reported, on a made-up package and doc (so that this test
    does not depend on the real doc being right); commands, flags and formulas are not."""
    package = tmp_path / "chainrule"
    for module in ["__init__.py", "errors.py", "nn/__init__.py", "nn/layers.py", "train/step.py"]:
        (package / module).parent.mkdir(parents=True, exist_ok=True)
        (package / module).write_text(f'"""The role of {module}."""\n')
    tree = """# Title

```text
src/chainrule/
errors.py        — the exceptions
train/step.py    — listed too early
nn/              — the maths
  nn/ghost.py    — a module that is gone
  nn/__init__.py — the package again
nn/layers.py
train/           — how it learns
  train/step.py  — the step
__init__.py      — the namespace
```
"""
    problems = tree_problems(tree, package)
    expected = [
        "docs/architecture.md line 10: 'nn/layers.py' is not a tree entry: write `<path> — <role>`",
        "docs/architecture.md line 12: `train/step.py` is listed again (first at line 6)",
        "src/chainrule/nn/layers.py (the module chainrule.nn.layers) is not in docs/architecture.md's "
        "tree: add a line `nn/layers.py — <role>` in its layer (layer 1); its docstring says: "
        "'The role of nn/layers.py.'",
        "docs/architecture.md line 8: the tree lists `nn/ghost.py`, but src/chainrule/nn/ghost.py "
        "does not exist: remove the line",
        "docs/architecture.md line 9: the tree lists `nn/__init__.py`, but a package is listed by its "
        "folder: write `nn/` instead",
        "docs/architecture.md line 7: `nn/` (layer 1) comes after `train/step.py` (layer 2)",
    ]
    for start in expected:
        assert any(problem.startswith(start) for problem in problems), (start, problems)
    assert len(problems) == 8, "\n".join(problems)  # and nn/ghost.py, nn/__init__.py out of order
    assert tree_problems("no tree here", package) == [
        "docs/architecture.md must have exactly one tree, a fenced block whose first line is "
        "`src/chainrule/` (found none)"
    ]

    prose = (
        "The `GhostLayer`, `no_such_function()`, `nn/layers.py:NoLayer`, `nn/ghost.py:Dense`, "
        "`nowhere.thing`, `train.step.NoStep`, `np.no_such_numpy` and `nn/nowhere.py`.\n"
        "```text\n`InsideAFence` is not prose\n```\n"
        "Not code names: `chainrule train data.csv --target price`, `--epochs`, `model.npz`, `.npz`, "
        "`(out - y)/n`, `lr`, `z = X @ W`, `https://example.org/a_b`, `kernels.ops.<function>`.\n"
        "Names that exist: `np.dot`, `numpy.random.Generator`, `tests/test_architecture_doc.py`.\n"
    )
    problems = name_problems(prose)
    assert [re.search(r"`([^`]*)`", problem)[1] for problem in problems] == [
        "GhostLayer",
        "no_such_function()",
        "nn/layers.py:NoLayer",
        "nn/ghost.py:Dense",
        "nowhere.thing",
        "train.step.NoStep",
        "np.no_such_numpy",
        "nn/nowhere.py",
    ], "\n".join(problems)
    assert problems[0] == (
        "docs/architecture.md line 1: `GhostLayer` is not defined anywhere in src/chainrule (no class, "
        "function, assignment or parameter): write what the code calls it now, or remove it"
    )
    assert "nothing in chainrule is called 'nowhere'" in problems[4]
    assert "chainrule.train.step has no attribute 'NoStep'" in problems[5]
