"""Build-time pieces of the documentation: numbers and command output produced by running code.

A small Sphinx extension. When the builder starts it writes ``docs/_generated/`` (ignored by
git), which the guides include:

- ``backprop_step.out``: what ``guides/scripts/backprop_step.py`` prints (seed 001's step);
- ``backprop_trace.md``: chainrule's own Markdown trace of that step;
- ``cli_help.md``: ``chainrule COMMAND --help`` for every subcommand the installed CLI has;
- ``names.md``: the activation, loss and optimizer names and the aliases they accept;
- ``playground.md`` / ``backend.md``: what this build has of the playground and the Numba backend
  (they render whichever way the code is when the site is built);
- ``api_other.rst``: public symbols that no API page lists yet, so none goes undocumented;
- ``guarantees.md``, ``defaults.md``, ``keras.md``, ``sklearn.md``, ``task_rule.md``: the tables and
  rules the README states too, rendered from one source by ``shared_tables.py``.

``backprop_step_numbers`` gives the MyST substitutions (``{{ dw_ho }}`` in a page) for conf.py.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import os
import re
import runpy
import textwrap
from pathlib import Path

import numpy as np

DOCS = Path(__file__).resolve().parents[1]
GENERATED = DOCS / "_generated"
STEP_SCRIPT = DOCS / "guides" / "scripts" / "backprop_step.py"


def intersphinx_wanted() -> bool:
    return os.environ.get("CHAINRULE_DOCS_INTERSPHINX", "") == "1"


def _fmt(value, precision: int = 8) -> str:
    return np.array2string(np.asarray(value), precision=precision, separator=", ", max_line_width=10_000)


def backprop_step_numbers() -> dict[str, str]:
    """Every number of seed 001's step, from the plain-NumPy script, checked against chainrule."""
    script = runpy.run_path(str(STEP_SCRIPT))
    lesson = script["lesson_step"]()
    trace = script["chainrule_step"]()
    dw_ho = trace.layers[1].changes["W"].ravel()
    dW_ih = trace.layers[0].changes["W"]
    same = np.allclose(dw_ho, lesson["dw_ho"], rtol=1e-12) and np.allclose(dW_ih, lesson["dW_ih"], rtol=1e-12)
    if not same:
        raise RuntimeError("chainrule's traced step no longer equals the lesson's step")
    numbers = {name: _fmt(value) for name, value in lesson.items()}
    numbers.update(
        {
            "dw_ho_1": f"{dw_ho[0]:.8f}",
            "dw_ho_2": f"{dw_ho[1]:.8f}",
            "chainrule_delta2": _fmt(trace.layers[1].delta.ravel()),
            "chainrule_delta1": _fmt(trace.layers[0].delta.ravel()),
            "loss_after": f"{trace.loss_after:.10f}",
            "loss_before": f"{trace.loss:.10f}",
        }
    )
    return numbers


def _write(name: str, text: str) -> None:
    GENERATED.mkdir(exist_ok=True)
    path = GENERATED / name
    if not path.exists() or path.read_text() != text:  # unchanged files keep incremental builds quick
        path.write_text(text)


def write_backprop_step() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(STEP_SCRIPT), run_name="__main__")
    _write("backprop_step.out", out.getvalue())
    trace = runpy.run_path(str(STEP_SCRIPT))["chainrule_step"]()
    # The trace's headings become bold lines: as headings they would flood the page's contents.
    markdown = re.sub(r"^#{1,6} +(.+?):?$", r"**\1**", trace.format("markdown"), flags=re.M)
    _write("backprop_trace.md", markdown + "\n")


def _subcommands():
    from chainrule.cli.main import build_parser

    parser = build_parser()
    for action in parser._subparsers._group_actions:  # argparse keeps subparsers here
        if hasattr(action, "choices") and isinstance(action.choices, dict):
            return parser, dict(action.choices)
    return parser, {}


