"""
The typed event interfaces of httpchart's charts.

A model's C{_fire} holds one function per event of its chart (see
L{httpchart.statechart.Charted}); each interface here says, for C{mypy},
what those functions are: one method per event, named after it, taking the
model and then the event's payload, by the names and in the order the
chart's C{inputs} declare it.  A misspelt event, a missing payload or one in
the wrong place is then a type error at the call site
(C{self._fire.<event>(self, payload...)}).

The interfaces live beside the models rather than beside the charts because
their payloads are Twisted's types, which L{httpchart.statechart} does not
know.  C{tests/test_event_interfaces.py} checks that each interface lists
exactly its chart's events and payloads, so adding an event to a chart
without adding it here fails a test that names it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure
from twisted.web.iweb import IResponse

if TYPE_CHECKING:
    from .client import ClientRequest, HTTP11ClientProtocol
    from .llhttp import LLHTTPParser
    from .pool_host import PooledHost, Waiter
    from .response import Response
    from .tunnel import ReplyHead, Tunnel


class ConnectionEvents(Protocol):
    """
    The events of L{httpchart.statechart.ConnectionLifecycle}.
    """

    def issue(
        self,
        model: HTTP11ClientProtocol,
        request: ClientRequest,
        deferred: Deferred[IResponse],
    ) -> None: ...

    def write_done(self, model: HTTP11ClientProtocol) -> None: ...

    def write_failed(self, model: HTTP11ClientProtocol, reason: Failure) -> None: ...

    def data(self, model: HTTP11ClientProtocol, data: bytes) -> None: ...

    def head_received(self, model: HTTP11ClientProtocol) -> None: ...

    def continue_received(self, model: HTTP11ClientProtocol) -> None: ...

    def response_done(self, model: HTTP11ClientProtocol, rest: bytes) -> None: ...

    def bad_response(self, model: HTTP11ClientProtocol, reason: Failure) -> None: ...

    def connection_lost(self, model: HTTP11ClientProtocol, reason: Failure) -> None: ...

    def abort(self, model: HTTP11ClientProtocol, deferred: Deferred[None]) -> None: ...

    def cancel(self, model: HTTP11ClientProtocol) -> None: ...

    def timeout(self, model: HTTP11ClientProtocol, reason: Failure) -> None: ...

    def continue_timeout(self, model: HTTP11ClientProtocol) -> None: ...

    def effect_failed(
        self,
        model: HTTP11ClientProtocol,
        reason: Failure,
        carried: tuple[Deferred[Any], ...],
    ) -> None: ...


class ParsingEvents(Protocol):
    """
    The events of L{httpchart.statechart.ResponseParsing}.
    """

    def begin(self, model: LLHTTPParser) -> None: ...

    def head_done(self, model: LLHTTPParser) -> None: ...

    def body(self, model: LLHTTPParser, data: bytes) -> None: ...

    def complete(self, model: LLHTTPParser) -> None: ...

    def lost(self, model: LLHTTPParser, reason: Failure) -> None: ...


class BodyEvents(Protocol):
    """
    The events of L{httpchart.statechart.BodyDelivery}.
    """

    def deliver(self, model: Response, protocol: Any) -> None: ...

    def data(self, model: Response, data: bytes) -> None: ...

    def finished(self, model: Response, reason: Failure) -> None: ...

    def discard(self, model: Response, deferred: Deferred[bool]) -> None: ...


class TunnelEvents(Protocol):
    """
    The events of L{httpchart.statechart.TunnelSetup}.
    """

    def connected(self, model: Tunnel) -> None: ...

    def unreachable(self, model: Tunnel, reason: Failure) -> None: ...

    def data(self, model: Tunnel, data: bytes) -> None: ...

    def reply(self, model: Tunnel, head: ReplyHead) -> None: ...

    def bad_reply(self, model: Tunnel, reason: Failure) -> None: ...

    def refusal_read(self, model: Tunnel) -> None: ...

    def handshake_done(self, model: Tunnel) -> None: ...

    def connection_lost(self, model: Tunnel, reason: Failure) -> None: ...

    def timeout(self, model: Tunnel) -> None: ...

    def cancel(self, model: Tunnel) -> None: ...


class HostEvents(Protocol):
    """
    The events of L{httpchart.statechart.HostPool}.
    """

    def request(self, model: PooledHost, waiter: Waiter) -> None: ...

    def request_new(self, model: PooledHost, waiter: Waiter) -> None: ...

    def connected(self, model: PooledHost, waiter: Waiter, connection: Any) -> None: ...

    def connect_failed(self, model: PooledHost, waiter: Waiter, reason: Failure) -> None: ...

    def adopt(self, model: PooledHost, connection: Any) -> None: ...

    def release(self, model: PooledHost, connection: Any) -> None: ...

    def lost_idle(self, model: PooledHost, connection: Any) -> None: ...

    def lost_busy(self, model: PooledHost, connection: Any) -> None: ...

    def lost_closing(self, model: PooledHost, connection: Any) -> None: ...

    def expire(self, model: PooledHost, connection: Any) -> None: ...

    def evict(self, model: PooledHost, connection: Any) -> None: ...

    def displace(self, model: PooledHost, connection: Any) -> None: ...

    def wait_expired(self, model: PooledHost, waiter: Waiter) -> None: ...

    def cancel(self, model: PooledHost, waiter: Waiter) -> None: ...

    def slot_free(self, model: PooledHost) -> None: ...

    def close_idle(self, model: PooledHost) -> None: ...

    def close(self, model: PooledHost) -> None: ...

    def grace_over(self, model: PooledHost) -> None: ...
