"""
Sphinx configuration for httpchart's documentation.

The pages are Markdown, read by MyST.  Everything under generated/ is
rendered from the chart declarations by `make diagrams`; `make docs` builds
the site into build/docs and fails on any warning.

The API reference is pydoctor's, as in Twisted's documentation: pydoctor
reads the epytext docstrings into api/ beside the pages, its warnings are
Sphinx warnings, and its inventory lets the pages link to any documented
name (``{py:class}`httpchart.protocol.HTTP11ClientProtocol` ``).  Links to
Twisted's API go through an inventory that pydoctor makes from the installed
Twisted, so the build needs no network.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
PACKAGES = ("statechart", "protocol", "diagrams")
TWISTED_API = "https://docs.twisted.org/en/stable/api"

project = "httpchart"
author = "the httpchart developers"
copyright = "the httpchart developers"
release = metadata.version("httpchart")

extensions = ["myst_parser", "sphinx.ext.intersphinx", "pydoctor.sphinx_ext.build_apidocs"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

myst_heading_anchors = 3

html_theme = "alabaster"
html_theme_options = {"page_width": "1400px", "sidebar_width": "220px"}
html_title = "httpchart"
html_show_sourcelink = False
html_static_path = ["_static"]

# No remote inventory: the build runs offline.
intersphinx_mapping: dict[str, tuple[str, tuple[str, ...]]] = {}


def _twisted_inventory() -> Path:
    """
    The Sphinx inventory of the installed Twisted's API, made by pydoctor
    once per Twisted version and kept under build/ (about 15 seconds).
    """
    twisted = metadata.version("Twisted")
    inventory = ROOT / "build" / "intersphinx" / f"twisted-{twisted}" / "objects.inv"
    if not inventory.exists():
        import twisted as package

        making = inventory.parent.with_name(f"{inventory.parent.name}.{os.getpid()}")
        making.parent.mkdir(parents=True, exist_ok=True)
        # A separate process: importing pydoctor here would register its
        # docutils directives before Sphinx registers its own.
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pydoctor",
                "--make-intersphinx",
                "--quiet",
                "--project-name=Twisted",
                f"--project-version={twisted}",
                f"--html-output={making}",
                str(Path(package.__file__).parent),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        try:
            making.replace(inventory.parent)
        except OSError:
            if not inventory.exists():  # else another build made it meanwhile
                raise
    return inventory


pydoctor_args = [
    "--project-name=httpchart",
    f"--project-version={release}",
    "--project-url=../index.html",
    "--docformat=epytext",
    "--prepend-package=httpchart",
    f"--project-base-dir={ROOT}",
    "--html-output={outdir}/api",
    f"--intersphinx-file={_twisted_inventory()}::{TWISTED_API}",
    *(str(ROOT / package) for package in PACKAGES),
]
pydoctor_url_path = "api/"
