"""
A chart as a Mermaid state diagram, for Markdown hosts that draw Mermaid.

L{ChartMermaidRenderer} is python-statemachine's C{MermaidRenderer}: it
already lists each state's internal transitions as the state's description
lines, marks the initial state and, because L{chart_graph} makes terminal
states final, the terminal ones.  httpchart adds the effects to every edge
(C{event [guard] / effect, effect}) and classes that colour the failure
states and the request cycle.  Mermaid cannot style single edges of a state
diagram, so failure paths show through the states they lead to.

The library draws one edge per (source, target, event); a chart may have two
guarded branches of one event between the same states (a complete response
returns to QUIESCENT whether or not the connection is reusable), so every
declared transition gets its own edge here.
"""

from __future__ import annotations

from statemachine.contrib.diagram.model import DiagramGraph, DiagramTransition
from statemachine.contrib.diagram.renderers.mermaid import (
    MermaidRenderer,
    MermaidRendererConfig,
)

from .graph import ChartGraph, ChartTransition

STYLES = {
    "cycle": "fill:#eef4fb,stroke:#222222,stroke-width:2px",
    "failure": "fill:#fdf1f0,stroke:#b3261e,color:#b3261e",
}
"""The Mermaid classes given to the states, by name."""


class ChartMermaidRenderer(MermaidRenderer):
    """
    python-statemachine's Mermaid renderer, drawing a L{ChartGraph} with
    httpchart's labels and classes.
    """

    def __init__(self) -> None:
        super().__init__(MermaidRendererConfig(active_fill="#ffe08a", active_stroke="#222222"))

    def render(self, graph: DiagramGraph) -> str:
        """
        Render C{graph}, a L{ChartGraph}, to Mermaid source.
        """
        if not isinstance(graph, ChartGraph):
            raise TypeError(f"ChartMermaidRenderer draws a ChartGraph, not {type(graph).__name__}")
        lines = super().render(graph).splitlines()
        spec = graph.spec
        origin = f"{spec.chart.__module__}.{spec.name}" if spec else graph.name
        lines.insert(
            1, f"    %% Generated from {origin}; regenerate with `make diagrams`, do not edit."
        )
        members = {
            "cycle": [s.id for s in graph.chart_states() if s.on_cycle and not s.failure],
            "failure": [s.id for s in graph.chart_states() if s.failure],
        }
        for name, ids in members.items():
            if ids:
                lines += ["", f"    classDef {name} {STYLES[name]}"]
                lines.append(f"    class {', '.join(ids)} {name}")
        return "\n".join(lines) + "\n"

    def _render_scope_transitions(
        self,
        transitions: list[DiagramTransition],
        scope_ids: set[str],
        lines: list[str],
        indent: int,
    ) -> None:
        plain = [t for t in transitions if not isinstance(t, ChartTransition)]
        super()._render_scope_transitions(plain, scope_ids, lines, indent)
        for transition in transitions:
            if isinstance(transition, ChartTransition) and transition.source in scope_ids:
                for target in transition.targets:
                    self._render_single_transition(
                        transition, transition.source, target, lines, indent
                    )

    def _render_single_transition(
        self,
        transition: DiagramTransition,
        source: str,
        target: str,
        lines: list[str],
        indent: int,
    ) -> None:
        if not isinstance(transition, ChartTransition):
            super()._render_single_transition(transition, source, target, lines, indent)
            return
        lines.append(f"{'    ' * indent}{source} --> {target} : {transition.label}")


def mermaid_source(graph: ChartGraph) -> str:
    """
    The Mermaid source of C{graph}.
    """
    return ChartMermaidRenderer().render(graph)
