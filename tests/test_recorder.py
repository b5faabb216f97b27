"""
L{Recorder} keeps the transitions a connection takes, and a connection
without an observer records nothing at all.
"""

from __future__ import annotations

import re

import pytest
from twisted.internet.testing import StringTransport
from twisted.web._newclient import Request
from twisted.web.http_headers import Headers

from httpchart.protocol import HTTP11ClientProtocol
from httpchart.statechart import ChartSpec, ConnectionLifecycle, Recorder, TransitionRecord

ENGINES = ["compiled", "reference"]
SPEC = ChartSpec.of(ConnectionLifecycle)
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def _exchange(protocol: HTTP11ClientProtocol) -> None:
    protocol.makeConnection(StringTransport())
    request = Request(b"GET", b"/", Headers({b"host": [b"x"]}), None, persistent=True)
    protocol.request(request)
    protocol.dataReceived(RESPONSE)


@pytest.mark.parametrize("engine", ENGINES)
def test_recorder_keeps_every_transition_in_order(engine: str) -> None:
    recorder = Recorder()
    _exchange(HTTP11ClientProtocol(engine=engine, observer=recorder))  # type: ignore[arg-type]
    assert [(r.source, r.event, r.target) for r in recorder] == [
        ("QUIESCENT", "issue", "TRANSMITTING"),
        ("TRANSMITTING", "write_done", "WAITING"),
        ("WAITING", "data", "WAITING"),
        ("WAITING", "head_received", "WAITING"),
        ("WAITING", "response_done", "QUIESCENT"),
    ]
    assert len(recorder) == 5
    assert recorder.first_number == 1


def test_recorder_keeps_the_declared_records_without_copying_them() -> None:
    recorder = Recorder()
    _exchange(HTTP11ClientProtocol(observer=recorder))
    declared = {id(branch.record) for branch in SPEC.all_branches()}
    assert all(id(record) in declared for record in recorder.records)


def test_a_limited_recorder_drops_the_oldest_and_counts_them() -> None:
    recorder = Recorder(limit=2)
    records = [TransitionRecord("A", f"e{n}", "A", ()) for n in range(5)]
    for record in records:
        recorder(record)
    assert recorder.records == tuple(records[3:])
    assert (recorder.dropped, recorder.first_number) == (3, 4)
    recorder.clear()
    assert (recorder.records, recorder.first_number) == ((), 1)


def test_a_recorder_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Recorder(limit=0)


@pytest.mark.parametrize("engine", ENGINES)
def test_without_an_observer_nothing_is_called_or_kept(engine: str) -> None:
    protocol = HTTP11ClientProtocol(engine=engine)  # type: ignore[arg-type]
    _exchange(protocol)
    assert protocol.state == "QUIESCENT"
    assert "_observer" not in vars(protocol)
    assert protocol._observer is None


def test_the_compiled_dispatch_only_calls_an_observer_that_is_set() -> None:
    lines = HTTP11ClientProtocol._compiled.source.splitlines()
    calls = {n: re.fullmatch(r"\s*observer\((r_\d+)\)", line) for n, line in enumerate(lines)}
    records = {call.group(1) for call in calls.values() if call}
    assert len(records) == len(list(SPEC.all_branches()))
    assert all(lines[n - 1].strip() == "if observer is not None:" for n, c in calls.items() if c)
