"""
The connection's timers, on a C{task.Clock}: each timer in each state it
guards fails the request with Twisted's usual wrapper around a L{TimedOut}
that names it, no timer outlives its states, bytes move the read deadline
without a delayed call per read, and a paused transport's silence does not
count.
"""

from __future__ import annotations

import gc
from typing import Any
from weakref import ref

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone, TimeoutError
from twisted.internet.protocol import Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.web._newclient import Request, ResponseFailed, ResponseNeverReceived
from twisted.web.client import FileBodyProducer
from twisted.web.http import _DataLoss
from twisted.web.http_headers import Headers

from httpchart.protocol import (
    POOL_TIMEOUTS,
    HTTP11ClientProtocol,
    HTTPConnectionPool,
    TimedOut,
    Timeouts,
)
from httpchart.protocol.timeouts import _Schedule

ENGINES = ["compiled", "reference"]
HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"


class Connection:
    """
    One connection with C{timeouts} on a fresh clock, over a
    StringTransport.
    """

    def __init__(self, timeouts: Timeouts, engine: str = "compiled") -> None:
        self.clock = Clock()
        self.protocol = HTTP11ClientProtocol(
            engine=engine,  # type: ignore[arg-type]
            timeouts=timeouts,
            clock=self.clock,
        )
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)
        self.outcomes: list[object] = []

    def request(self, request: Any = None) -> Deferred[Any]:
        if request is None:
            request = Request(b"GET", b"/", Headers({b"host": [b"x"]}), None)
        deferred = self.protocol.request(request)
        deferred.addBoth(self.outcomes.append)
        return deferred

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @property
    def timers(self) -> int:
        return len(self.clock.getDelayedCalls())


class Pending:
    """
    A body producer that produces nothing until told, and notes whether it
    was started.
    """

    length = 4

    def __init__(self) -> None:
        self.started = False
        self.done: Deferred[None] = Deferred()

    def startProducing(self, consumer: Any) -> Deferred[None]:
        self.started = True
        self.consumer = consumer
        return self.done

    def stopProducing(self) -> None:
        pass

    def pauseProducing(self) -> None:
        pass

    def resumeProducing(self) -> None:
        pass


class Body(Protocol):
    def __init__(self) -> None:
        self.data = b""
        self.reason: Failure | None = None

    def dataReceived(self, data: bytes) -> None:
        self.data += data

    def connectionLost(self, reason: Failure = Failure(Exception())) -> None:  # noqa: B008
        self.reason = reason


def _timed_out(outcome: object, wrapper: type[Exception], timer: str, seconds: float) -> None:
    assert isinstance(outcome, Failure)
    assert outcome.check(wrapper)
    (reason, *rest) = outcome.value.reasons
    assert reason.check(TimedOut)
    assert reason.check(TimeoutError)
    assert (reason.value.timeout, reason.value.seconds) == (timer, seconds)
    if wrapper is ResponseFailed and rest:
        assert rest[0].check(_DataLoss)


def _expecting(producer: Any = None) -> Request:
    headers = Headers({b"host": [b"x"], b"expect": [b"100-continue"]})
    return Request(b"POST", b"/upload", headers, producer or Pending())


# The total timer: TRANSMITTING, AWAITING_CONTINUE, WAITING


