"""
C{Response.discard()} on a real connection, in memory, on both engines: a
body whose rest is known and at most C{Response.drain_limit} bytes is read
and dropped and the connection is handed back; any other body (more left,
chunked, running until the close) aborts the connection.  A consumer
already given the body is told it was discarded; discarding twice, after
the body ended, or a body that cannot exist (HEAD, 204, 304) is harmless;
the returned Deferred says whether the body ended whole and never fails.
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.web._newclient import Request, ResponseFailed
from twisted.web.client import readBody
from twisted.web.http import _DataLoss
from twisted.web.http_headers import Headers

from httpchart.protocol import BodyDiscarded, HTTP11ClientProtocol, Response
from httpchart.statechart import LifecycleError

from .support.client_kit import Collect

LIMIT = Response.drain_limit
HOST = Headers({b"host": [b"example.com"]})
ENGINES = pytest.mark.parametrize("engine", ["compiled", "reference"])


class Exchange:
    """
    One request on a connection over a L{StringTransport}: its response,
    the connections handed back, and what discard() reported.
    """

    def __init__(self, engine: Any, method: bytes = b"GET") -> None:
        self.idle: list[HTTP11ClientProtocol] = []
        self.connection = HTTP11ClientProtocol(self.idle.append, engine=engine)
        self.transport = StringTransport()
        self.connection.makeConnection(self.transport)
        self.outcome: list[Any] = []
        self.connection.request(Request(method, b"/", HOST, None, persistent=True)).addBoth(
            self.outcome.append
        )
        self.discarded: list[bool] = []

    @property
    def response(self) -> Response:
        (response,) = self.outcome
        assert isinstance(response, Response), response
        return response

    def feed(self, data: bytes) -> None:
        self.connection.dataReceived(data)

    def discard(self) -> None:
        self.response.discard().addCallback(self.discarded.append)

    def lose(self) -> None:
        self.connection.connectionLost(Failure(ConnectionDone()))

    @property
    def kept(self) -> bool:
        return self.idle == [self.connection] and not self.transport.disconnecting

    @property
    def aborted(self) -> bool:
        return bool(self.transport.disconnected)


def sized(length: int) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % length


CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


@ENGINES
@pytest.mark.parametrize("first", [0, 100])
def test_a_small_rest_is_drained_and_the_connection_kept(engine: Any, first: int) -> None:
    exchange = Exchange(engine)
    exchange.feed(sized(first + LIMIT) + b"a" * first)
    assert exchange.transport.producerState == "paused"
    exchange.discard()
    assert exchange.transport.producerState == "producing"
    assert exchange.response._bodyBuffer is None  # what was buffered is gone
    assert exchange.discarded == []
    for start in range(0, LIMIT, 4096):
        exchange.feed(b"b" * min(4096, LIMIT - start))
    assert exchange.discarded == [True]
    assert exchange.connection.state == "QUIESCENT"
    assert exchange.kept


@ENGINES
@pytest.mark.parametrize(
    "head",
    [sized(LIMIT + 101), CHUNKED, b"HTTP/1.1 200 OK\r\n\r\n"],
    ids=["rest over the limit", "chunked", "until the close"],
)
def test_any_other_body_aborts_the_connection(engine: Any, head: bytes) -> None:
    exchange = Exchange(engine)
    exchange.feed(head + (b"5\r\nhello\r\n" if head == CHUNKED else b"a" * 100))
    exchange.discard()
    assert exchange.aborted
    assert exchange.discarded == [False]  # the abort ended the body at once
    assert exchange.connection.state == "ABORTING"
    exchange.feed(b"more")  # dropped
    exchange.lose()
    assert exchange.connection.state == "CONNECTION_LOST"
    assert exchange.idle == []
    assert exchange.discarded == [False]


@ENGINES
def test_a_consumer_is_told_the_body_was_discarded(engine: Any) -> None:
    """
    Part of the body went to a consumer; discarding ends it with
    ResponseFailed([BodyDiscarded, _DataLoss]) (so readBody fails with it),
    and the rest is drained.
    """
    exchange = Exchange(engine)
    exchange.feed(sized(1000) + b"a" * 100)
    collect = Collect()
    exchange.response.deliverBody(collect)
    exchange.feed(b"b" * 100)
    exchange.discard()
    failure = collect.done.result
    collect.done.addErrback(lambda _: None)
    assert isinstance(failure, Failure)
    assert failure.check(ResponseFailed)
    assert [reason.type for reason in failure.value.reasons] == [BodyDiscarded, _DataLoss]
    assert b"".join(collect._parts) == b"a" * 100 + b"b" * 100
    exchange.feed(b"c" * 800)
    assert collect._parts[-1] == b"b" * 100  # nothing more reached the consumer
    assert exchange.discarded == [True]
    assert exchange.kept


@ENGINES
def test_read_body_fails_with_body_discarded_and_a_large_rest_aborts(engine: Any) -> None:
    exchange = Exchange(engine)
    exchange.feed(sized(10 * LIMIT) + b"a" * 10)
    body = readBody(exchange.response)
    failures: list[Failure] = []
    body.addErrback(failures.append)
    exchange.discard()
    (failure,) = failures
    assert failure.value.reasons[0].check(BodyDiscarded)
    assert isinstance(failure.value.reasons[0].value, BodyDiscarded)
    assert exchange.aborted
    exchange.lose()
    assert exchange.discarded == [False]


@ENGINES
def test_discarding_twice_fires_both(engine: Any) -> None:
    exchange = Exchange(engine)
    exchange.feed(sized(10) + b"abc")
    exchange.discard()
    exchange.discard()
    assert exchange.discarded == []
    exchange.feed(b"defghij")
    assert exchange.discarded == [True, True]
    exchange.discard()
    assert exchange.discarded == [True, True, True]
    assert exchange.kept


@ENGINES
def test_discarding_a_body_that_already_ended_drops_it(engine: Any) -> None:
    exchange = Exchange(engine)
    exchange.feed(sized(5) + b"hello")
    assert exchange.kept
    assert exchange.response._bodyBuffer == [b"hello"]
    exchange.discard()
    assert exchange.discarded == [True]
    assert exchange.response._bodyBuffer is None
    with pytest.raises(LifecycleError):
        exchange.response.deliverBody(Collect())


@ENGINES
def test_discarding_after_the_body_was_read(engine: Any) -> None:
    exchange = Exchange(engine)
    exchange.feed(sized(5) + b"hello")
    collect = Collect()
    exchange.response.deliverBody(collect)
    assert collect.done.result == b"hello"
    exchange.discard()
    assert exchange.discarded == [True]


@ENGINES
@pytest.mark.parametrize(
    ("method", "status"), [(b"HEAD", b"200 OK"), (b"GET", b"204 No Content"), (b"GET", b"304 X")]
)
def test_a_response_without_a_body_is_discarded_at_once(
    engine: Any, method: bytes, status: bytes
) -> None:
    exchange = Exchange(engine, method)
    exchange.feed(b"HTTP/1.1 " + status + b"\r\nContent-Length: 100000\r\n\r\n")
    exchange.discard()
    assert exchange.discarded == [True]
    assert exchange.kept


@ENGINES
def test_a_body_cut_short_while_draining_reports_false(engine: Any) -> None:
    exchange = Exchange(engine)
    exchange.feed(sized(100) + b"a" * 10)
    exchange.discard()
    exchange.feed(b"a" * 10)
    exchange.lose()
    assert exchange.discarded == [False]
    assert exchange.idle == []


@ENGINES
def test_the_limit_is_exact(engine: Any) -> None:
    """
    A rest of exactly drain_limit bytes is drained; one more aborts.
    """
    exchange = Exchange(engine)
    exchange.feed(sized(LIMIT + 1) + b"a")
    exchange.discard()
    assert not exchange.aborted
    exchange = Exchange(engine)
    exchange.feed(sized(LIMIT + 2) + b"a")
    exchange.discard()
    assert exchange.aborted


def test_the_drain_limit_is_documented() -> None:
    assert Response.drain_limit == 65536


class _Sniffer(Collect):
    """
    Reads the first part of a body, then discards the rest from inside
    dataReceived.
    """

    def __init__(self, response: Response, discarded: list[bool]) -> None:
        super().__init__()
        self.response = response
        self.discarded = discarded

    def dataReceived(self, data: bytes) -> None:
        super().dataReceived(data)
        if len(self._parts) == 1:
            self.response.discard().addCallback(self.discarded.append)


@ENGINES
@pytest.mark.parametrize(("length", "kept"), [(1000, True), (10 * LIMIT, False)])
def test_a_consumer_may_discard_from_inside_data_received(
    engine: Any, length: int, kept: bool
) -> None:
    exchange = Exchange(engine)
    exchange.feed(sized(length))
    sniffer = _Sniffer(exchange.response, exchange.discarded)
    exchange.response.deliverBody(sniffer)
    sniffer.done.addErrback(lambda _: None)
    exchange.feed(b"a" * 100)
    assert sniffer._parts == [b"a" * 100]
    if kept:
        exchange.feed(b"b" * 900)
        assert exchange.kept
    else:
        assert exchange.aborted
        exchange.lose()
    assert exchange.discarded == [kept]
    assert sniffer._parts == [b"a" * 100]
