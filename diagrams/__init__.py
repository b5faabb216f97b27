"""
Renderings of httpchart's declared charts, derived from the declarations and
never drawn by hand.

Every chart in L{httpchart.statechart.CHARTS} renders, with no change here,
to DOT, SVG and PNG (through Graphviz), to Mermaid and to a Markdown
transition table; L{render} takes a format name from L{FORMATS}.  Every
rendering reads the chart's L{ChartSpec} alone, through the diagram model
L{chart_graph} builds from it (guards, effects, failure paths and the
request cycle); nothing here reads a chart class.  The trace view
(L{trace_dot}, L{live_trace_dot}) draws the path one connection took.

C{python -m httpchart.diagrams} is the command line (L{cli.main}).  The
renderers need the C{httpchart[diagrams]} extra; without it this package
still imports, and its names raise L{DiagramsExtraMissing}.
"""

from typing import TYPE_CHECKING

from .extra import DiagramsExtraMissing, unavailable

try:
    from .dot import ChartDotRenderer, dot_source
    from .graph import ChartGraph, chart_graph
    from .images import GraphvizFailed, GraphvizMissing, render_image
    from .mermaid import ChartMermaidRenderer, mermaid_source
    from .outputs import FORMATS, OutputFormat, file_name, render
    from .table import markdown_table
    from .trace import live_trace_dot, trace_dot, traced_graph
except ModuleNotFoundError as missing:
    if not TYPE_CHECKING:  # mypy keeps checking every name imported from here
        __getattr__ = unavailable(missing)

__all__ = [
    "FORMATS",
    "ChartDotRenderer",
    "ChartGraph",
    "ChartMermaidRenderer",
    "DiagramsExtraMissing",
    "GraphvizFailed",
    "GraphvizMissing",
    "OutputFormat",
    "chart_graph",
    "dot_source",
    "file_name",
    "live_trace_dot",
    "markdown_table",
    "mermaid_source",
    "render",
    "render_image",
    "trace_dot",
    "traced_graph",
]