@pytest.mark.parametrize("engine", ENGINES)
def test_total_timer_fails_a_request_still_being_written(engine: str) -> None:
    connection = Connection(Timeouts(total=5), engine)
    producer = Pending()
    connection.request(Request(b"POST", b"/", Headers({b"host": [b"x"]}), producer))
    assert connection.protocol.state == "TRANSMITTING"
    connection.advance(4.9)
    assert connection.outcomes == []
    connection.advance(0.1)
    (outcome,) = connection.outcomes
    _timed_out(outcome, ResponseNeverReceived, "total", 5)
    assert connection.protocol.state == "ABORTING"
    assert connection.transport.disconnecting
    assert connection.timers == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_total_timer_fails_a_request_awaiting_continue(engine: str) -> None:
    connection = Connection(Timeouts(total=2, expect_continue=None), engine)
    connection.request(_expecting())
    assert connection.protocol.state == "AWAITING_CONTINUE"
    connection.advance(2)
    _timed_out(connection.outcomes[0], ResponseNeverReceived, "total", 2)
    assert connection.timers == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_total_timer_fails_a_body_that_keeps_coming(engine: str) -> None:
    connection = Connection(Timeouts(total=3, read=1), engine)
    connection.request()
    connection.protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
    body = Body()
    connection.outcomes[0].deliverBody(body)  # type: ignore[attr-defined]
    for _ in range(5):
        connection.advance(0.5)
        connection.protocol.dataReceived(b"x")
    connection.advance(0.5)
    assert body.reason is not None
    _timed_out(body.reason, ResponseFailed, "total", 3)
    assert body.data == b"xxxxx"


# The response timer: WAITING, until the head is in


@pytest.mark.parametrize("engine", ENGINES)
def test_response_timer_fails_a_request_nobody_answers(engine: str) -> None:
    connection = Connection(Timeouts(response=10), engine)
    connection.request()
    assert connection.protocol.state == "WAITING"
    connection.advance(10)
    _timed_out(connection.outcomes[0], ResponseNeverReceived, "response", 10)
    assert connection.protocol.state == "ABORTING"


@pytest.mark.parametrize("engine", ENGINES)
def test_response_timer_counts_even_while_a_head_trickles(engine: str) -> None:
    connection = Connection(Timeouts(response=1, read=5), engine)
    connection.request()
    for byte in b"HTTP/1.1 200":
        connection.advance(0.1)
        connection.protocol.dataReceived(bytes([byte]))
    _timed_out(connection.outcomes[0], ResponseFailed, "response", 1)


@pytest.mark.parametrize("engine", ENGINES)
def test_response_timer_stops_when_the_head_is_in(engine: str) -> None:
    connection = Connection(Timeouts(response=1), engine)
    connection.request()
    connection.protocol.dataReceived(HEAD)
    assert connection.timers == 0
    connection.advance(100)
    body = Body()
    connection.outcomes[0].deliverBody(body)  # type: ignore[attr-defined]
    connection.protocol.dataReceived(b"0123456789")
    assert body.data == b"0123456789"
    assert body.reason is not None
    assert connection.protocol.state == "QUIESCENT"


def test_response_timer_starts_only_when_the_request_is_written() -> None:
    connection = Connection(Timeouts(response=1))
    producer = Pending()
    connection.request(Request(b"POST", b"/", Headers({b"host": [b"x"]}), producer))
    connection.advance(10)
    assert connection.outcomes == []
    assert connection.timers == 0
    producer.consumer.write(b"body")
    producer.done.callback(None)
    assert connection.protocol.state == "WAITING"
    connection.advance(1)
    _timed_out(connection.outcomes[0], ResponseNeverReceived, "response", 1)


# The read timer: AWAITING_CONTINUE and WAITING


@pytest.mark.parametrize("engine", ENGINES)
def test_read_timer_fails_a_request_awaiting_continue_in_silence(engine: str) -> None:
    connection = Connection(Timeouts(read=1, expect_continue=None), engine)
    connection.request(_expecting())
    connection.advance(1)
    _timed_out(connection.outcomes[0], ResponseNeverReceived, "read", 1)


@pytest.mark.parametrize("engine", ENGINES)
def test_read_timer_fails_a_head_that_stops(engine: str) -> None:
    connection = Connection(Timeouts(read=1), engine)
    connection.request()
    connection.advance(0.9)
    connection.protocol.dataReceived(b"HTTP/1.1 2")
    connection.advance(0.9)
    assert connection.outcomes == []
    connection.advance(0.1)
    _timed_out(connection.outcomes[0], ResponseFailed, "read", 1)


