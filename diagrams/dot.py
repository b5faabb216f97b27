"""
A chart as Graphviz DOT, through python-statemachine's own DOT renderer.

L{ChartDotRenderer} is the library's C{DotRenderer} (initial dot, rounded
state boxes, compartments for what a state handles in place) with
httpchart's conventions added:

  - edges read C{event [guard] / effect, effect}, the effects on their own
    lines when they do not fit beside the event;
  - the main path (for the connection, the request cycle; see
    L{httpchart.diagrams.graph.request_cycle}) is drawn bold, left to right; its states share a
    Graphviz C{group}, which keeps them on one straight line, and the step
    back to the initial state arcs over it without pulling on the layout;
  - transitions into a failure state are red and dashed, and failure states
    have a red outline; a terminal state has a double outline;
  - each state's box lists the events it handles without changing state;
  - in a trace, the transitions taken carry their positions in the trace
    and stand out, the others fade, and the current state is filled.

The output depends only on the declaration: states and edges come in
declaration order, and nothing varies between runs, so a regenerated file
only changes where the chart did.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pydot
from statemachine.contrib.diagram.model import (
    DiagramAction,
    DiagramGraph,
    DiagramState,
    DiagramTransition,
)
from statemachine.contrib.diagram.renderers.dot import DotRenderer, DotRendererConfig

from .graph import IGNORES, ChartGraph, ChartState, ChartTransition, EdgeKind, Handling


@dataclass(frozen=True)
class Palette:
    """
    The colours of a diagram, as Graphviz colour names or C{#rrggbb}.
    """

    ink: str = "#222222"
    muted: str = "#666666"
    failure: str = "#b3261e"
    failure_fill: str = "#fdf1f0"
    cycle_fill: str = "#eef4fb"
    trace: str = "#1a5fb4"
    faded: str = "#c8c8c8"
    current_fill: str = "#ffe08a"


EFFECTS_PER_LINE = 2
"""How many effects an edge label puts on one line."""

LEGEND = (
    "bold: the main path · red, dashed: into a failure state · "
    "double outline: terminal · inside a box: events handled without changing state"
)


class ChartDotRenderer(DotRenderer):
    """
    python-statemachine's DOT renderer, drawing a L{ChartGraph} the way
    httpchart's documentation shows charts.
    """

    def __init__(self, palette: Palette | None = None) -> None:
        self.palette = palette or Palette()
        super().__init__(
            DotRendererConfig(
                graph_rankdir="LR",
                state_font_size="11",
                transition_font_size="9",
                state_active_penwidth=3,
                state_active_fillcolor=self.palette.current_fill,
                graph_attrs={"nodesep": "0.5", "ranksep": "0.6", "splines": "true"},
                edge_attrs={"color": self.palette.ink, "fontcolor": self.palette.ink},
            )
        )
        self._traced = False

    def render(self, graph: DiagramGraph) -> pydot.Dot:
        """
        Render C{graph}, a L{ChartGraph}, to a pydot graph.
        """
        if not isinstance(graph, ChartGraph):
            raise TypeError(f"ChartDotRenderer draws a ChartGraph, not {type(graph).__name__}")
        self._traced = graph.traced
        dot = super().render(graph)
        dot.set("label", f"{graph.name}\n{LEGEND}" if not graph.traced else graph.title)
        dot.set("labelloc", "t")
        dot.set("fontsize", "13")
        return dot

    def _create_atomic_node(self, state: DiagramState) -> pydot.Node:
        node = super()._create_atomic_node(state)
        if not isinstance(state, ChartState):
            return node
        palette = self.palette
        if not state.actions:
            node.set("label", f"<<b>{_escape(state.name)}</b>>")
        if state.on_cycle:
            node.set("group", "cycle")
        if state.failure:
            node.set("color", palette.failure)
        if state.is_active:
            node.set("fillcolor", palette.current_fill)
        elif state.failure:
            node.set("fillcolor", palette.failure_fill)
        elif state.on_cycle:
            node.set("fillcolor", palette.cycle_fill)
        if self._traced and not state.visited:
            node.set("fontcolor", palette.muted)
        return node

    def _build_html_table_label(self, state: DiagramState, actions: list[DiagramAction]) -> str:
        if not isinstance(state, ChartState):
            return super()._build_html_table_label(state, actions)
        lines = [self._handling_line(h) for h in state.handled]
        if state.ignored:
            entries = ", ".join(self._ignored_entry(h) for h in state.ignored)
            lines.append(self._small(f"<i>{IGNORES}</i> {entries}", self.palette.muted))
        return (
            '<table border="0" cellborder="0" cellspacing="0" cellpadding="0">'
            f'<tr><td cellpadding="5"><b>{_escape(state.name)}</b></td></tr>'
            "<hr/>"
            f'<tr><td align="left" balign="left" cellpadding="5">{"<br/>".join(lines)}</td></tr>'
            "</table>"
        )

    def _handling_line(self, handling: Handling) -> str:
        branch = handling.branch
        text = _escape(handling.trigger)
        if branch.effects:
            text += " / " + _escape(", ".join(branch.effects))
        if handling.taken:
            return self._small(f"{_numbers(handling.taken)} {text}", self.palette.trace)
        return self._small(text, self.palette.muted if self._traced else self.palette.ink)

    def _ignored_entry(self, handling: Handling) -> str:
        text = _escape(handling.trigger)
        if handling.taken:
            colour = self.palette.trace
            return f'<font color="{colour}">{text} {_numbers(handling.taken)}</font>'
        return text

    def _small(self, text: str, colour: str) -> str:
        size = self.config.transition_font_size
        return f'<font point-size="{size}" color="{colour}">{text}</font>'

    def _create_single_edge(
        self, transition: DiagramTransition, target_id: str | None, index: int, cond_html: str
    ) -> pydot.Edge:
        edge = super()._create_single_edge(transition, target_id, index, cond_html)
        if not isinstance(transition, ChartTransition):
            return edge
        palette = self.palette
        colour = palette.failure if transition.kind is EdgeKind.FAILURE else palette.ink
        attributes: dict[str, str] = {"color": colour, "fontcolor": colour}
        if transition.closes_cycle:
            attributes.update(penwidth="2.2", weight="0", tailport="n", headport="n")
        elif transition.kind is EdgeKind.CYCLE:
            attributes.update(penwidth="2.2", weight="8")
        elif transition.kind is EdgeKind.FAILURE:
            attributes.update(style="dashed", weight="1")
        if self._traced:
            if transition.taken:
                attributes.update(color=palette.trace, fontcolor=palette.trace, penwidth="2.6")
            else:
                attributes.update(color=palette.faded, fontcolor=palette.muted)
        for name, value in attributes.items():
            edge.set(name, value)
        edge.set("label", f"<{self._edge_label(transition)}>")
        return edge

    def _edge_label(self, transition: ChartTransition) -> str:
        first = f"<b>{_escape(transition.event)}</b>"
        if transition.guards:
            first += " [" + _escape(" and ".join(transition.guards)) + "]"
        if transition.taken:
            first = f"<b>{_numbers(transition.taken)}</b>  {first}"
        lines = [first]
        effects = list(transition.actions)
        for start in range(0, len(effects), EFFECTS_PER_LINE):
            chunk = ", ".join(effects[start : start + EFFECTS_PER_LINE])
            lead = "/ " if start == 0 else "  "
            tail = "," if start + EFFECTS_PER_LINE < len(effects) else ""
            lines.append(_escape(f"{lead}{chunk}{tail}"))
        rows = "".join(f'<tr><td align="left">{line}</td></tr>' for line in lines)
        size = self.config.transition_font_size
        return (
            f'<table border="0" cellborder="0" cellspacing="0" cellpadding="1">'
            f'<tr><td><font point-size="{size}"><table border="0" cellborder="0" '
            f'cellspacing="0" cellpadding="0">{rows}</table></font></td></tr></table>'
        )


def dot_source(graph: ChartGraph, renderer: ChartDotRenderer | None = None) -> str:
    """
    The DOT text of C{graph}, headed by a comment naming its chart.
    """
    dot = (renderer or ChartDotRenderer()).render(graph)
    text = _stable_names(dot.to_string(), dot)
    spec = graph.spec
    origin = f"{spec.chart.__module__}.{spec.name}" if spec else graph.name
    header = f"// Generated from {origin}; regenerate with `make diagrams`, do not edit.\n"
    return header + text


def _stable_names(text: str, dot: pydot.Dot) -> str:
    # The library names the initial dot's node and the cluster of plain
    # states after id() of the graph object, which changes from run to run;
    # a fixed name keeps the output identical for an unchanged chart.
    return text.replace(f"_{id(dot)}", "_chart")


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _numbers(positions: Sequence[int]) -> str:
    """
    Positions in a trace as a short list: C{1, 4-6, 9} (with an en dash).
    """
    return ", ".join(_runs(positions))


def _runs(positions: Sequence[int]) -> Iterable[str]:
    start = previous = positions[0]
    for position in (*positions[1:], None):
        if position is not None and position == previous + 1:
            previous = position
            continue
        yield str(start) if start == previous else f"{start}\u2013{previous}"
        if position is not None:
            start = previous = position
