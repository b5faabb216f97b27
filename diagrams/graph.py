"""
A chart's diagram model, built from its L{ChartSpec} alone.

L{chart_graph} reads the spec (never the chart class) and lays out what every
renderer of L{httpchart.diagrams} draws:

  - one L{ChartTransition} per branch that changes state, carrying the
    event's name, the guard as one condition (C{"not closing"}), the effects
    in order, and a L{EdgeKind};
  - internal transitions, which change no state, are listed inside their
    state's box instead of being drawn as edges: one line per transition
    with effects, and one line for the events the state ignores;
  - terminal states (no transition leaves them) are final states;
  - states get what the renderers need to draw them apart: failure states,
    and the request cycle that should lay out in a straight line.

Any chart in L{httpchart.statechart.CHARTS} renders through it, since a spec
is all it needs.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from statemachine import StateChart

from httpchart.statechart import Branch, ChartSpec


class EdgeKind(Enum):
    """
    How a transition between two states is drawn.
    """

    CYCLE = "cycle"
    """On the request cycle: the way a healthy exchange goes."""

    NORMAL = "normal"
    """Any other change of state that is not a failure."""

    FAILURE = "failure"
    """Into one of the chart's C{failure_states}."""


@dataclass
class ChartTransition:
    """
    A change of state, as drawn: one declared branch.

    @ivar branch: The declared branch.
    @ivar source: The node of its source state.
    @ivar target: The node of its target state.
    @ivar kind: How it is drawn.
    @ivar closes_cycle: Whether it is the request cycle's last step, back to
        the initial state.
    @ivar taken: In a trace, the positions at which it was taken.
    """

    branch: Branch
    source: str
    target: str
    kind: EdgeKind = EdgeKind.NORMAL
    closes_cycle: bool = False
    taken: tuple[int, ...] = ()

    @property
    def event(self) -> str:
        return self.branch.event

    @property
    def guards(self) -> list[str]:
        """
        The guard as one condition, in a list (empty when unguarded).
        """
        return _guards(self.branch)

    @property
    def actions(self) -> list[str]:
        """
        The effects, in order.
        """
        return list(self.branch.effects)

    @property
    def label(self) -> str:
        """
        The transition in UML's words: C{event [guard] / effect, effect}.
        """
        return uml_label(self.event, self.guards, self.actions)


@dataclass
class Handling:
    """
    An internal transition, as one entry in its state's box.

    @ivar branch: The declared branch.
    @ivar taken: In a trace, the positions at which it was taken.
    """

    branch: Branch
    taken: tuple[int, ...] = ()

    @property
    def trigger(self) -> str:
        """
        The event and its guard: C{issue [closing and not withdrawn]}.
        """
        return uml_label(self.branch.event, _guards(self.branch), ())

    @property
    def label(self) -> str:
        """
        The whole entry: C{data / feed_parser}.
        """
        return uml_label(self.branch.event, _guards(self.branch), self.branch.effects)


@dataclass
class ChartState:
    """
    A state, as drawn.

    @ivar id: Its node's name: the class attribute that declares it.
    @ivar value: The state's value, which L{ChartSpec} and the transition
        records name it by, and which its box shows.
    @ivar handled: Its internal transitions that have effects.
    @ivar ignored: Its internal transitions without effects: events it
        ignores on purpose.
    @ivar initial: Whether the chart starts here.
    @ivar final: Whether no transition leaves it.
    @ivar failure: Whether the chart lists it among its failure states.
    @ivar on_cycle: Whether it lies on the request cycle.
    @ivar visited: In a trace, whether the trace passed through it.
    @ivar is_active: In a trace, whether the connection is in it now.
    """

    id: str
    value: str
    handled: list[Handling] = field(default_factory=list)
    ignored: list[Handling] = field(default_factory=list)
    initial: bool = False
    final: bool = False
    failure: bool = False
    on_cycle: bool = False
    visited: bool = False
    is_active: bool = False

    @property
    def name(self) -> str:
        return self.value

    @property
    def actions(self) -> list[str]:
        """
        The lines of its box: one per handled event, then the ignored ones.
        """
        lines = [h.label for h in self.handled]
        if self.ignored:
            lines.append(f"{IGNORES} " + ", ".join(h.trigger for h in self.ignored))
        return lines


