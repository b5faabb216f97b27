"""
Every rendering of a chart that httpchart produces, by format name.

Each L{OutputFormat} says which file suffix its output gets and whether it
needs Graphviz; L{render} produces the bytes of that file.  The command line
and the freshness tests of C{docs/generated} both go through this table, so
what the tests check is what C{make diagrams} writes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from statemachine import StateChart

from httpchart.statechart import ChartSpec

from .dot import dot_source
from .graph import chart_graph
from .images import render_image
from .mermaid import mermaid_source
from .table import markdown_table

Chart = ChartSpec | type[StateChart[Any]]
"""A chart's spec, or a chart class, whose spec is then read."""


@dataclass(frozen=True)
class OutputFormat:
    """
    One way of rendering a chart.

    @ivar name: What C{--format} calls it.
    @ivar suffix: What the chart's file name ends with.
    @ivar binary: Whether the output is not text (it cannot go to a terminal).
    @ivar graphviz: Whether rendering runs Graphviz's C{dot}.
    @ivar render: Produces the file's content from the chart's spec.
    """

    name: str
    suffix: str
    binary: bool
    graphviz: bool
    render: Callable[[ChartSpec], bytes]


def _text(render: Callable[[ChartSpec], str]) -> Callable[[ChartSpec], bytes]:
    return lambda chart: render(chart).encode("utf-8")


FORMATS: dict[str, OutputFormat] = {
    output.name: output
    for output in (
        OutputFormat(
            "svg",
            "svg",
            binary=False,
            graphviz=True,
            render=lambda chart: render_image(dot_source(chart_graph(chart)), "svg"),
        ),
        OutputFormat(
            "png",
            "png",
            binary=True,
            graphviz=True,
            render=lambda chart: render_image(dot_source(chart_graph(chart)), "png"),
        ),
        OutputFormat(
            "dot",
            "dot",
            binary=False,
            graphviz=False,
            render=_text(lambda chart: dot_source(chart_graph(chart))),
        ),
        OutputFormat(
            "mermaid",
            "mmd",
            binary=False,
            graphviz=False,
            render=_text(lambda chart: mermaid_source(chart_graph(chart))),
        ),
        OutputFormat("md", "table.md", binary=False, graphviz=False, render=_text(markdown_table)),
    )
}
"""The formats, in the order C{make diagrams} writes them."""


def file_stem(chart: Chart) -> str:
    """
    The name of C{chart}'s output files: C{ConnectionLifecycle} becomes
    C{connection-lifecycle}.
    """
    return re.sub(r"(?<!^)(?=[A-Z])", "-", _spec(chart).name).lower()


def file_name(chart: Chart, fmt: str) -> str:
    """
    The name of C{chart}'s file in format C{fmt}:
    C{connection-lifecycle.svg}.
    """
    return f"{file_stem(chart)}.{FORMATS[fmt].suffix}"


def render(chart: Chart, fmt: str) -> bytes:
    """
    Render C{chart} in format C{fmt}.

    @raise httpchart.diagrams.images.GraphvizMissing: For a picture format,
        when Graphviz is not installed.
    """
    return FORMATS[fmt].render(_spec(chart))


def _spec(chart: Chart) -> ChartSpec:
    return chart if isinstance(chart, ChartSpec) else ChartSpec.of(chart)