@pytest.mark.parametrize("engine", ENGINES)
def test_read_timer_fails_a_body_that_stops(engine: str) -> None:
    connection = Connection(Timeouts(read=1), engine)
    connection.request()
    connection.protocol.dataReceived(HEAD + b"01234")
    body = Body()
    connection.outcomes[0].deliverBody(body)  # type: ignore[attr-defined]
    connection.advance(1)
    assert body.data == b"01234"
    assert body.reason is not None
    _timed_out(body.reason, ResponseFailed, "read", 1)
    assert connection.protocol.state == "ABORTING"


@pytest.mark.parametrize("engine", ENGINES)
def test_a_body_that_trickles_with_short_gaps_succeeds(engine: str) -> None:
    connection = Connection(Timeouts(read=1, response=1), engine)
    connection.request()
    connection.protocol.dataReceived(HEAD)
    body = Body()
    connection.outcomes[0].deliverBody(body)  # type: ignore[attr-defined]
    armed = []
    for byte in b"0123456789":
        connection.advance(0.9)
        armed.append(connection.timers)
        connection.protocol.dataReceived(bytes([byte]))
    assert body.data == b"0123456789"
    assert body.reason is not None
    assert "ResponseDone" in body.reason.type.__name__
    assert armed == [1] * 10
    assert connection.timers == 0


def test_bytes_move_the_read_deadline_without_a_delayed_call_per_read() -> None:
    connection = Connection(Timeouts(read=1))
    scheduled = []
    call_later = connection.clock.callLater

    def counting(delay: float, f: Any, *args: Any) -> Any:
        scheduled.append(delay)
        return call_later(delay, f, *args)

    connection.clock.callLater = counting  # type: ignore[method-assign]
    connection.request()
    connection.protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    connection.outcomes[0].deliverBody(Body())  # type: ignore[attr-defined]
    for _ in range(1000):
        connection.protocol.dataReceived(b"x")
        connection.advance(0.01)
    assert connection.protocol.state == "QUIESCENT"
    assert len(scheduled) <= 12


def test_silence_while_the_consumer_pauses_the_transport_does_not_count() -> None:
    connection = Connection(Timeouts(read=1))
    connection.request()
    connection.protocol.dataReceived(HEAD + b"01")
    response = connection.outcomes[0]
    # Nobody takes the body yet: the parser keeps the transport paused.
    assert connection.transport.producerState == "paused"
    connection.advance(5)
    assert connection.protocol.state == "WAITING"
    body = Body()
    response.deliverBody(body)  # type: ignore[attr-defined]
    assert connection.transport.producerState == "producing"
    connection.advance(0.9)
    assert body.reason is None
    connection.advance(0.1)
    assert body.reason is not None
    _timed_out(body.reason, ResponseFailed, "read", 1)


# The expect_continue timer: AWAITING_CONTINUE


