"""
The trace view: a chart with the path one connection took drawn on it.

When a request fails, the question is how the connection got there.  Record
its transitions with a L{httpchart.statechart.Recorder} passed as the
connection's C{observer}, then render the chart with those records: every
transition taken carries its position in the trace (C{1}, C{2}, C{3}...;
C{4-9} for a run of the same one), events handled in place are numbered
inside their state's box, everything not taken fades, and the state the
connection is in now is filled::

    recorder = Recorder()
    connection = HTTP11ClientProtocol(observer=recorder)
    ...
    svg = render_image(live_trace_dot(connection, recorder), "svg")

A list of L{TransitionRecord}s kept any other way works as well, with
L{trace_dot}.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from statemachine import StateChart

from httpchart.statechart import ChartSpec, Recorder, TransitionRecord

from .dot import dot_source
from .graph import ChartGraph, ChartTransition, Handling, chart_graph


class Connection(Protocol):
    """
    What the trace view reads of a live connection, such as
    L{httpchart.protocol.HTTP11ClientProtocol}: its chart and its state.
    """

    @property
    def chart(self) -> type[StateChart[Any]]: ...

    @property
    def state(self) -> str: ...


def traced_graph(
    chart: ChartSpec | type[StateChart[Any]],
    records: Iterable[TransitionRecord],
    current: str | None = None,
    *,
    first: int = 1,
) -> ChartGraph:
    """
    The diagram model of C{chart} (a spec, or a chart class whose spec is
    read) with C{records} marked on it.

    @param records: The transitions taken, oldest first.
    @param current: The state the connection is in now; by default the
        target of the last record, or the initial state when there is none.
    @param first: The position of the first record, for a trace whose
        oldest records were dropped (L{Recorder.first_number}).
    @raise ValueError: If a record is not a transition of C{chart}, or
        C{current} is not one of its states.
    """
    graph = chart_graph(chart)
    spec = graph.spec
    marks: dict[TransitionRecord, list[ChartTransition | Handling]] = {}
    for transition in graph.chart_transitions():
        marks.setdefault(transition.branch.record, []).append(transition)
    for state in graph.chart_states():
        for handling in (*state.handled, *state.ignored):
            marks.setdefault(handling.branch.record, []).append(handling)

    taken: dict[int, list[int]] = {}
    visited: set[str] = set()
    last: TransitionRecord | None = None
    count = 0
    for position, record in enumerate(records, start=first):
        count += 1
        found = marks.get(TransitionRecord(*record))
        if not found:
            raise ValueError(f"{record} is not a transition of {spec.name}")
        for mark in found:
            taken.setdefault(id(mark), []).append(position)
        visited.update((record.source, record.target))
        last = record

    now = current if current is not None else (last.target if last else spec.initial)
    if now not in spec.states:
        raise ValueError(f"{now!r} is not a state of {spec.name}")
    visited.add(now)
    for marked in marks.values():
        for mark in marked:
            mark.taken = tuple(taken.get(id(mark), ()))
    for state in graph.chart_states():
        state.visited = state.value in visited
        state.is_active = state.value == now

    graph.traced = True
    graph.title = f"{spec.name}: {_taken(count, first)}, now in {now}"
    return graph


def trace_dot(
    chart: ChartSpec | type[StateChart[Any]],
    records: Iterable[TransitionRecord],
    current: str | None = None,
    *,
    first: int = 1,
) -> str:
    """
    The trace view of C{records} on C{chart}, as DOT text; see
    L{traced_graph} for the parameters.  L{render_image} draws it.
    """
    return dot_source(traced_graph(chart, records, current, first=first))


def live_trace_dot(connection: Connection, recorder: Recorder) -> str:
    """
    The trace view of a live connection whose observer is C{recorder}: the
    path it took so far, and its current state.
    """
    return trace_dot(
        connection.chart, recorder.records, connection.state, first=recorder.first_number
    )


def _taken(count: int, first: int) -> str:
    if count == 0:
        return "no transition taken"
    if count == 1:
        return f"transition {first} taken"
    return f"transitions {first}\u2013{first + count - 1} taken"