@dataclass
class ChartGraph:
    """
    A chart as the renderers draw it.

    @ivar spec: The chart's spec.
    @ivar states: Its states, in declaration order.
    @ivar transitions: The branches that change state, in declaration order.
    @ivar cycle: The states of the request cycle in order, from the initial
        state and, when the cycle closes, back to it.
    @ivar traced: Whether the graph shows a trace (see
        L{httpchart.diagrams.trace}).
    @ivar title: What the diagram is titled, when it is not the chart's name.
    """

    spec: ChartSpec
    states: list[ChartState]
    transitions: list[ChartTransition]
    cycle: tuple[str, ...] = ()
    traced: bool = False
    title: str = ""

    @property
    def name(self) -> str:
        return self.spec.name

    def chart_states(self) -> list[ChartState]:
        """
        The states, in declaration order.
        """
        return list(self.states)

    def chart_transitions(self) -> list[ChartTransition]:
        """
        The transitions drawn as edges (those that change state), in
        declaration order.
        """
        return list(self.transitions)


IGNORES = "ignores"
"""What the line listing a state's ignored events starts with."""


def uml_label(event: str, guards: Sequence[str], effects: Sequence[str]) -> str:
    """
    Write a transition as UML does: C{event [guard] / effect, effect}.
    """
    text = event
    if guards:
        text += f" [{' and '.join(guards)}]"
    if effects:
        text += " / " + ", ".join(effects)
    return text


def chart_graph(chart: ChartSpec | type[StateChart[Any]]) -> ChartGraph:
    """
    The diagram model of a chart, from its L{ChartSpec} (a chart class is
    read into its spec first).
    """
    spec = chart if isinstance(chart, ChartSpec) else ChartSpec.of(chart)
    ids = spec.state_ids
    cycle = request_cycle(spec)
    handlings: dict[str, list[Handling]] = {value: [] for value in spec.states}
    transitions: list[ChartTransition] = []
    for source in spec.states:
        for branch in _walk_order(spec, source):
            if branch.internal:
                handlings[source].append(Handling(branch))
                continue
            transitions.append(
                ChartTransition(
                    branch=branch,
                    source=ids[branch.source],
                    target=ids[branch.target],
                    kind=_kind(spec, cycle, branch),
                    closes_cycle=len(cycle) > 1
                    and cycle[0] == cycle[-1]
                    and (branch.source, branch.target) == cycle[-2:],
                )
            )
    terminal = set(spec.terminal_states())
    states = [
        ChartState(
            id=ids[value],
            value=value,
            handled=[h for h in handlings[value] if h.branch.effects],
            ignored=[h for h in handlings[value] if not h.branch.effects],
            initial=value == spec.initial,
            final=value in terminal,
            failure=value in spec.failure_states,
            on_cycle=value in cycle,
        )
        for value in spec.states
    ]
    return ChartGraph(spec=spec, states=states, transitions=transitions, cycle=cycle)


def _walk_order(spec: ChartSpec, source: str) -> list[Branch]:
    # A state's branches in the order they were declared: events in the
    # order the chart declares them, each event's branches in its order.
    return [branch for event in spec.events for branch in spec.cell(source, event)]


def request_cycle(spec: ChartSpec) -> tuple[str, ...]:
    """
    The states of the chart's main path, from the initial state on.

    It is the shortest way from the initial state back to it that avoids
    the failure states (the initial state is then both first and last); a
    chart that never returns to its initial state has instead the shortest
    way to a terminal state that is not a failure state; and a chart with
    neither has no main path.
    """
    moves: dict[str, list[str]] = {source: [] for source in spec.states}
    for branch in spec.all_branches():
        if not branch.internal and branch.target not in spec.failure_states:
            moves[branch.source].append(branch.target)
    ends = {spec.initial} | {
        state for state in spec.terminal_states() if state not in spec.failure_states
    }
    came_from: dict[str, str] = {}
    queue = deque([spec.initial])
    while queue:
        source = queue.popleft()
        for target in moves[source]:
            if target in ends:
                path = [source]
                while path[-1] != spec.initial:
                    path.append(came_from[path[-1]])
                return (*reversed(path), target)
            if target not in came_from:
                came_from[target] = source
                queue.append(target)
    return ()


def _kind(spec: ChartSpec, cycle: tuple[str, ...], branch: Branch) -> EdgeKind:
    if branch.target in spec.failure_states:
        return EdgeKind.FAILURE
    if (branch.source, branch.target) in itertools.pairwise(cycle):
        return EdgeKind.CYCLE
    return EdgeKind.NORMAL


def _guards(branch: Branch) -> list[str]:
    return [branch.guard_text] if branch.guards else []
