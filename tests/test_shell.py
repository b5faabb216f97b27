"""
The protocol shell's own promises: Nagle off on TCP, observers that cannot
break a connection, failures that name the transition they came from, the
choice of engine, and a body consumer that aborts the connection.
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.defer import CancelledError
from twisted.internet.error import ConnectionAborted
from twisted.internet.interfaces import ITCPTransport
from twisted.internet.testing import StringTransport
from twisted.logger import globalLogPublisher
from twisted.python.failure import Failure
from twisted.web._newclient import Request, ResponseFailed
from twisted.web.client import readBody
from twisted.web.http import _DataLoss
from twisted.web.http_headers import Headers
from zope.interface import implementer

from httpchart.protocol import HTTP11ClientProtocol
from httpchart.statechart import (
    CompiledEngine,
    LifecycleError,
    ReferenceEngine,
    TransitionRecord,
)

ENGINES = ["compiled", "reference"]


@implementer(ITCPTransport)
class TCPTransport(StringTransport):
    no_delay: bool | None = None

    def setTcpNoDelay(self, enabled: bool) -> None:
        self.no_delay = enabled


def test_nagle_is_turned_off_on_tcp_transports() -> None:
    transport = TCPTransport()
    HTTP11ClientProtocol().makeConnection(transport)
    assert transport.no_delay is True


def test_other_transports_are_left_alone() -> None:
    """
    A transport that is not TCP has no Nagle switch: connecting to it neither
    raises nor touches it, and the connection is ready for a request.
    """
    transport = StringTransport()
    protocol = HTTP11ClientProtocol()
    protocol.makeConnection(transport)
    assert protocol.transport is transport
    assert protocol.state == "QUIESCENT"
    assert transport.value() == b""
    assert not transport.disconnecting


@pytest.mark.parametrize("engine", ENGINES)
def test_observer_sees_every_transition_before_its_effects(engine: str) -> None:
    transport = StringTransport()
    seen: list[tuple[TransitionRecord, bytes]] = []
    protocol = HTTP11ClientProtocol(
        engine=engine,  # type: ignore[arg-type]
        observer=lambda record: seen.append((record, transport.value())),
    )
    protocol.makeConnection(transport)
    protocol.request(Request(b"GET", b"/", Headers({b"host": [b"x"]}), None))
    assert [record.event for record, _ in seen] == ["issue", "write_done"]
    assert seen[0][1] == b""  # the request was written after the observer saw the issue


@pytest.mark.parametrize("engine", ENGINES)
def test_a_failing_observer_is_logged_and_changes_nothing(engine: str) -> None:
    def broken(record: TransitionRecord) -> None:
        raise ZeroDivisionError()

    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    try:
        protocol = HTTP11ClientProtocol(engine=engine, observer=broken)  # type: ignore[arg-type]
        protocol.makeConnection(StringTransport())
        protocol.request(Request(b"GET", b"/", Headers({b"host": [b"x"]}), None))
    finally:
        globalLogPublisher.removeObserver(events.append)
    assert protocol.state == "WAITING"
    failures = [e for e in events if "log_failure" in e]
    assert len(failures) == 2
    assert all(e["log_failure"].check(ZeroDivisionError) for e in failures)


@pytest.mark.parametrize("engine", ENGINES)
def test_an_impossible_event_raises_and_changes_nothing(engine: str) -> None:
    protocol = HTTP11ClientProtocol(engine=engine)  # type: ignore[arg-type]
    protocol.makeConnection(StringTransport())
    with pytest.raises(LifecycleError, match="'write_done' cannot happen in state QUIESCENT"):
        protocol._runner.send(protocol, "write_done", {})
    assert protocol.state == "QUIESCENT"


def test_engines_are_selected_by_argument_or_class_attribute() -> None:
    class Reference(HTTP11ClientProtocol):
        engine = "reference"

    assert isinstance(HTTP11ClientProtocol()._runner, CompiledEngine)
    assert isinstance(HTTP11ClientProtocol(engine="reference")._runner, ReferenceEngine)
    assert isinstance(Reference()._runner, ReferenceEngine)
    assert isinstance(Reference(engine="compiled")._runner, CompiledEngine)


def test_compiled_dispatch_is_shared_by_all_instances_of_a_class() -> None:
    first, second = HTTP11ClientProtocol(), HTTP11ClientProtocol()
    assert first._runner is second._runner
    assert "def fire_issue(model, request, deferred):" in first._compiled.source
    assert "_engine" not in vars(first)


@pytest.mark.parametrize("engine", ENGINES)
def test_cancelling_read_body_fails_the_body_at_once_and_the_loss_logs_nothing(
    engine: str,
) -> None:
    """
    readBody's Deferred, once cancelled, must not be fired again.  A body
    consumer that aborts the connection therefore has the response end (with
    CancelledError) before the abort returns; the loss the reactor reports
    later finds nothing left to end.  Ending the body only on that loss made
    readBody's consumer fire its cancelled Deferred again, and the
    AlreadyCalledError was logged.
    """
    transport = StringTransport()
    protocol = HTTP11ClientProtocol(engine=engine)  # type: ignore[arg-type]
    protocol.makeConnection(transport)
    responses: list[Any] = []
    protocol.request(Request(b"GET", b"/", Headers({b"host": [b"x"]}), None)).addCallback(
        responses.append
    )
    protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")
    body = readBody(responses[0])
    outcome: list[Failure] = []
    body.addErrback(outcome.append)
    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    try:
        body.cancel()
        (failure,) = outcome
        failure.trap(ResponseFailed)
        assert [reason.type for reason in failure.value.reasons] == [CancelledError, _DataLoss]
        assert transport.disconnected
        protocol.connectionLost(Failure(ConnectionAborted()))
    finally:
        globalLogPublisher.removeObserver(events.append)
    assert protocol.state == "CONNECTION_LOST"
    assert [e for e in events if "log_failure" in e] == []
