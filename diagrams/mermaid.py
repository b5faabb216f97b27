"""
A chart as a Mermaid state diagram, for Markdown hosts that draw Mermaid.

L{mermaid_source} writes a L{ChartGraph} as Mermaid's C{stateDiagram-v2}, in
the layout python-statemachine's own Mermaid renderer uses: each state's
internal transitions are its description lines, the initial state and the
terminal ones get their C{[*]} arrows, and every edge reads
C{event [guard] / effect, effect}.  Classes colour the failure states and the
request cycle; Mermaid cannot style single edges of a state diagram, so
failure paths show through the states they lead to.

Every declared transition gets its own edge, including two guarded branches
of one event between the same states (a complete response returns to
QUIESCENT whether or not the connection is reusable).
"""

from __future__ import annotations

from .graph import ChartGraph

STYLES = {
    "cycle": "fill:#eef4fb,stroke:#222222,stroke-width:2px",
    "failure": "fill:#fdf1f0,stroke:#b3261e,color:#b3261e",
}
"""The Mermaid classes given to the states, by name."""

ACTIVE = "fill:#ffe08a,stroke:#222222"
"""The class of the state a trace is in now."""


class ChartMermaidRenderer:
    """
    Draws a L{ChartGraph} as Mermaid source.
    """

    def render(self, graph: ChartGraph) -> str:
        """
        Render C{graph} to Mermaid source.
        """
        if not isinstance(graph, ChartGraph):
            raise TypeError(f"ChartMermaidRenderer draws a ChartGraph, not {type(graph).__name__}")
        origin = f"{graph.spec.module}.{graph.spec.name}"
        lines = [
            "stateDiagram-v2",
            f"    %% Generated from {origin}; regenerate with `make diagrams`, do not edit.",
            "    direction LR",
        ]
        for state in graph.states:
            if state.name != state.id:
                lines.append(f'    state "{state.name}" as {state.id}')
            lines += [f"    {state.id} : {line}" for line in state.actions]
        lines += [f"    [*] --> {state.id}" for state in graph.states if state.initial]
        lines += [f"    {state.id} --> [*]" for state in graph.states if state.final]
        lines += [f"    {t.source} --> {t.target} : {t.label}" for t in graph.transitions]
        active = [state.id for state in graph.states if state.is_active]
        if active:
            lines += ["", f"    classDef active {ACTIVE}"]
            lines += [f"    {state}:::active" for state in active]
        members = {
            "cycle": [s.id for s in graph.states if s.on_cycle and not s.failure],
            "failure": [s.id for s in graph.states if s.failure],
        }
        for name, ids in members.items():
            if ids:
                lines += ["", f"    classDef {name} {STYLES[name]}"]
                lines.append(f"    class {', '.join(ids)} {name}")
        return "\n".join(lines) + "\n"


def mermaid_source(graph: ChartGraph) -> str:
    """
    The Mermaid source of C{graph}.
    """
    return ChartMermaidRenderer().render(graph)
