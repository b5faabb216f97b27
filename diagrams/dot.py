"""
A chart as Graphviz DOT, drawn from its diagram model (L{ChartGraph}).

L{ChartDotRenderer} draws in the UML style python-statemachine's own
renderer uses (an initial dot, rounded state boxes, compartments for what a
state handles in place), built with pydot from the model alone, with
httpchart's conventions:

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
declaration order, node names are the states' attribute names, and nothing
varies between runs, so a regenerated file only changes where the chart did.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pydot

from .graph import IGNORES, ChartGraph, ChartState, ChartTransition, EdgeKind, Handling

FONT = "Helvetica"
STATE_FONT_SIZE = "11"
TRANSITION_FONT_SIZE = "9"
INITIAL = "__initial_chart"
"""The name of the initial dot's node."""


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


class ChartDotRenderer:
    """
    Draws a L{ChartGraph} the way httpchart's documentation shows charts.
    """

    def __init__(self, palette: Palette | None = None) -> None:
        self.palette = palette or Palette()
        self._traced = False

    def render(self, graph: ChartGraph) -> pydot.Dot:
        """
        Render C{graph} to a pydot graph.
        """
        if not isinstance(graph, ChartGraph):
            raise TypeError(f"ChartDotRenderer draws a ChartGraph, not {type(graph).__name__}")
        self._traced = graph.traced
        palette = self.palette
        dot = pydot.Dot(
            graph.name,
            graph_type="digraph",
            label=f"{graph.name}\n{LEGEND}" if not graph.traced else graph.title,
            rankdir="LR",
            fontname=FONT,
            fontsize="13",
            penwidth="2.0",
            splines="true",
            ordering="out",
            compound="true",
            nodesep="0.5",
            ranksep="0.6",
            forcelabels="true",
            labelloc="t",
        )
        dot.set_node_defaults(fontname=FONT, fontsize=STATE_FONT_SIZE, penwidth="2.0")
        dot.set_edge_defaults(
            fontname=FONT,
            fontsize=TRANSITION_FONT_SIZE,
            labeldistance="1.5",
            color=palette.ink,
            fontcolor=palette.ink,
        )
        initial = next(state for state in graph.states if state.initial)
        wrapper = pydot.Subgraph(graph_name=f"{INITIAL}_sg", label="", peripheries=0, margin=0)
        wrapper.add_node(
            pydot.Node(
                INITIAL,
                label="",
                shape="circle",
                style="filled",
                fillcolor="black",
                color="black",
                fixedsize="true",
                width=0.15,
                height=0.15,
                penwidth="0",
            )
        )
        dot.add_subgraph(wrapper)
        dot.add_edge(pydot.Edge(INITIAL, initial.id, label="", minlen=1, weight=100))
        states = pydot.Subgraph(
            graph_name="cluster___atomic_chart", label="", peripheries=0, margin=0, cluster="true"
        )
        for state in graph.states:
            states.add_node(self._node(state))
        dot.add_subgraph(states)
        for state in graph.states:
            for transition in graph.transitions:
                if transition.source == state.id:
                    dot.add_edge(self._edge(transition))
        return dot

    def _node(self, state: ChartState) -> pydot.Node:
        palette = self.palette
        plain = f"<<b>{_escape(state.name)}</b>>"
        label = f"<{self._box(state)}>" if state.actions else plain
        attributes: dict[str, Any] = {
            "label": label,
            "shape": "rectangle",
            "style": "rounded, filled",
            "fontname": FONT,
            "fontsize": STATE_FONT_SIZE,
            "fillcolor": "white",
            "penwidth": 3 if state.is_active else 2,
        }
        if state.actions:
            attributes["margin"] = "0"
        attributes["peripheries"] = 2 if state.final else 1
        if state.on_cycle:
            attributes["group"] = "cycle"
        if state.failure:
            attributes["color"] = palette.failure
        if state.is_active:
            attributes["fillcolor"] = palette.current_fill
        elif state.failure:
            attributes["fillcolor"] = palette.failure_fill
        elif state.on_cycle:
            attributes["fillcolor"] = palette.cycle_fill
        if self._traced and not state.visited:
            attributes["fontcolor"] = palette.muted
        return pydot.Node(state.id, **attributes)

    def _box(self, state: ChartState) -> str:
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
        return f'<font point-size="{TRANSITION_FONT_SIZE}" color="{colour}">{text}</font>'

    def _edge(self, transition: ChartTransition) -> pydot.Edge:
        palette = self.palette
        colour = palette.failure if transition.kind is EdgeKind.FAILURE else palette.ink
        attributes: dict[str, Any] = {
            "label": f"<{self._edge_label(transition)}>",
            "minlen": 1,
            "color": colour,
            "fontcolor": colour,
        }
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
        return pydot.Edge(transition.source, transition.target, **attributes)

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
        return (
            f'<table border="0" cellborder="0" cellspacing="0" cellpadding="1">'
            f'<tr><td><font point-size="{TRANSITION_FONT_SIZE}"><table border="0" cellborder="0" '
            f'cellspacing="0" cellpadding="0">{rows}</table></font></td></tr></table>'
        )


def dot_source(graph: ChartGraph, renderer: ChartDotRenderer | None = None) -> str:
    """
    The DOT text of C{graph}, headed by a comment naming its chart.
    """
    dot = (renderer or ChartDotRenderer()).render(graph)
    origin = f"{graph.spec.module}.{graph.spec.name}"
    header = f"// Generated from {origin}; regenerate with `make diagrams`, do not edit.\n"
    return header + dot.to_string()


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
