"""
The diagrams are derived from the declaration: every branch appears exactly
once, edges read UML-style, failure paths and the request cycle are drawn
apart, and any chart renders, not only the connection lifecycle.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from statemachine import StateChart

from httpchart.diagrams import chart_graph, dot_source, mermaid_source, render
from httpchart.diagrams.graph import EdgeKind, request_cycle
from httpchart.diagrams.outputs import FORMATS
from httpchart.statechart import ChartSpec, ConnectionLifecycle
from httpchart.statechart.declare import Input, event, goes, state, stays

SPEC = ChartSpec.of(ConnectionLifecycle)
GRAPH = chart_graph(ConnectionLifecycle)
DOT = dot_source(GRAPH)
MERMAID = mermaid_source(GRAPH)
EDGE = re.compile(r"^(\w+) -> (\w+) \[(.*)\];$", re.MULTILINE)


def _by_value() -> dict[str, str]:
    return {state.value: state.id for state in GRAPH.chart_states()}


def test_every_branch_is_an_edge_or_a_line_in_its_state_box() -> None:
    edges = [t.branch for t in GRAPH.chart_transitions()]
    lines = [h.branch for s in GRAPH.chart_states() for h in (*s.handled, *s.ignored)]
    assert sorted(map(id, edges + lines)) == sorted(map(id, SPEC.all_branches()))
    assert all(not branch.internal for branch in edges)
    assert all(branch.internal for branch in lines)


def test_edges_read_event_guard_then_effects() -> None:
    labels = {t.label for t in GRAPH.chart_transitions()}
    assert (
        "issue [not withdrawn and not closing and not expects_continue] "
        "/ start_request, start_total_timer"
    ) in labels
    assert "write_failed / stop_timers, abort_transport, fail_generation, discard_parser" in labels
    assert (
        "response_done [reusable] / stop_timers, resume_transport, notify_quiescent, release_parser"
    ) in labels
    assert "connection_lost / notify_lost" in labels


def test_states_list_what_they_handle_in_place_and_what_they_ignore() -> None:
    quiescent = GRAPH.chart_states()[0]
    assert quiescent.actions == [
        "issue [closing and not withdrawn] / refuse_request",
        "bad_response / log_bad_response",
        "ignores issue [withdrawn], head_received, continue_received, response_done, cancel",
    ]


def test_failure_paths_are_exactly_the_transitions_into_failure_states() -> None:
    for transition in GRAPH.chart_transitions():
        into_failure = transition.branch.target in SPEC.failure_states
        assert (transition.kind is EdgeKind.FAILURE) == into_failure


def test_the_request_cycle_is_idle_writing_waiting_idle() -> None:
    assert GRAPH.cycle == ("QUIESCENT", "TRANSMITTING", "WAITING", "QUIESCENT")
    cycle = [t.label.split(" /")[0] for t in GRAPH.chart_transitions() if t.kind is EdgeKind.CYCLE]
    assert cycle == [
        "issue [not withdrawn and not closing and not expects_continue]",
        "write_done [not answered]",
        "write_done [answered]",
        "response_done [reusable]",
        "response_done [not reusable]",
    ]


def test_dot_has_one_edge_per_transition_in_declaration_order() -> None:
    ids = _by_value()
    drawn = [(source, target) for source, target, _ in EDGE.findall(DOT)]
    declared = [(ids[b.source], ids[b.target]) for b in SPEC.all_branches() if not b.internal]
    assert drawn == [("__initial_chart", ids[SPEC.initial]), *declared]


def test_dot_draws_failure_paths_dashed_red_and_the_cycle_bold_and_aligned() -> None:
    ids = _by_value()
    for _, target, attributes in EDGE.findall(DOT)[1:]:
        into_failure = any(ids[name] == target for name in SPEC.failure_states)
        assert ("style=dashed" in attributes) == into_failure
        assert ('color="#b3261e"' in attributes) == into_failure
    nodes = dict(re.findall(r"^(\w+) \[label=<.*?>, (.*)\];$", DOT, re.MULTILINE))
    grouped = {node for node, attributes in nodes.items() if "group=cycle" in attributes}
    assert grouped == {ids["QUIESCENT"], ids["TRANSMITTING"], ids["WAITING"]}
    returns = [a for s, t, a in EDGE.findall(DOT) if (s, t) == ("waiting", "quiescent")]
    assert all("weight=0" in a and "penwidth" in a for a in returns)


def test_dot_marks_the_initial_and_the_terminal_state() -> None:
    assert re.search(r"^__initial_chart \[.*shape=circle.*fillcolor=black", DOT, re.MULTILINE)
    terminal = [line for line in DOT.splitlines() if "peripheries=2" in line]
    assert len(terminal) == 1
    assert terminal[0].startswith("lost [")


def test_dot_is_the_same_on_every_render() -> None:
    assert dot_source(chart_graph(ConnectionLifecycle)) == DOT


def test_mermaid_has_every_transition_including_branches_of_one_event() -> None:
    arrows = [line.strip() for line in MERMAID.splitlines() if " --> " in line]
    declared = [b for b in SPEC.all_branches() if not b.internal]
    assert len(arrows) == len(declared) + 2  # the initial and the final arrow
    assert (
        arrows.count(
            "waiting --> quiescent : response_done [not reusable] / stop_timers, lose_transport, "
            "release_parser"
        )
        == 1
    )
    assert "[*] --> quiescent" in arrows
    assert "lost --> [*]" in arrows
    assert "class generation_failed, aborting, lost failure" in MERMAID


def _linear_chart() -> type[StateChart[Any]]:
    start = state("START", "Reading the start line.", initial=True)
    body = state("BODY", "Reading the body.")
    done = state("DONE", "Finished.")
    broken = state("BROKEN", "Failed.")
    return type(
        "LinearProbe",
        (StateChart,),
        {
            "inputs": {"line": Input((), "a line"), "end": Input((), "the end")},
            "outputs": {"keep": "keep it"},
            "failure_states": ("BROKEN",),
            "start": start,
            "body": body,
            "done": done,
            "broken": broken,
            "line": event(
                goes(start, body, doc="start", effects=("keep",))
                | stays(body, doc="more", effects=("keep",))
            ),
            "end": event(
                goes(body, done, doc="done")
                | goes(start, broken, doc="too early")
                | stays(done, broken, doc="over")
            ),
        },
    )


def test_a_chart_that_never_returns_has_its_way_to_the_end_as_main_path() -> None:
    assert request_cycle(ChartSpec.of(_linear_chart())) == ("START", "BODY", "DONE")


@pytest.mark.parametrize("fmt", [name for name, f in FORMATS.items() if not f.graphviz])
def test_any_declared_chart_renders_in_every_text_format(fmt: str) -> None:
    text = render(_linear_chart(), fmt).decode()
    for name in ("START", "BODY", "DONE", "BROKEN"):
        assert name in text
    assert "line / keep" in text or "`keep`" in text
