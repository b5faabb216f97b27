"""
L{read_body} gives what Twisted's C{readBody} gives, on the same exchanges
of a real connection in memory, on both engines: the whole body, however it
is framed and however many reads bring it; C{PartialDownloadError} with the
status, phrase and body read for a body that runs until the close; the
reason for a body cut short; an abort, and the abort's reason, when
cancelled.  Unlike C{readBody}, it can stop a transport that cannot abort
(Twisted's own connection), and a body ending after the cancellation is
dropped.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.web import _newclient
from twisted.web._newclient import Request, ResponseFailed
from twisted.web.client import PartialDownloadError, readBody
from twisted.web.http_headers import Headers

from httpchart.protocol import HTTP11ClientProtocol, read_body

HOST = Headers({b"host": [b"example.com"]})
ENGINES = pytest.mark.parametrize("engine", ["compiled", "reference"])
READERS = pytest.mark.parametrize("reader", [readBody, read_body], ids=["readBody", "read_body"])

SIZED = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
UNTIL_CLOSE = b"HTTP/1.1 203 Partial Info\r\nConnection: close\r\n\r\n"


class Exchange:
    """
    One request on a connection over a L{StringTransport}, whose response's
    body a reader reads as soon as the head is in.
    """

    def __init__(self, connection: Any, reader: Callable[[Any], Deferred[bytes]]) -> None:
        self.connection = connection
        self.transport = StringTransport()
        connection.makeConnection(self.transport)
        self.outcome: list[Any] = []
        self.reading: list[Deferred[bytes]] = []

        def read(response: Any) -> None:
            reading = reader(response)
            self.reading.append(reading)
            reading.addBoth(self.outcome.append)

        connection.request(Request(b"GET", b"/", HOST, None, persistent=True)).addCallback(read)

    def feed(self, *reads: bytes) -> None:
        for data in reads:
            self.connection.dataReceived(data)

    def lose(self) -> None:
        self.connection.connectionLost(Failure(ConnectionDone()))

    def result(self) -> Any:
        (outcome,) = self.outcome
        return outcome


def _outcome(outcome: Any) -> Any:
    """
    What a reader's outcome is, to compare readers: the body, or the
    failure's type with the parts of it a caller reads.
    """
    if not isinstance(outcome, Failure):
        return outcome
    value = outcome.value
    if isinstance(value, PartialDownloadError):
        return (PartialDownloadError, value.status, value.message, value.response)
    if isinstance(value, ResponseFailed):
        return (ResponseFailed, [reason.type for reason in value.reasons])
    return outcome.type


def both(engine: str, run: Callable[[Exchange], None]) -> tuple[Any, Any]:
    """
    C{run} on an exchange read by C{readBody}, and on one read by
    L{read_body}: what each reader gave.
    """
    seen = []
    for reader in (readBody, read_body):
        exchange = Exchange(HTTP11ClientProtocol(engine=engine), reader)
        run(exchange)
        seen.append(_outcome(exchange.result()))
    return seen[0], seen[1]


@ENGINES
@pytest.mark.parametrize(
    "reads",
    [
        [SIZED + b"0123456789"],
        [SIZED, b"0123", b"456", b"789"],
        [CHUNKED + b"4\r\n0123\r\n6\r\n456789\r\n0\r\n\r\n"],
        [CHUNKED, b"4\r\n0123\r\n", b"6\r\n456789\r\n", b"0\r\n\r\n"],
    ],
    ids=["sized-one-read", "sized-in-parts", "chunked-one-read", "chunked-in-parts"],
)
def test_a_whole_body_is_the_bytes_readBody_gives(engine: str, reads: list[bytes]) -> None:
    twisted, ours = both(engine, lambda exchange: exchange.feed(*reads))
    assert ours == twisted == b"0123456789"


@ENGINES
def test_a_body_until_the_close_fails_as_a_partial_download(engine: str) -> None:
    def run(exchange: Exchange) -> None:
        exchange.feed(UNTIL_CLOSE, b"some", b" body")
        exchange.lose()

    twisted, ours = both(engine, run)
    assert ours == twisted == (PartialDownloadError, b"203", b"Partial Info", b"some body")


@ENGINES
@pytest.mark.parametrize(
    "reads",
    [[SIZED + b"0123"], [CHUNKED + b"4\r\n0123\r\n"]],
    ids=["sized", "chunked"],
)
def test_a_body_cut_short_fails_with_its_reason(engine: str, reads: list[bytes]) -> None:
    def run(exchange: Exchange) -> None:
        exchange.feed(*reads)
        exchange.lose()

    twisted, ours = both(engine, run)
    assert ours == twisted
    assert ours[0] is ResponseFailed


@ENGINES
def test_cancelling_aborts_the_connection_as_readBody_does(engine: str) -> None:
    transports = []

    def run(exchange: Exchange) -> None:
        exchange.feed(SIZED + b"0123")
        (reading,) = exchange.reading
        reading.cancel()
        transports.append(exchange.transport)

    twisted, ours = both(engine, run)
    assert ours == twisted
    assert [transport.disconnected for transport in transports] == [True, True]


@ENGINES
@READERS
def test_a_body_read_after_it_is_all_in_is_read_at_once(engine: str, reader: Any) -> None:
    (response,) = _responses(engine, SIZED + b"0123456789")
    assert _result(reader(response)) == b"0123456789"


def _responses(engine: str, data: bytes) -> list[Any]:
    """
    The responses a connection gives for C{data}, nobody reading them yet.
    """
    connection = HTTP11ClientProtocol(engine=engine)
    connection.makeConnection(StringTransport())
    responses: list[Any] = []
    connection.request(Request(b"GET", b"/", HOST, None, persistent=True)).addCallback(
        responses.append
    )
    connection.dataReceived(data)
    return responses


def _result(deferred: Deferred[bytes]) -> Any:
    outcome: list[Any] = []
    deferred.addBoth(outcome.append)
    (result,) = outcome
    return result


def test_on_twisteds_connection_cancelling_stops_the_transport() -> None:
    """
    Twisted's transport proxy cannot abort: L{read_body} stops it instead,
    fails with C{CancelledError}, and drops the body's later end, where
    C{readBody} warns and leaves the connection running.
    """
    exchange = Exchange(_newclient.HTTP11ClientProtocol(), read_body)
    exchange.feed(SIZED + b"0123")
    (reading,) = exchange.reading
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reading.cancel()
    assert exchange.transport.producerState == "stopped"
    exchange.feed(b"456789")
    assert exchange.result().type is CancelledError


@READERS
def test_on_twisteds_connection_a_whole_body_is_read(reader: Any) -> None:
    exchange = Exchange(_newclient.HTTP11ClientProtocol(), reader)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        exchange.feed(SIZED + b"0123", b"456789")
    assert exchange.result() == b"0123456789"