def write_cli_help() -> None:
    parser, commands = _subcommands()
    os.environ.setdefault("COLUMNS", "100")
    parts = ["## `chainrule`\n", "```text", parser.format_help().rstrip(), "```\n"]
    for name, sub in commands.items():
        parts += [f"## `chainrule {name}`\n", "```text", sub.format_help().rstrip(), "```\n"]
    _write("cli_help.md", "\n".join(parts))


def write_playground() -> None:
    _, commands = _subcommands()
    if "playground" in commands:
        text = (
            "This build has the playground. Its options, from `chainrule playground --help`:\n\n"
            "```text\n" + commands["playground"].format_help().rstrip() + "\n```\n"
        )
    else:
        text = (
            ":::{note}\nThe playground is not part of the chainrule this site was built from "
            f"(version {_version()}): `chainrule playground` will appear in the "
            "[command-line reference](cli.md) once it is.\n:::\n"
        )
    _write("playground.md", text)


def write_backend() -> None:
    import chainrule

    set_backend = getattr(chainrule, "set_backend", None)
    if set_backend is None:
        text = (
            ":::{note}\nThe Numba backend is not part of the chainrule this site was built from "
            f"(version {_version()}): `chainrule.set_backend` does not exist in it yet, and every "
            "network runs on NumPy.\n:::\n"
        )
    else:
        doc = inspect.getdoc(set_backend) or ""
        first = doc.split("\n\n")[0]
        text = (
            f"This build has `chainrule.set_backend{inspect.signature(set_backend)}`:\n\n"
            + textwrap.indent(first, "> ")
            + "\n\nIts reference entry: {py:func}`chainrule.set_backend`.\n"
        )
    _write("backend.md", text)


def _version() -> str:
    import chainrule

    return chainrule.__version__


def write_names() -> None:
    from chainrule.nn.activations import ACTIVATION_ALIASES, ACTIVATIONS
    from chainrule.nn.losses import LOSS_ALIASES, LOSSES
    from chainrule.train.optimizers import OPTIMIZERS

    def table(kind: str, registry, aliases) -> list[str]:
        rows = [f"| {kind} | also accepted (any case; `_`, `-` and spaces ignored) |", "|---|---|"]
        for name in registry:
            also = sorted(alias for alias, target in aliases.items() if target == name)
            rows.append(f"| `{name}` | {', '.join(f'`{a}`' for a in also) or '—'} |")
        return [*rows, ""]

    lines = table("activation", ACTIVATIONS, ACTIVATION_ALIASES) + table("loss", LOSSES, LOSS_ALIASES)
    momentum = "`momentum` also names an optimizer: SGD with momentum 0.9."
    lines += [*table("optimizer", OPTIMIZERS, {}), momentum, ""]
    _write("names.md", "\n".join(lines))


PUBLIC_MODULES = ("chainrule", "chainrule.sklearn", "chainrule.dask", "chainrule.live", "chainrule.table")
DIRECTIVE = re.compile(r"^\.\. (auto\w+|currentmodule|module|py:\w+):: *([\w.]+)", re.M)


def api_entries() -> set[str]:
    """The dotted names that the API pages document with a directive (``.. autoclass:: ...``)."""
    names = set()
    for page in (DOCS / "api").glob("*.rst"):
        module = ""
        for kind, target in DIRECTIVE.findall(page.read_text()):
            if kind in {"currentmodule", "module"}:
                module = target
            elif kind != "autosummary":
                names.add(target if "." in target else f"{module}.{target}")
    return names


