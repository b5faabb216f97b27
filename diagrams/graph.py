"""
A chart as python-statemachine's diagram model, completed from its L{ChartSpec}.

The library's C{extract()} walks the chart class and returns a
C{DiagramGraph}: states, and one C{DiagramTransition} per transition, in its
walk order.  It knows the chart's shape but not what httpchart's declaration
means: it shows the library's display names for events, writes guards as
C{"!closing"}, has nothing for effects declared in the C{after} group, and
cannot tell a failure path from the request cycle.  L{chart_graph} pairs each
extracted transition with the L{Branch} that L{ChartSpec} read from the same
transition (the spec keeps them in the same walk order, and the pairing checks
that source, target and event agree) and fills the model in:

  - transitions carry the event's own name, the guard as one condition
    (C{"not closing"}) and the effects in order, and a L{EdgeKind};
  - internal transitions, which change no state, are listed inside their
    state's box instead of being drawn as edges: one line per transition
    with effects, and one line for the events the state ignores;
  - terminal states (no transition leaves them) are final states;
  - states get what the renderers need to draw them apart: failure states,
    and the request cycle that should lay out in a straight line.

Nothing here reads the chart class except through C{extract()} and
L{ChartSpec}; every renderer of L{httpchart.diagrams} starts from this model.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from statemachine import StateChart
from statemachine.contrib.diagram.extract import extract
from statemachine.contrib.diagram.model import (
    ActionType,
    DiagramAction,
    DiagramGraph,
    DiagramState,
    DiagramTransition,
    StateType,
)

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
class ChartTransition(DiagramTransition):
    """
    A transition of the library's model with the branch it was declared as.

    @ivar branch: The declared branch.
    @ivar kind: How it is drawn.
    @ivar closes_cycle: Whether it is the request cycle's last step, back to
        the initial state.
    @ivar taken: In a trace, the positions at which it was taken.
    """

    branch: Branch | None = None
    kind: EdgeKind = EdgeKind.NORMAL
    closes_cycle: bool = False
    taken: tuple[int, ...] = ()

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
class ChartState(DiagramState):
    """
    A state of the library's model with what the declaration says about it.

    @ivar value: The state's value, which L{ChartSpec} and the transition
        records name it by.
    @ivar handled: Its internal transitions that have effects.
    @ivar ignored: Its internal transitions without effects: events it
        ignores on purpose.
    @ivar failure: Whether the chart lists it among its failure states.
    @ivar on_cycle: Whether it lies on the request cycle.
    @ivar visited: In a trace, whether the trace passed through it.
    """

    value: str = ""
    handled: list[Handling] = field(default_factory=list)
    ignored: list[Handling] = field(default_factory=list)
    failure: bool = False
    on_cycle: bool = False
    visited: bool = False


@dataclass
class ChartGraph(DiagramGraph):
    """
    The library's diagram model of a chart, completed from its spec.

    @ivar spec: The chart's spec.
    @ivar cycle: The states of the request cycle in order, from the initial
        state and, when the cycle closes, back to it.
    @ivar traced: Whether the graph shows a trace (see
        L{httpchart.diagrams.trace}).
    @ivar title: What the diagram is titled, when it is not the chart's name.
    """

    spec: ChartSpec | None = None
    cycle: tuple[str, ...] = ()
    traced: bool = False
    title: str = ""

    def chart_states(self) -> list[ChartState]:
        """
        The states, in declaration order.
        """
        return [state for state in self.states if isinstance(state, ChartState)]

    def chart_transitions(self) -> list[ChartTransition]:
        """
        The transitions drawn as edges (those that change state), in
        declaration order.
        """
        return [t for t in self.transitions if isinstance(t, ChartTransition)]


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


def chart_graph(chart: type[StateChart[Any]]) -> ChartGraph:
    """
    Extract C{chart} with python-statemachine and complete the model from
    its L{ChartSpec}.

    @raise ValueError: If the extracted transitions and the spec's branches
        do not pair up, which means the library walks charts differently
        from the version httpchart was written against.
    """
    spec = ChartSpec.of(chart)
    extracted = extract(chart)
    values = {state.id: str(state.value) for state in chart.states}
    events = {str(event.name): str(event.id) for event in chart._events}
    cycle = request_cycle(spec)

    transitions: list[DiagramTransition] = []
    handlings: dict[str, list[Handling]] = {value: [] for value in spec.states}
    branches = list(spec.by_transition.values())
    if len(branches) != len(extracted.transitions):
        raise ValueError(
            f"{spec.name}: extract() found {len(extracted.transitions)} transitions, "
            f"the spec {len(branches)}"
        )
    for plain, branch in zip(extracted.transitions, branches, strict=True):
        _check_pair(spec, plain, branch, values, events)
        if branch.internal:
            handlings[branch.source].append(Handling(branch))
            continue
        transitions.append(
            ChartTransition(
                source=plain.source,
                targets=list(plain.targets),
                event=branch.event,
                guards=_guards(branch),
                actions=list(branch.effects),
                branch=branch,
                kind=_kind(spec, cycle, branch),
                closes_cycle=len(cycle) > 1
                and cycle[0] == cycle[-1]
                and (branch.source, branch.target) == cycle[-2:],
            )
        )

    terminal = set(spec.terminal_states())
    states: list[DiagramState] = []
    for plain_state in extracted.states:
        value = values[plain_state.id]
        handled = [h for h in handlings[value] if h.branch.effects]
        ignored = [h for h in handlings[value] if not h.branch.effects]
        states.append(
            ChartState(
                id=plain_state.id,
                name=plain_state.name,
                type=StateType.FINAL if value in terminal else plain_state.type,
                actions=_actions(handled, ignored),
                is_initial=plain_state.is_initial,
                value=value,
                handled=handled,
                ignored=ignored,
                failure=value in spec.failure_states,
                on_cycle=value in cycle,
            )
        )

    return ChartGraph(
        name=spec.name,
        states=states,
        transitions=transitions,
        compound_state_ids=extracted.compound_state_ids,
        bidirectional_compound_ids=extracted.bidirectional_compound_ids,
        spec=spec,
        cycle=cycle,
    )


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


def _actions(handled: list[Handling], ignored: list[Handling]) -> list[DiagramAction]:
    actions = [DiagramAction(ActionType.INTERNAL, h.label) for h in handled]
    if ignored:
        body = f"{IGNORES} " + ", ".join(h.trigger for h in ignored)
        actions.append(DiagramAction(ActionType.INTERNAL, body))
    return actions


def _check_pair(
    spec: ChartSpec,
    plain: DiagramTransition,
    branch: Branch,
    values: dict[str, str],
    events: dict[str, str],
) -> None:
    seen = (
        values[plain.source],
        events.get(plain.event, plain.event),
        [values[t] for t in plain.targets],
        plain.is_internal,
    )
    declared = (branch.source, branch.event, [branch.target], branch.internal)
    if seen != declared:
        raise ValueError(
            f"{spec.name}: extract() gave {seen} where the spec has {declared} "
            f"for {branch.source} --{branch.event}-->"
        )