@pytest.mark.parametrize("engine", ENGINES)
def test_expect_continue_timer_writes_the_body_anyway(engine: str) -> None:
    connection = Connection(Timeouts(expect_continue=1, response=5), engine)
    producer = Pending()
    connection.request(_expecting(producer))
    connection.advance(0.9)
    assert not producer.started
    connection.advance(0.1)
    assert producer.started
    assert connection.protocol.state == "TRANSMITTING"
    producer.consumer.write(b"body")
    producer.done.callback(None)
    assert connection.transport.value().endswith(b"\r\n\r\nbody")
    assert connection.protocol.state == "WAITING"
    connection.protocol.dataReceived(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
    assert connection.outcomes[0].code == 201  # type: ignore[attr-defined]
    assert connection.timers == 0


# What the timers promise


@pytest.mark.parametrize("engine", ENGINES)
def test_no_timer_outlives_its_states(engine: str) -> None:
    connection = Connection(Timeouts(response=1, read=1, total=1), engine)
    connection.request()
    assert connection.timers == 1
    connection.protocol.dataReceived(HEAD + b"0123456789")
    assert connection.protocol.state == "QUIESCENT"
    assert connection.timers == 0
    connection.request()
    connection.protocol.abort()
    assert connection.timers == 0
    connection.protocol.connectionLost(Failure(Exception()))
    assert connection.protocol.state == "CONNECTION_LOST"


def test_connections_of_one_clock_share_one_delayed_call() -> None:
    clock = Clock()
    connections = []
    for _ in range(5):
        protocol = HTTP11ClientProtocol(timeouts=Timeouts(response=1, read=2), clock=clock)
        protocol.makeConnection(StringTransport())
        protocol.request(Request(b"GET", b"/", Headers({b"host": [b"x"]}), None))
        connections.append(protocol)
        clock.advance(0.1)
    assert len(clock.getDelayedCalls()) == 1
    for protocol in connections[:4]:
        protocol.dataReceived(HEAD + b"0123456789")
    assert len(clock.getDelayedCalls()) == 1
    clock.advance(0.8)
    assert connections[4].state == "WAITING"
    clock.advance(0.1)
    assert [p.state for p in connections] == ["QUIESCENT"] * 4 + ["ABORTING"]
    assert clock.getDelayedCalls() == []


def test_connections_whose_deadlines_coincide_are_all_timed_out() -> None:
    clock = Clock()
    connections = [
        HTTP11ClientProtocol(timeouts=Timeouts(response=1, read=1), clock=clock) for _ in range(3)
    ]
    for protocol in connections:
        protocol.makeConnection(StringTransport())
        protocol.request(Request(b"GET", b"/", Headers({b"host": [b"x"]}), None))
    clock.advance(1)
    assert [p.state for p in connections] == ["ABORTING"] * 3
    assert clock.getDelayedCalls() == []


def test_the_bare_protocol_only_bounds_the_wait_for_continue() -> None:
    deadlines = HTTP11ClientProtocol()._deadlines
    assert deadlines.timeouts == Timeouts()
    assert deadlines.clock is None
    assert Timeouts() == Timeouts(None, None, None, expect_continue=1.0)


def test_timed_out_names_its_timer_and_value_and_is_twisteds_timeout() -> None:
    error = TimedOut("read", 2.5)
    assert isinstance(error, TimeoutError)
    assert str(error) == "the read timeout of 2.5 s expired"
    with pytest.raises(ValueError, match=r"Timeouts\.read must be positive"):
        Timeouts(read=0)


def test_the_pool_gives_its_timeouts_and_reactor_to_its_connections() -> None:
    clock = Clock()
    pool = HTTPConnectionPool(clock)
    assert pool.timeouts == POOL_TIMEOUTS
    protocol = pool._factory(lambda p: None, "metadata").buildProtocol(None)
    assert protocol._deadlines.clock is clock
    assert protocol._deadlines.timeouts == POOL_TIMEOUTS
    bare = HTTPConnectionPool(clock, timeouts=None)._factory(lambda p: None, "m")
    assert bare.buildProtocol(None)._deadlines.timeouts == Timeouts()


def test_file_body_producer_is_not_started_before_continue() -> None:
    from io import BytesIO

    connection = Connection(Timeouts(expect_continue=None))
    producer = FileBodyProducer(BytesIO(b"x" * 10000))
    connection.request(_expecting(producer))
    head = connection.transport.value()
    assert head.startswith(b"POST /upload HTTP/1.1\r\n")
    assert b"Content-Length: 10000\r\n" in head
    assert head.endswith(b"\r\n\r\n")
    connection.protocol.dataReceived(b"HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\n\r\n")
    assert connection.outcomes[0].code == 413  # type: ignore[attr-defined]
    assert connection.transport.value() == head
    assert connection.transport.disconnecting


# Schedule entries: several connections on one clock


def _on(clock: Clock, timeouts: Timeouts) -> HTTP11ClientProtocol:
    """
    A persistent connection on C{clock}: it stays open between requests.
    """
    protocol = HTTP11ClientProtocol(lambda _: None, timeouts=timeouts, clock=clock)
    protocol.makeConnection(StringTransport())
    return protocol


def _get(protocol: HTTP11ClientProtocol) -> list[object]:
    outcomes: list[object] = []
    request = Request(b"GET", b"/", Headers({b"host": [b"x"]}), None, persistent=True)
    protocol.request(request).addBoth(outcomes.append)
    return outcomes


def test_a_connection_looked_at_early_does_not_delay_an_earlier_deadline() -> None:
    clock = Clock()
    moved, other = _on(clock, Timeouts(read=10)), _on(clock, Timeouts(read=10))
    _get(moved)
    clock.advance(1)
    _get(other)
    clock.advance(4)
    # Bytes move the first connection's deadline from 10 to 15: looked at
    # at 10, it re-arms for 15, after the other's deadline at 11.
    moved.dataReceived(b"HTTP/1.1 2")
    clock.advance(5.9)
    assert (moved.state, other.state) == ("WAITING", "WAITING")
    clock.advance(0.1)
    assert (moved.state, other.state) == ("WAITING", "ABORTING")
    clock.advance(3.9)
    assert moved.state == "WAITING"
    clock.advance(0.1)
    assert moved.state == "ABORTING"
    assert clock.getDelayedCalls() == []


def _two_waiting(clock: Clock) -> tuple[HTTP11ClientProtocol, HTTP11ClientProtocol]:
    """
    Two connections on C{clock}, each waiting for the response to a GET,
    with response and read timeouts of a second.
    """
    pair = (
        _on(clock, Timeouts(response=1, read=1)),
        _on(clock, Timeouts(response=1, read=1)),
    )
    for connection in pair:
        _get(connection)
    return pair


def test_a_connections_next_request_takes_over_its_resting_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    busy, reused = _two_waiting(clock)
    reused.dataReceived(HEAD + b"0123456789")
    assert reused.state == "QUIESCENT"
    pushes: list[float] = []
    push = _Schedule.push

    def counting(schedule: _Schedule, at: float, owner: Any) -> None:
        pushes.append(at)
        push(schedule, at, owner)

    monkeypatch.setattr(_Schedule, "push", counting)
    clock.advance(0.5)
    outcomes = _get(reused)
    assert pushes == []
    # Looked at when the resting entry is due, it re-arms for its deadline.
    clock.advance(0.5)
    assert (busy.state, reused.state) == ("ABORTING", "WAITING")
    assert pushes == [1.5]
    clock.advance(0.49)
    assert reused.state == "WAITING"
    clock.advance(0.01)
    assert reused.state == "ABORTING"
    _timed_out(outcomes[0], ResponseNeverReceived, "response", 1)
    assert clock.getDelayedCalls() == []


def test_a_resting_entry_is_gone_once_no_connection_has_a_deadline() -> None:
    clock = Clock()
    rested, last = _two_waiting(clock)
    rested.dataReceived(HEAD + b"0123456789")
    last.dataReceived(HEAD + b"0123456789")
    assert clock.getDelayedCalls() == []
    clock.advance(0.5)
    outcomes = _get(rested)
    assert len(clock.getDelayedCalls()) == 1
    clock.advance(0.99)
    assert rested.state == "WAITING"
    clock.advance(0.01)
    assert rested.state == "ABORTING"
    _timed_out(outcomes[0], ResponseNeverReceived, "response", 1)


@pytest.mark.parametrize("ending", ["lost", "aborted"])
def test_an_idle_connection_that_ends_holds_no_delayed_call_nor_the_schedule(ending: str) -> None:
    clock = Clock()
    busy, idle = _on(clock, Timeouts(response=1, read=1)), _on(clock, Timeouts(response=1, read=1))
    _get(busy)
    _get(idle)
    idle.dataReceived(HEAD + b"0123456789")
    if ending == "aborted":
        idle.abort()
    idle.connectionLost(Failure(ConnectionDone()))
    assert idle.state == "CONNECTION_LOST"
    assert len(clock.getDelayedCalls()) == 1
    busy.dataReceived(HEAD + b"0123456789")
    assert clock.getDelayedCalls() == []
    gone = ref(idle)
    del idle
    gc.collect()
    assert gone() is None
