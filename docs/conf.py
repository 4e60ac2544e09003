"""Sphinx configuration for chainrule's documentation site.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (warnings are errors).
Everything the pages show as a number or as command output is produced by running code at build
time: the gallery (sphinx-gallery executes ``docs/gallery/*/plot_*.py``) and ``_ext/chainrule_docs.py``
(the worked step's numbers, ``chainrule --help`` of every subcommand, the name tables).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import chainrule_docs  # noqa: E402
import offline_math  # noqa: E402

import chainrule  # noqa: E402

project = "chainrule"
author = "the chainrule authors"
copyright = "the chainrule authors"
release = chainrule.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinxcontrib.katex",
    "sphinx.ext.viewcode",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "chainrule_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
# _generated/ holds fragments that pages include; architecture.md and performance.md are
# included by guides/ (they stay plain Markdown files that read well on GitHub too).
exclude_patterns = [
    "_build",
    "_generated",
    "architecture.md",
    "performance.md",
    "gallery/**README.txt",
    "sg_execution_times.rst",  # left by builds before write_computation_times was off
    "auto_gallery/**sg_execution_times.rst",
    "auto_gallery/**.ipynb",
    "auto_gallery/**.py",
    "auto_gallery/**.zip",
    "auto_gallery/**.md5",
    "auto_gallery/**.json",
]
default_role = "py:obj"  # `Network` in a docstring links when Sphinx knows the name

# --- autodoc, autosummary, numpydoc -----------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the numpydoc Parameters sections carry the types
autosummary_generate = False  # the API pages list their objects explicitly
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# No numpydoc_validation_checks here: tests/test_docstring_sections.py runs numpydoc's validator
# on the public API (Parameters, Returns and Examples), with the two allowances Sphinx's check
# lacks (a result dataclass's fields under Attributes; an override showing its base's docstring).

# --- MyST ---------------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "substitution"]
myst_heading_anchors = 3
# The worked step's numbers, computed now (see _ext/chainrule_docs.py): {{ dw_ho }} etc.
myst_substitutions = chainrule_docs.backprop_step_numbers()

# --- sphinx-gallery -----------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": ["gallery"],
    "gallery_dirs": ["auto_gallery"],
    "filename_pattern": r"/plot_",  # run every example
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "reset_modules": ("matplotlib", "seaborn"),
    "subsection_order": ["gallery/seeds", "gallery/learn", "gallery/practice"],
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "capture_repr": ("_repr_html_", "__repr__"),
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "min_reported_time": 1,
    # its timing pages load a table script from a CDN; the site must read offline
    "write_computation_times": False,
    # "Examples using X" under each API entry the gallery uses (chainrule_docs._examples_using)
    "backreferences_dir": "_generated/backreferences",
    "doc_module": ("chainrule",),
}

# --- intersphinx: links to NumPy and scikit-learn when their inventories can be fetched ------
# Off by default so a build needs no network (CI machines may have none); CHAINRULE_DOCS_INTERSPHINX=1
# turns it on.
intersphinx_mapping = {}
if chainrule_docs.intersphinx_wanted():
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable/", None),
        "sklearn": ("https://scikit-learn.org/stable/", None),
    }

# --- HTML ---------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"chainrule {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False
html_static_path: list[str] = ["_static"]
html_css_files = ["chainrule.css"]
# No left sidebar on pages without sub-pages (the guides, the changelog): it would be an empty
# "Section Navigation" column that squeezes code blocks. The API reference and gallery keep it.
html_sidebars = {"guides/*": [], "changelog": [], "index": []}

# --- formulas: KaTeX at build time, its stylesheet and fonts in the site (no request leaves it) --
offline_math.configure(globals(), HERE / "_generated" / "static")
