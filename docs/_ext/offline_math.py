"""Formulas rendered at build time by KaTeX, with its stylesheet and fonts shipped in the site.

The site must read offline: no page may fetch a script, stylesheet or font from elsewhere.
``sphinxcontrib.katex`` with ``katex_prerender = True`` turns every formula into HTML while the
site is built (it runs KaTeX under Node.js), so the pages need KaTeX's stylesheet and fonts only.
Both come from Debian's ``libjs-katex`` and ``fonts-katex`` (``.ci/run`` installs them), and the
prerendering uses that same ``katex.min.js``, so HTML, stylesheet and fonts are one KaTeX version.

``CHAINRULE_KATEX_DIR`` names another folder holding ``katex.min.js``, ``katex.min.css`` and
``fonts/`` (for example an unpacked ``katex`` npm package's ``dist/``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sphinx.errors import ConfigError

DEBIAN_KATEX = Path("/usr/share/javascript/katex")
DEBIAN_FONTS = Path("/usr/share/fonts/truetype/katex")
FIX = (
    "install Debian's KaTeX (`apt-get install libjs-katex fonts-katex`, as .ci/run does) or set "
    "CHAINRULE_KATEX_DIR to a folder with katex.min.js, katex.min.css and fonts/"
)


def katex_sources() -> tuple[Path, Path, Path]:
    """Return KaTeX's script, stylesheet and font folder, or raise naming the fix."""
    given = os.environ.get("CHAINRULE_KATEX_DIR")
    folder = Path(given) if given else DEBIAN_KATEX
    fonts = folder / "fonts" if given else DEBIAN_FONTS
    script, css = folder / "katex.min.js", folder / "katex.min.css"
    missing = [str(p) for p in (script, css, fonts) if not p.exists()]
    if missing:
        raise ConfigError(f"the offline formulas need KaTeX, but {', '.join(missing)} is missing: {FIX}")
    if shutil.which("node") is None:
        raise ConfigError("the formulas are rendered at build time by KaTeX under Node.js: install `node`")
    return script, css, fonts


def copy_katex_static(target: Path) -> None:
    """Copy KaTeX's stylesheet and its woff2/woff fonts under ``target/katex/`` (a static folder)."""
    _, css, fonts = katex_sources()
    out = target / "katex"
    (out / "fonts").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(css, out / "katex.min.css")
    for font in fonts.iterdir():
        if font.suffix in {".woff2", ".woff", ".ttf"}:
            shutil.copyfile(font, out / "fonts" / font.name)


def configure(namespace: dict, static_root: Path) -> None:
    """Set conf.py's KaTeX options and ship the stylesheet and fonts from ``static_root``."""
    script, _, _ = katex_sources()
    copy_katex_static(static_root)
    namespace["katex_prerender"] = True
    namespace["katex_js_path"] = str(script)  # the prerendering uses the shipped CSS's version
    namespace["katex_css_path"] = "katex/katex.min.css"
    namespace.setdefault("html_static_path", []).append(str(static_root))
