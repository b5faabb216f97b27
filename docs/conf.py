"""
Sphinx configuration for httpchart's documentation.

The pages are Markdown, read by MyST.  Everything under generated/ is
rendered from the chart declarations by `make diagrams`; `make docs` builds
the site into build/docs and fails on any warning.
"""

project = "httpchart"
author = "the httpchart developers"
copyright = "the httpchart developers"

extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

myst_heading_anchors = 3

html_theme = "alabaster"
html_theme_options = {"page_width": "1400px", "sidebar_width": "220px"}
html_title = "httpchart"
html_show_sourcelink = False
html_static_path = ["_static"]
