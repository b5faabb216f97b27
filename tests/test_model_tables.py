"""
The running parser and response follow every cell of their tables.

Each row of tests/tables/parsing_table.py and tests/tables/body_table.py has a scenario
that drives a real LLHTTPParser (bytes, the connection's loss) or a real
Response (the parser-facing calls and deliverBody) into the row's state and
makes the row's event happen.  The test checks that the row's transition
was taken, that every transition taken is a row of the table, that the
effects ran in the declared order, and what a consumer can see: the
response's Deferred, the body and how it ended, the transport's pauses, and
when the connection was told the response was complete.  Impossible cells
raise LifecycleError (a RuntimeError, as Twisted's Response raises for
misuse) and change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.error import ConnectionDone
from twisted.internet.protocol import Protocol
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.web._newclient import Request, ResponseFailed, TransportProxyProducer
from twisted.web.http import PotentialDataLoss
from twisted.web.http_headers import Headers

from httpchart.protocol import LLHTTPParser, Response
from httpchart.statechart import ChartSpec, LifecycleError, ReferenceEngine, TransitionRecord

from .support.rig import spied
from .tables import body_table, parsing_table
from .tables.transition_table import Impossible, Row


class Consumer(Protocol):
    def __init__(self) -> None:
        self.events: list[str] = []

    def makeConnection(self, transport: object) -> None:
        self.events.append("connected")

    def dataReceived(self, data: bytes) -> None:
        self.events.append(f"data:{data.decode()}")

    def connectionLost(self, reason: Failure = ConnectionDone) -> None:  # type: ignore[assignment]
        self.events.append(f"ended:{reason.type.__name__}")


SpiedParser = spied(LLHTTPParser)
SpiedResponse = spied(Response)


@dataclass
class ParserRig:
    method: bytes = b"GET"
    records: list[TransitionRecord] = field(default_factory=list)
    completions: list[bytes] = field(default_factory=list)
    outcome: list[object] = field(default_factory=list)
    consumer: Consumer = field(default_factory=Consumer)

    def __post_init__(self) -> None:
        self.transport = StringTransport()
        request = Request(self.method, b"/", Headers({b"host": [b"x"]}), None)
        self.parser, deferred = SpiedParser.open(
            request, self.completions.append, TransportProxyProducer(self.transport)
        )
        self.parser.effect_calls = []
        self.parser._observer = self.records.append
        deferred.addBoth(self._settled)

    def _settled(self, outcome: object) -> None:
        self.outcome.append(outcome)
        if isinstance(outcome, Response):
            outcome.deliverBody(self.consumer)

    def feed(self, data: bytes) -> None:
        try:
            self.parser.dataReceived(data)
        except Exception as error:
            self.parser.connectionLost(Failure(error))

    def lose(self) -> None:
        self.parser.connectionLost(Failure(ConnectionDone("closed")))


def _feed(data: bytes) -> Callable[[ParserRig], None]:
    return lambda rig: rig.feed(data)


def _lose(rig: ParserRig) -> None:
    rig.lose()


def _past_a_limit_of_one_byte(rig: ParserRig) -> None:
    rig.parser.max_body_size = 1
    rig.feed(b"xy")


OK_HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
OPEN_HEAD = b"HTTP/1.0 200 OK\r\n\r\n"

P = parsing_table
PARSER_SCENARIOS: dict[tuple[str, str, str], tuple[bytes, tuple[Any, ...], Any, str]] = {
    # (request method, route, action, what the consumer must see afterwards)
    (P.HEAD, "begin", ""): (b"GET", (), _feed(b"H"), ""),
    (P.HEAD, "head_done", "informational"): (
        b"GET",
        (),
        _feed(b"HTTP/1.1 100 Continue\r\n\r\n"),
        "",
    ),
    (P.HEAD, "head_done", "bodiless and not informational"): (
        b"HEAD",
        (),
        _feed(OK_HEAD),
        "connected ended:ResponseDone",
    ),
    (P.HEAD, "head_done", "chunked and not informational and not bodiless"): (
        b"GET",
        (),
        _feed(CHUNKED_HEAD),
        "connected",
    ),
    (P.HEAD, "head_done", "sized and not informational and not bodiless and not chunked"): (
        b"GET",
        (),
        _feed(OK_HEAD),
        "connected",
    ),
    (P.HEAD, "head_done", "not informational and not bodiless and not chunked and not sized"): (
        b"GET",
        (),
        _feed(OPEN_HEAD),
        "connected",
    ),
    (P.HEAD, "complete", ""): (b"GET", (), _feed(b"HTTP/1.1 103 Early\r\n\r\n"), ""),
    (P.HEAD, "lost", "received"): (b"GET", (_feed(b"HTTP/1.1 2"),), _lose, ""),
    (P.HEAD, "lost", "not received"): (b"GET", (), _lose, ""),
    (P.BODY, "body", ""): (b"GET", (_feed(OK_HEAD),), _feed(b"ab"), "connected data:ab"),
    (P.BODY, "complete", ""): (b"GET", (_feed(OK_HEAD),), _feed(b"abcde"), "connected data:abcde"),
    (P.BODY, "lost", ""): (b"GET", (_feed(OK_HEAD),), _lose, "connected ended:ResponseFailed"),
    (P.CHUNKED, "body", ""): (
        b"GET",
        (_feed(CHUNKED_HEAD),),
        _feed(b"2\r\nab\r\n"),
        "connected data:ab",
    ),
    (P.CHUNKED, "complete", ""): (b"GET", (_feed(CHUNKED_HEAD),), _feed(b"0\r\n\r\n"), "connected"),
    (P.CHUNKED, "lost", ""): (
        b"GET",
        (_feed(CHUNKED_HEAD),),
        _lose,
        "connected ended:ResponseFailed",
    ),
    (P.UNTIL_CLOSE, "body", ""): (b"GET", (_feed(OPEN_HEAD),), _feed(b"xy"), "connected data:xy"),
    (P.UNTIL_CLOSE, "lost", "not cut_short"): (
        b"GET",
        (_feed(OPEN_HEAD),),
        _lose,
        "connected ended:PotentialDataLoss",
    ),
    (P.UNTIL_CLOSE, "lost", "cut_short"): (
        b"GET",
        (_feed(OPEN_HEAD),),
        _past_a_limit_of_one_byte,
        "connected ended:ResponseFailed",
    ),
    (P.DONE, "begin", ""): (b"GET", (_feed(OK_HEAD),), _feed(b"abcdeHTTP"), "connected data:abcde"),
    (P.DONE, "lost", ""): (
        b"GET",
        (_feed(OK_HEAD + b"abcde"),),
        _lose,
        "connected data:abcde ended:ResponseDone",
    ),
    (P.FINISHED, "lost", ""): (
        b"GET",
        (_feed(b"HTTP/1.1 204 No Content\r\n\r\n"),),
        _lose,
        "connected ended:ResponseDone",
    ),
}

PARSER_ROUTES = {
    P.HEAD: (b"GET", ()),
    P.BODY: (b"GET", (_feed(OK_HEAD),)),
    P.CHUNKED: (b"GET", (_feed(CHUNKED_HEAD),)),
    P.UNTIL_CLOSE: (b"GET", (_feed(OPEN_HEAD),)),
    P.DONE: (b"GET", (_feed(OK_HEAD + b"abcde"),)),
    P.FINISHED: (b"GET", (_feed(b"HTTP/1.1 204 No Content\r\n\r\n"),)),
    P.FAILED: (b"GET", (_lose,)),
}
PAYLOADS: dict[str, dict[str, object]] = {
    "begin": {},
    "head_done": {},
    "body": {"data": b"x"},
    "complete": {},
    "lost": {"reason": Failure(ConnectionDone())},
    "deliver": {"protocol": Consumer()},
    "data": {"data": b"x"},
    "finished": {"reason": Failure(ConnectionDone())},
    "discard": {"deferred": Deferred()},
}


def _rows(table: tuple[Row | Impossible, ...]) -> list[Row]:
    return [entry for entry in table if isinstance(entry, Row)]


def _impossible(table: tuple[Row | Impossible, ...]) -> list[Impossible]:
    return [entry for entry in table if isinstance(entry, Impossible)]


def _record(row: Row) -> TransitionRecord:
    return TransitionRecord(row.state, row.event, row.target, row.effects)


def _id(entry: Row | Impossible) -> str:
    guard = f"[{entry.guard}]" if isinstance(entry, Row) and entry.guard else ""
    return f"{entry.state}-{entry.event}{guard}"


def _check_trace(records: list[TransitionRecord], calls: list[str], row: Row, table: Any) -> None:
    rows = {_record(r) for r in _rows(table)}
    assert _record(row) in records, records
    assert set(records) <= rows
    assert calls == [effect for record in records for effect in record.effects]


@pytest.mark.parametrize("row", _rows(P.TABLE), ids=_id)
def test_parser_follows_row(row: Row) -> None:
    method, route, action, seen = PARSER_SCENARIOS[(row.state, row.event, row.guard)]
    rig = ParserRig(method)
    for step in route:
        step(rig)
    del rig.records[:]
    rig.parser.effect_calls = []
    action(rig)
    _check_trace(rig.records, rig.parser.effect_calls, row, P.TABLE)
    assert " ".join(rig.consumer.events) == seen
    if "announce_complete" in row.effects:
        assert len(rig.completions) == 1
    if "pause_transport" in row.effects:
        assert rig.transport.producerState == "producing"  # the consumer resumed it
    if row.effects[:1] in (("fail_head",), ("fail_unanswered",)):
        (failure,) = rig.outcome
        kind = "ResponseFailed" if row.effects[0] == "fail_head" else "ResponseNeverReceived"
        assert isinstance(failure, Failure)
        assert failure.type.__name__ == kind


@pytest.mark.parametrize("cell", _impossible(P.TABLE), ids=_id)
def test_parser_rejects_impossible_cell(cell: Impossible) -> None:
    method, route = PARSER_ROUTES[cell.state]
    rig = ParserRig(method)
    for step in route:
        step(rig)
    assert rig.parser._state == cell.state
    del rig.records[:]
    with pytest.raises(LifecycleError):
        rig.parser._compiled.send(rig.parser, cell.event, PAYLOADS[cell.event])
    assert rig.parser._state == cell.state
    assert rig.records == []


B = body_table


def _response(engine: str = "compiled") -> tuple[Any, StringTransport, list[TransitionRecord]]:
    transport = StringTransport()
    transport.pauseProducing()
    response = SpiedResponse((b"HTTP", 1, 1), 200, b"OK", Headers(), transport)
    if engine == "reference":
        response._fire = ReferenceEngine(ChartSpec.of(Response.chart), response).fire
    response.effect_calls = []
    records: list[TransitionRecord] = []
    response._observer = records.append
    return response, transport, records


BODY_ROUTES: dict[str, Callable[[Any, Consumer], None]] = {
    B.INITIAL: lambda response, consumer: None,
    B.CONNECTED: lambda response, consumer: response.deliverBody(consumer),
    B.DEFERRED_CLOSE: lambda response, consumer: response._bodyDataFinished(),
    B.FINISHED: lambda response, consumer: (
        response.deliverBody(consumer),
        response._bodyDataFinished(),
    ),
    # Of unknown length, so discarding aborts; no parser ends the body.
    B.DISCARDING: lambda response, consumer: response.discard(),
}


@pytest.mark.parametrize("engine", ["compiled", "reference"])
@pytest.mark.parametrize("row", _rows(B.TABLE), ids=_id)
def test_response_follows_row(row: Row, engine: str) -> None:
    response, transport, records = _response(engine)
    response._bodyDataReceived(b"early")
    first = Consumer()
    BODY_ROUTES[row.state](response, first)
    if row.guard == "small_rest":
        response.length = len(b"early") + Response.drain_limit
    elif row.guard == "not small_rest":
        response.length = len(b"early") + Response.drain_limit + 1
    del records[:]
    del first.events[:]
    response.effect_calls = []
    consumer = Consumer()
    discarded: list[bool] = []
    action = {
        "deliver": lambda: response.deliverBody(consumer),
        "data": lambda: response._bodyDataReceived(b"late"),
        "finished": lambda: response._bodyDataFinished(),
        "discard": lambda: response.discard().addCallback(discarded.append),
    }[row.event]
    action()
    _check_trace(records, response.effect_calls, row, B.TABLE)
    if row.event == "deliver":
        expected = ["connected", "data:early"]
        if "close_protocol" in row.effects:
            expected.append("ended:ResponseDone")
        assert consumer.events == expected
    if row.event in ("deliver", "discard"):
        if "resume_transport" in row.effects:
            assert transport.producerState == "producing"
        elif row.state == B.INITIAL:
            assert transport.producerState == "paused"
        assert transport.disconnected == (
            "abort_transport" in row.effects or row.state == B.DISCARDING
        )
    if row.event == "data" and "buffer" in row.effects:
        assert response._bodyBuffer == [b"early", b"late"]
    if "drop_buffer" in row.effects:
        assert response._bodyBuffer is None
    if "end_consumer" in row.effects:
        assert first.events == ["ended:ResponseFailed"]
    if row.event == "discard":
        assert discarded == ([True] if "report_discarded" in row.effects else [])


@pytest.mark.parametrize("engine", ["compiled", "reference"])
def test_a_discarded_body_reports_how_it_ended(engine: str) -> None:
    for reason, whole in (
        (None, True),
        (Failure(PotentialDataLoss()), True),
        (Failure(ResponseFailed([Failure(CancelledError())])), False),
    ):
        response, _, _ = _response(engine)
        response.length = 100  # small enough to drain
        discarded: list[bool] = []
        response.discard().addCallback(discarded.append)
        response.discard().addCallback(discarded.append)
        assert discarded == []
        response._bodyDataReceived(b"dropped")
        response._bodyDataFinished(reason)
        assert discarded == [whole, whole]
        response.discard().addCallback(discarded.append)
        assert discarded == [whole] * 3


@pytest.mark.parametrize("cell", _impossible(B.TABLE), ids=_id)
def test_response_rejects_impossible_cell(cell: Impossible) -> None:
    response, _, records = _response()
    BODY_ROUTES[cell.state](response, Consumer())
    del records[:]
    with pytest.raises(RuntimeError):
        response._compiled.send(response, cell.event, PAYLOADS[cell.event])
    assert response._state == cell.state
    assert records == []


def test_every_row_has_a_scenario() -> None:
    assert {(r.state, r.event, r.guard) for r in _rows(P.TABLE)} == set(PARSER_SCENARIOS)
    assert {c.state for c in _impossible(P.TABLE)} <= set(PARSER_ROUTES)
