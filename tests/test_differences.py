"""
Where httpchart deliberately behaves better than Twisted's own class.

Each test runs one scenario on both classes: it shows what Twisted's
HTTP11ClientProtocol does (so the difference is real for the installed
Twisted) and proves what httpchart does instead.  docs/differences.md explains
each case.
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from twisted.internet.defer import Deferred, fail
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.protocol import Protocol, connectionDone
from twisted.internet.testing import StringTransport
from twisted.logger import globalLogPublisher
from twisted.python.failure import Failure
from twisted.web._newclient import (
    ConnectionAborted,
    ParseError,
    Request,
    RequestGenerationFailed,
    RequestNotSent,
    RequestTransmissionFailed,
    ResponseDone,
    ResponseFailed,
    ResponseNeverReceived,
)
from twisted.web._newclient import HTTP11ClientProtocol as TwistedProtocol
from twisted.web.client import readBody
from twisted.web.http import _DataLoss
from twisted.web.http_headers import Headers

from httpchart.protocol import HTTP11ClientProtocol

HEADERS = Headers({b"host": [b"example.com"]})


class SlowRequest:
    """
    A request whose write the test finishes, or never does.
    """

    method = b"GET"
    persistent = True

    def __init__(self) -> None:
        self.stopped = False
        self.finished: Deferred[None] = Deferred()

    def writeTo(self, transport: object) -> Deferred[None]:
        return self.finished

    def stopWriting(self) -> None:
        self.stopped = True


def _connect(cls: Callable[..., Any], **kwargs: Any) -> tuple[Any, StringTransport]:
    transport = StringTransport(lenient=True)
    protocol = cls(**kwargs)
    protocol.makeConnection(transport)
    return protocol, transport


def _outcome(deferred: Deferred[Any]) -> list[object]:
    seen: list[object] = []
    deferred.addBoth(seen.append)
    return seen


def _get(persistent: bool = True) -> Request:
    return Request(b"GET", b"/", HEADERS, None, persistent=persistent)


def test_abort_while_writing_fails_the_request_and_stops_the_write() -> None:
    twisted, _ = _connect(TwistedProtocol)
    slow = SlowRequest()
    never = _outcome(twisted.request(slow))
    twisted.abort()
    twisted.connectionLost(Failure(ConnectionDone()))
    assert never == []  # Twisted: the request's Deferred never fires
    assert not slow.stopped

    ours, transport = _connect(HTTP11ClientProtocol)
    slow = SlowRequest()
    outcome = _outcome(ours.request(slow))
    ours.abort()
    assert slow.stopped
    assert transport.disconnected  # aborted, not closed politely
    ours.connectionLost(Failure(ConnectionDone()))
    (failure,) = outcome
    assert isinstance(failure, Failure)
    failure.trap(ResponseFailed)


def test_abort_aborts_instead_of_waiting_for_a_clean_close() -> None:
    twisted, transport = _connect(TwistedProtocol)
    twisted.abort()
    assert transport.disconnecting
    assert not transport.disconnected  # Twisted: loseConnection, which can hang on TLS

    ours, transport = _connect(HTTP11ClientProtocol)
    ours.abort()
    assert transport.disconnected


def test_a_second_connection_lost_is_harmless() -> None:
    twisted, _ = _connect(TwistedProtocol)
    twisted.connectionLost(Failure(ConnectionDone()))
    with pytest.raises(RuntimeError, match="no connectionLost method"):
        twisted.connectionLost(Failure(ConnectionDone()))

    ours, _ = _connect(HTTP11ClientProtocol)
    ours.connectionLost(Failure(ConnectionDone()))
    ours.connectionLost(Failure(ConnectionDone()))
    assert ours.state == "CONNECTION_LOST"


def test_bytes_on_an_idle_connection_take_it_out_of_service() -> None:
    twisted, transport = _connect(TwistedProtocol)
    twisted.dataReceived(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
    assert transport.disconnecting
    assert twisted.state == "QUIESCENT"  # Twisted: a pool would still hand it out

    ours, transport = _connect(HTTP11ClientProtocol)
    ours.dataReceived(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
    assert transport.disconnecting
    assert ours.state == "ABORTING"


def test_a_request_on_a_closing_connection_is_refused() -> None:
    twisted, transport = _connect(TwistedProtocol)
    transport.loseConnection()
    accepted = _outcome(twisted.request(_get()))
    assert accepted == []  # Twisted: written into a transport that is going away
    assert transport.value()

    ours, transport = _connect(HTTP11ClientProtocol)
    transport.loseConnection()
    (failure,) = _outcome(ours.request(_get()))
    assert isinstance(failure, Failure)
    failure.trap(RequestNotSent)
    assert transport.value() == b""


def test_a_broken_response_while_writing_fails_the_request_with_the_parse_error() -> None:
    twisted, _ = _connect(TwistedProtocol)
    slow = SlowRequest()
    outcome = _outcome(twisted.request(slow))
    parsed = twisted._responseDeferred
    twisted.dataReceived(b"not http\r\n")
    parsed.addErrback(lambda reason: None)  # Twisted leaves this error unhandled
    with pytest.raises(AttributeError):  # Twisted: an exception out of connectionLost,
        twisted.connectionLost(Failure(ConnectionDone()))
    assert outcome == []  # a request Deferred that never fires,
    assert not slow.stopped  # and a write nobody stops

    ours, transport = _connect(HTTP11ClientProtocol)
    slow = SlowRequest()
    outcome = _outcome(ours.request(slow))
    ours.dataReceived(b"not http\r\n")
    (failure,) = outcome
    assert isinstance(failure, Failure)
    failure.trap(ResponseFailed)
    assert failure.value.reasons[0].check(ParseError)
    assert slow.stopped
    assert transport.disconnected


@pytest.mark.parametrize(
    ("status_line", "connection"),
    [
        (b"HTTP/1.0 200 OK", b""),
        (b"HTTP/1.1 200 OK", b"Connection: Close\r\n"),
    ],
    ids=["http-1.0-without-keep-alive", "close-in-another-case"],
)
def test_a_response_that_ends_the_connection_is_not_reused(
    status_line: bytes, connection: bytes
) -> None:
    response = status_line + b"\r\n" + connection + b"Content-Length: 0\r\n\r\n"
    for cls, reused in ((TwistedProtocol, True), (HTTP11ClientProtocol, False)):
        quiescent: list[object] = []
        protocol, transport = _connect(cls, quiescentCallback=quiescent.append)
        protocol.request(_get())
        protocol.dataReceived(response)
        assert bool(quiescent) is reused, cls
        assert transport.disconnecting is not reused


def test_stray_bytes_after_a_response_stop_reuse() -> None:
    response = b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n"
    for cls, reused in ((TwistedProtocol, True), (HTTP11ClientProtocol, False)):
        quiescent: list[object] = []
        protocol, _ = _connect(cls, quiescentCallback=quiescent.append)
        protocol.request(_get())
        protocol.dataReceived(response)
        assert bool(quiescent) is reused, cls


def test_losing_the_connection_after_an_early_response_stops_the_write() -> None:
    early = b"HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\n\r\n"
    for cls, stops in ((TwistedProtocol, False), (HTTP11ClientProtocol, True)):
        protocol, _ = _connect(cls)
        slow = SlowRequest()
        protocol.request(slow)
        protocol.dataReceived(early)
        assert protocol.state == "TRANSMITTING_AFTER_RECEIVING_RESPONSE"
        protocol.connectionLost(Failure(ConnectionLost()))
        assert slow.stopped is stops, cls


def test_a_failing_response_consumer_is_logged_with_its_traceback() -> None:
    class Broken(Exception):
        pass

    class Consumer:
        def makeConnection(self, transport: object) -> None:
            pass

        def dataReceived(self, data: bytes) -> None:
            raise Broken()

        def connectionLost(self, reason: object) -> None:
            pass

    for cls, logged in ((TwistedProtocol, False), (HTTP11ClientProtocol, True)):
        events: list[dict[str, Any]] = []
        globalLogPublisher.addObserver(events.append)
        try:
            protocol, _ = _connect(cls)
            response = _outcome(protocol.request(_get()))
            protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
            response[0].deliverBody(Consumer())  # type: ignore[attr-defined]
            protocol.dataReceived(b"12345")
        finally:
            globalLogPublisher.removeObserver(events.append)
        tracebacks = [e for e in events if "Broken" in str(e.get("traceback", ""))]
        assert bool(tracebacks) is logged, cls


def test_a_request_issued_from_the_quiescent_callback_gets_its_own_response() -> None:
    for cls, survives in ((TwistedProtocol, False), (HTTP11ClientProtocol, True)):
        second: list[list[object]] = []

        def reuse(protocol: Any, second: list[list[object]] = second) -> None:
            second.append(_outcome(protocol.request(_get())))

        protocol, _ = _connect(cls, quiescentCallback=reuse)
        protocol.request(_get())
        protocol.dataReceived(b"HTTP/1.1 204 No Content\r\n\r\n")
        (outcome,) = second
        if not survives:
            (failure,) = outcome  # Twisted disconnects the new request's parser
            assert isinstance(failure, Failure)
            failure.trap(ResponseFailed)
            continue
        assert outcome == []
        assert protocol.state == "WAITING"
        protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        assert getattr(outcome[0], "code", None) == 200


def test_cancelling_read_body_aborts_the_connection() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"
    for cls, aborts in ((TwistedProtocol, False), (HTTP11ClientProtocol, True)):
        protocol, transport = _connect(cls)
        outcome = _outcome(protocol.request(_get()))
        protocol.dataReceived(head)
        (response,) = outcome
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            body = readBody(response)  # type: ignore[arg-type]
        # Twisted's transport proxy cannot abort: readBody warns, and
        # cancelling it leaves the connection open.
        assert bool(caught) is not aborts, cls
        body.addErrback(lambda reason: None)
        body.cancel()
        assert transport.disconnected is aborts, cls


def test_the_response_of_a_request_that_failed_to_be_written_is_discarded() -> None:
    class FailingRequest(SlowRequest):
        def writeTo(self, transport: object) -> Deferred[None]:
            return fail(RuntimeError("cannot produce the body"))

    for cls, logged in ((TwistedProtocol, True), (HTTP11ClientProtocol, False)):
        events: list[dict[str, Any]] = []
        globalLogPublisher.addObserver(events.append)
        try:
            protocol, _ = _connect(cls)
            (failure,) = _outcome(protocol.request(FailingRequest()))
            assert isinstance(failure, Failure)
            failure.trap(RequestGenerationFailed)
            protocol.abort()
            protocol.connectionLost(Failure(ConnectionDone()))
            del protocol
            gc.collect()
        finally:
            globalLogPublisher.removeObserver(events.append)
        unhandled = [e for e in events if "Unhandled error" in (e.get("log_format") or "")]
        assert bool(unhandled) is logged, cls  # Twisted: its abandoned parser's failure


def test_bytes_after_abort_are_dropped() -> None:
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    for cls, delivered in ((TwistedProtocol, True), (HTTP11ClientProtocol, False)):
        protocol, _ = _connect(cls)
        outcome = _outcome(protocol.request(_get()))
        protocol.abort()
        protocol.dataReceived(response)
        assert bool(outcome) is delivered, cls  # Twisted: a response after abort()
        protocol.connectionLost(Failure(ConnectionDone()))
        (result,) = outcome
        if not delivered:
            assert isinstance(result, Failure)
            result.trap(ResponseNeverReceived)
            assert result.value.reasons[0].check(ConnectionAborted)


def test_bytes_once_the_connection_is_closing_are_dropped() -> None:
    class CountingTransport(StringTransport):
        closes = 0

        def loseConnection(self) -> None:
            self.closes += 1
            super().loseConnection()

    early = b"HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\n\r\n"
    for cls, closes in ((TwistedProtocol, 2), (HTTP11ClientProtocol, 1)):
        transport = CountingTransport(lenient=True)
        protocol = cls()
        protocol.makeConnection(transport)
        protocol.request(SlowRequest())
        protocol.dataReceived(early)
        assert protocol.state == "TRANSMITTING_AFTER_RECEIVING_RESPONSE"
        protocol.dataReceived(b"more bytes")
        assert transport.closes == closes, cls  # Twisted: closed once more


def test_a_header_line_without_a_colon_fails_the_response_at_once() -> None:
    for cls, at_once in ((TwistedProtocol, False), (HTTP11ClientProtocol, True)):
        protocol, transport = _connect(cls)
        outcome = _outcome(protocol.request(_get()))
        protocol.dataReceived(b"HTTP/1.1 200 OK\r\nno colon here\r\n")
        assert bool(outcome) is at_once, cls
        protocol.dataReceived(b"\r\n")
        (failure,) = outcome
        assert isinstance(failure, Failure)
        failure.trap(ResponseFailed)
        reason = failure.value.reasons[0]
        assert reason.check(ParseError if at_once else ValueError), cls
        assert transport.disconnecting


class PausingTransport(StringTransport):
    """
    A StringTransport that notes every pause and resume.
    """

    def __init__(self) -> None:
        super().__init__(lenient=True)
        self.calls: list[str] = []

    def pauseProducing(self) -> None:
        self.calls.append("pause")
        super().pauseProducing()

    def resumeProducing(self) -> None:
        self.calls.append("resume")
        super().resumeProducing()


@pytest.mark.parametrize("attach", ["when-it-arrives", "later"])
def test_the_pause_at_the_end_of_the_head_is_applied_at_the_end_of_the_step(
    attach: str,
) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n12"
    for cls in (TwistedProtocol, HTTP11ClientProtocol):
        transport = PausingTransport()
        protocol = cls()
        protocol.makeConnection(transport)
        in_callback: list[str] = []

        def arrived(
            response: Any,
            in_callback: list[str] = in_callback,
            transport: PausingTransport = transport,
        ) -> Any:
            in_callback.append(transport.producerState)
            if attach == "when-it-arrives":
                response.deliverBody(Protocol())
            return response

        outcome = _outcome(protocol.request(_get()).addCallback(arrived))
        protocol.dataReceived(head)
        twisted = cls is TwistedProtocol
        # Twisted pauses the transport before the response's Deferred fires;
        # httpchart when the step is over, once its callbacks have run.
        assert in_callback == ["paused" if twisted else "producing"], cls
        if attach == "when-it-arrives":
            # A consumer attached at once: Twisted pauses and resumes,
            # httpchart never pauses.
            assert transport.calls == (["pause", "resume"] if twisted else ["resume"]), cls
            assert transport.producerState == "producing"
            continue
        assert transport.calls == ["pause"], cls  # both: paused until a consumer comes
        outcome[0].deliverBody(Protocol())  # type: ignore[attr-defined]
        assert transport.calls == ["pause", "resume"], cls
        assert transport.producerState == "producing"


def test_a_response_that_ends_the_connection_in_one_read_leaves_no_pause() -> None:
    response = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    for cls, paused in ((TwistedProtocol, True), (HTTP11ClientProtocol, False)):
        transport = PausingTransport()
        protocol = cls()
        protocol.makeConnection(transport)
        protocol.request(_get())
        protocol.dataReceived(response)
        assert transport.disconnecting, cls
        assert (transport.producerState == "paused") is paused, cls
        assert transport.calls == (["pause"] if paused else []), cls


def test_a_consumer_that_raises_on_the_last_bytes_fails_its_body() -> None:
    class Broken(Exception):
        pass

    class Consumer(Protocol):
        ended: Failure | None = None

        def dataReceived(self, data: bytes) -> None:
            raise Broken()

        def connectionLost(self, reason: Failure = connectionDone) -> None:
            self.ended = reason

    for cls, done in ((TwistedProtocol, True), (HTTP11ClientProtocol, False)):
        protocol, transport = _connect(cls)
        outcome = _outcome(protocol.request(_get()))
        protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
        consumer = Consumer()
        outcome[0].deliverBody(consumer)  # type: ignore[attr-defined]
        protocol.dataReceived(b"12345")  # the whole body, and the consumer raises
        assert transport.disconnecting, cls  # both give the connection up
        protocol.connectionLost(Failure(ConnectionDone()))
        ended = consumer.ended
        assert ended is not None, cls
        if done:
            # Twisted had counted the bytes before handing them over, so the
            # body it ends is complete, whatever the consumer made of it.
            ended.trap(ResponseDone)
            continue
        ended.trap(ResponseFailed)
        broken, lost = ended.value.reasons
        assert broken.check(Broken)
        assert lost.check(_DataLoss)


def test_a_request_whose_stop_writing_raises_is_logged_not_raised() -> None:
    class Unstoppable(Exception):
        pass

    class StubbornRequest(SlowRequest):
        def stopWriting(self) -> None:
            raise Unstoppable()

    for cls, raises in ((TwistedProtocol, True), (HTTP11ClientProtocol, False)):
        events: list[dict[str, Any]] = []
        globalLogPublisher.addObserver(events.append)
        try:
            protocol, _ = _connect(cls)
            outcome = _outcome(protocol.request(StubbornRequest()))
            lose = partial(protocol.connectionLost, Failure(ConnectionLost()))
            if raises:
                with pytest.raises(Unstoppable):  # Twisted: out of connectionLost
                    lose()
            else:
                lose()
        finally:
            globalLogPublisher.removeObserver(events.append)
        (failure,) = outcome  # both fail the request first
        assert isinstance(failure, Failure)
        failure.trap(RequestTransmissionFailed)
        assert protocol.state == "CONNECTION_LOST"
        logged = [e for e in events if "Unstoppable" in str(e.get("log_failure", ""))]
        assert bool(logged) is not raises, cls