def undocumented() -> list[str]:
    """Public symbols (``__all__`` of each public module) that no API page documents.

    A symbol counts as documented when the same object is documented under another public name
    (``chainrule.live.playground`` is ``chainrule.playground``).
    """
    import importlib

    entries = api_entries()
    documented_objects = []
    for name in entries:
        module, _, attr = name.rpartition(".")
        with contextlib.suppress(ImportError, AttributeError, ValueError):
            documented_objects.append(getattr(importlib.import_module(module), attr))
    missing = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for attr in getattr(module, "__all__", ()):
            obj = getattr(module, attr)
            same = callable(obj) and any(obj is other for other in documented_objects)
            if f"{module_name}.{attr}" not in entries and not same:
                missing.append(f"{module_name}.{attr}")
    return missing


def write_api_other() -> None:
    missing = undocumented()
    if not missing:
        _write("api_other.rst", "Every public symbol is listed on one of the pages above.\n")
        return
    lines = ["These public symbols are not on a topic page yet:", ""]
    for name in missing:
        module, _, attr = name.rpartition(".")
        obj = getattr(__import__(module, fromlist=[attr]), attr)
        directive = "autoclass" if inspect.isclass(obj) else "autofunction" if callable(obj) else "autodata"
        lines += [f".. {directive}:: {name}", ""]
    _write("api_other.rst", "\n".join(lines))


def generate(app) -> None:
    import shared_tables  # docs/_ext is on sys.path (conf.py)

    shared_tables.write_fragments(GENERATED)
    write_backprop_step()
    write_cli_help()
    write_playground()
    write_backend()
    write_names()
    write_api_other()


def _examples_using(app, what, name, obj, options, lines) -> None:
    """Append "Examples using X" (sphinx-gallery's mini-gallery) to a class or function that the
    gallery uses, and nothing to one it does not (an empty heading would be noise)."""
    if what not in {"class", "function", "exception"} or not name.startswith("chainrule."):
        return
    conf = app.config.sphinx_gallery_conf
    index = Path(app.srcdir) / conf["backreferences_dir"] / "backreferences_all.json"
    if not index.exists():
        return
    import json

    used = json.loads(index.read_text())
    short = f"chainrule.{name.rsplit('.', 1)[1]}"
    key = name if used.get(name) else short if used.get(short) else None
    if key:
        title = f"Examples using ``{key.rsplit('.', 1)[1]}``"
        lines += ["", f".. rubric:: {title}", "", f".. minigallery:: {key}", ""]


def _fix_viewcode_backlinks(app, pagename, templatename, context, doctree) -> None:
    """Point the source pages' "[docs]" links at the entries' real anchors.

    ``sphinx.ext.viewcode`` keeps one module name per source file, so when one file's objects are
    documented under two paths (``chainrule.export_c`` and ``chainrule.io.c_export.CExport``) the
    links of some say ``#chainrule.CExport``, an anchor no page has. Each such link is rewritten
    to the entry of the same page whose full name ends with the same ``.Name``, or to the page
    itself when the entry there is shown with ``:no-index:`` (and has no anchor).
    """
    if not pagename.startswith("_modules/") or "body" not in context:
        return
    objects = app.env.domains["py"].objects  # full name -> (docname, node_id, objtype, ...)
    by_page: dict[str, set[str]] = {}
    for fullname, entry in objects.items():
        by_page.setdefault(entry[0], set()).add(fullname)

    def fix(match: re.Match) -> str:
        href, docname, anchor = match.group(0), match.group(2), match.group(3)
        names = by_page.get(docname, set())
        if anchor in names:
            return href
        tail = "." + anchor.split(".", 1)[1] if "." in anchor else anchor
        real = sorted(name for name in names if name.endswith(tail))
        # an entry shown with :no-index: has no anchor: link to its page
        return href.replace("#" + anchor, "#" + real[0] if len(real) == 1 else "")

    pattern = re.compile(r'href="((?:\.\./)*)([\w/]+)\.html#([\w.]+)"')
    context["body"] = pattern.sub(fix, context["body"])


def setup(app):
    app.connect("builder-inited", generate)
    app.connect("html-page-context", _fix_viewcode_backlinks)
    app.connect("autodoc-process-docstring", _examples_using)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
