"""
The trace view shows the path a connection took, numbered in order, and the
state it is in now.
"""

from __future__ import annotations

import re

import pytest
from twisted.internet.error import ConnectionLost
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.web._newclient import Request
from twisted.web.http_headers import Headers

from httpchart.diagrams import live_trace_dot, render_image, trace_dot, traced_graph
from httpchart.diagrams.dot import Palette
from httpchart.diagrams.graph import ChartGraph
from httpchart.protocol import HTTP11ClientProtocol
from httpchart.statechart import ConnectionLifecycle, Recorder, TransitionRecord

CURRENT_FILL = Palette().current_fill
TRACE = Palette().trace


def _failed_request() -> tuple[HTTP11ClientProtocol, Recorder]:
    """
    A request whose response is cut short: the connection is lost while the
    body is still arriving.
    """
    recorder = Recorder()
    connection = HTTP11ClientProtocol(observer=recorder)
    connection.makeConnection(StringTransport())
    deferred = connection.request(Request(b"GET", b"/", Headers({b"host": [b"x"]}), None))
    connection.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")
    connection.dataReceived(b"cd")
    connection.dataReceived(b"ef")
    connection.connectionLost(Failure(ConnectionLost()))
    deferred.addErrback(lambda reason: None)
    return connection, recorder


def _node(dot: str, node: str) -> str:
    found = re.search(rf"^{node} \[.*\];$", dot, re.MULTILINE)
    assert found, node
    return found.group(0)


def _edges(dot: str, source: str, target: str) -> list[str]:
    return re.findall(rf"^{source} -> {target} \[.*\];$", dot, re.MULTILINE)


def test_recorded_path_is_numbered_in_order_on_edges_and_in_boxes() -> None:
    _, recorder = _failed_request()
    graph = traced_graph(ConnectionLifecycle, recorder.records)
    taken = {
        (t.branch.source, t.branch.event, t.branch.target): t.taken
        for t in graph.chart_transitions()
        if t.branch is not None and t.taken
    }
    assert taken == {
        ("QUIESCENT", "issue", "TRANSMITTING"): (1,),
        ("TRANSMITTING", "write_done", "WAITING"): (2,),
        ("WAITING", "connection_lost", "CONNECTION_LOST"): (7,),
    }
    waiting = next(s for s in graph.chart_states() if s.value == "WAITING")
    assert [(h.branch.event, h.taken) for h in waiting.handled if h.taken] == [
        ("data", (3, 5, 6)),
        ("head_received", (4,)),
    ]


def test_current_state_is_highlighted_and_the_path_stands_out() -> None:
    connection, recorder = _failed_request()
    dot = live_trace_dot(connection, recorder)
    assert connection.state == "CONNECTION_LOST"
    assert f'fillcolor="{CURRENT_FILL}"' in _node(dot, "lost")
    assert f'fillcolor="{CURRENT_FILL}"' not in _node(dot, "waiting")
    (issue,) = _edges(dot, "quiescent", "transmitting")
    assert "<b>1</b>  <b>issue</b>" in issue
    assert f'color="{TRACE}"' in issue
    (lost,) = _edges(dot, "waiting", "lost")
    assert "<b>7</b>  <b>connection_lost</b>" in lost
    assert "3, 5\u20136 data / restart_read_timer, feed_parser" in _node(dot, "waiting")
    (untaken,) = _edges(dot, "transmitting", "generation_failed")
    assert f'color="{TRACE}"' not in untaken
    assert "<b>" not in untaken.split("<b>write_failed</b>")[0]


def test_trace_svg_shows_the_numbers_and_the_current_state() -> None:
    connection, recorder = _failed_request()
    svg = render_image(live_trace_dot(connection, recorder), "svg").decode()
    assert "now in CONNECTION_LOST" in svg
    assert ">7<" in svg
    assert CURRENT_FILL in svg


def test_current_state_defaults_to_the_last_target_and_can_be_given() -> None:
    records = [
        TransitionRecord(
            "QUIESCENT", "issue", "TRANSMITTING", ("start_request", "start_total_timer")
        )
    ]
    assert _active(traced_graph(ConnectionLifecycle, records)) == ["TRANSMITTING"]
    assert _active(traced_graph(ConnectionLifecycle, [])) == ["QUIESCENT"]
    assert _active(traced_graph(ConnectionLifecycle, records, "ABORTING")) == ["ABORTING"]


def _active(graph: ChartGraph) -> list[str]:
    return [s.value for s in graph.chart_states() if s.is_active]


def test_a_limited_recorder_numbers_from_its_first_kept_record() -> None:
    recorder = Recorder(limit=2)
    connection = HTTP11ClientProtocol(observer=recorder)
    connection.makeConnection(StringTransport())
    connection.request(Request(b"GET", b"/", Headers({b"host": [b"x"]}), None))
    connection.abort()
    assert recorder.first_number == 2
    dot = live_trace_dot(connection, recorder)
    assert "<b>2</b>  <b>write_done</b>" in _edges(dot, "transmitting", "waiting")[0]
    assert any("<b>3</b>  <b>abort</b>" in edge for edge in _edges(dot, "waiting", "aborting"))
    assert "transitions 2\u20133 taken, now in ABORTING" in dot


def test_a_record_from_another_chart_is_rejected() -> None:
    with pytest.raises(ValueError, match="not a transition of ConnectionLifecycle"):
        trace_dot(ConnectionLifecycle, [TransitionRecord("IDLE", "go", "BUSY", ())])


def test_an_unknown_current_state_is_rejected() -> None:
    with pytest.raises(ValueError, match="'NOWHERE' is not a state"):
        trace_dot(ConnectionLifecycle, [], "NOWHERE")
