"""
Runs one case of the hostile-server corpus (L{tests.support.hostile_corpus}) against
a L{ScriptedServer}, through Twisted's C{Agent} on a connection pool, or
directly through a connection, and reports what the client made of it.

The same run serves httpchart (its L{HTTPConnectionPool} and
L{HTTP11ClientProtocol}) and Twisted (its own pool and class), so that the
corpus can state, and the tests prove, where the two differ.

A run is over when nothing can happen any more without the client: every
server connection waits on the client, and every client connection is idle
in the pool, lost, or stuck waiting on a silent server.  Only then is the
pool inspected, a follow-up request made, and the log read.
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any, Literal

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.internet.task import deferLater
from twisted.logger import LogLevel, formatEvent, globalLogPublisher
from twisted.python.failure import Failure
from twisted.web import client
from twisted.web._newclient import HTTP11ClientProtocol as TwistedProtocol
from twisted.web._newclient import Request
from twisted.web.client import Agent, FileBodyProducer, ResponseDone, readBody
from twisted.web.http_headers import Headers
from twisted.web.iweb import IAgentEndpointFactory, IResponse
from zope.interface import implementer

from httpchart.protocol import HTTP11ClientProtocol, HTTPConnectionPool

from .client_kit import Stalled
from .scripted import ScriptedServer, Wire

Flavour = Literal["httpchart", "twisted"]
UPLOAD = b"u" * 4096
# Bounds a whole run: a case that has not ended by then hangs, which fails
# its test.
RUN_TIMEOUT = 10.0


@dataclass(frozen=True)
class Answered:
    """
    A response arrived: its status, the body delivered, and how the body
    ended (the reason given to the body's consumer, as L{describe} names it).
    """

    code: int
    body: bytes = b""
    ending: str = "ResponseDone"


@dataclass(frozen=True)
class Failed:
    """
    No response: the request's Deferred failed with C{error}, as
    L{describe} names it (the exception and the reasons it wraps).
    """

    error: str


@dataclass(frozen=True)
class Hangs:
    """
    The request's Deferred (or, after C{code}, the body's) never fires:
    every connection is gone and nothing is left that could fire it.
    """

    code: int | None = None


Outcome = Answered | Failed | Hangs
_HUNG = object()


def describe(failure: Failure) -> str:
    """
    A failure as its exception's name and, for Twisted's wrapper
    exceptions, the reasons they wrap: C{ResponseFailed(ConnectionDone,
    _DataLoss)}.
    """
    reasons = getattr(failure.value, "reasons", None)
    name = type(failure.value).__name__
    if not reasons:
        return name
    return f"{name}({', '.join(describe(reason) for reason in reasons)})"


def messages(failure: Failure) -> str:
    """
    Everything the failure and the reasons it wraps say, on one line.
    """
    reasons = getattr(failure.value, "reasons", None) or []
    return " | ".join([str(failure.value), *(messages(reason) for reason in reasons)])


@dataclass(frozen=True)
class Exchange:
    """
    One request of a case and what the client does with it.

    @ivar body: C{None}, C{"upload"} (a body of known length, written at
        once) or C{"stalled"} (a body of unknown length whose first part is
        written and the rest never comes).
    @ivar action: C{"read"}: read the whole body; C{"cancel"}: cancel the
        request's Deferred when the server signals C{"cancel"}; C{"cancel
        body"}: read the body with C{readBody} and cancel that when the
        server signals C{"cancel"}.
    """

    method: bytes = b"GET"
    body: Literal["upload", "stalled"] | None = None
    action: Literal["read", "cancel", "cancel body"] = "read"


@dataclass
class Observed:
    """
    What one run showed.

    @ivar outcomes: One per exchange.
    @ivar says: Everything the failures said (L{messages}).
    @ivar after: C{"kept"} if a connection to the server is idle and usable
        (in the pool, or the connection used directly), C{"closed"}
        otherwise.
    @ivar stuck: Client connections neither lost nor idle once the run
        settled: the state of each.
    @ivar unusable: Connections in the pool once the run settled that the
        pool could hand out but that cannot carry a request.
    @ivar uploads_stopped: For each stalled upload, whether the connection
        told it to stop.
    @ivar follow_up: The body of a request made afterwards on the same pool
        (or on the kept connection); C{None} if none was made.
    @ivar not_idle_after_follow_up: The cached connections, after the
        follow-up, that are not idle on an open transport (lost ones
        included): the pool has looked at its cache by then.
    @ivar logged: The log events with a failure, after collecting garbage.
    """

    outcomes: list[Outcome] = field(default_factory=list)
    says: list[str] = field(default_factory=list)
    after: str = ""
    stuck: list[str] = field(default_factory=list)
    unusable: list[str] = field(default_factory=list)
    uploads_stopped: list[bool] = field(default_factory=list)
    follow_up: bytes | None = None
    not_idle_after_follow_up: list[str] = field(default_factory=list)
    logged: list[str] = field(default_factory=list)


class _Reporting:
    """
    Mixed into a connection class: reports every read and the loss of the
    connection to the run's L{Wire}.
    """

    wire: Wire
    port = 0
    transport: Any

    def connectionMade(self) -> None:
        super().connectionMade()  # type: ignore[misc]
        self.port = self.transport.getHost().port

    def dataReceived(self, data: bytes) -> None:
        try:
            super().dataReceived(data)  # type: ignore[misc]
        finally:
            self.wire.read(self.port, len(data))

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        try:
            super().connectionLost(reason)  # type: ignore[misc]
        finally:
            self.lost = True
            self.wire.lost(self.port)


class ReportingChartProtocol(_Reporting, HTTP11ClientProtocol):
    """
    httpchart's connection, reporting to a L{Wire}.
    """

    lost = False


class ReportingTwistedProtocol(_Reporting, TwistedProtocol):
    """
    Twisted's connection, reporting to a L{Wire}.
    """

    lost = False


class _Adopting(Factory[Protocol]):
    """
    Builds connections with C{build} and hands each to the run.
    """

    def __init__(self, build: Callable[[], Any], adopt: Callable[[Any], None]) -> None:
        self._build = build
        self._adopt = adopt

    def buildProtocol(self, addr: Any) -> Any:
        connection = self._build()
        self._adopt(connection)
        return connection


class ChartPool(HTTPConnectionPool):
    """
    httpchart's pool, whose connections report to the run.
    """

    protocol = ReportingChartProtocol

    def __init__(self, adopt: Callable[[Any], None]) -> None:
        super().__init__(reactor)
        self._adopt = adopt

    def _factory(self, quiescentCallback: Any, metadata: str) -> Any:
        inner = super()._factory(quiescentCallback, metadata)
        return _Adopting(lambda: inner.buildProtocol(None), self._adopt)


class TwistedPool(client.HTTPConnectionPool):
    """
    Twisted's own pool with Twisted's own connections, reporting to the run.
    """

    def __init__(self, adopt: Callable[[Any], None]) -> None:
        super().__init__(reactor)  # type: ignore[no-untyped-call]
        self._adopt = adopt

    def _factory(self, quiescentCallback: Any, metadata: str) -> Any:  # type: ignore[override]
        return _Adopting(lambda: ReportingTwistedProtocol(quiescentCallback), self._adopt)


@implementer(IAgentEndpointFactory)
class _Endpoints:
    """
    Makes the Agent's endpoints, and counts the connection attempts not yet
    over: a pool that retries opens a connection the run cannot see yet.
    """

    def __init__(self, wire: Wire) -> None:
        self._wire = wire
        self.pending = 0

    def endpointForURI(self, uri: Any) -> Any:
        return _CountedEndpoint(self, TCP4ClientEndpoint(reactor, uri.host, uri.port))

    def _done(self, result: object) -> object:
        self.pending -= 1
        self._wire.poke()
        return result


class _CountedEndpoint:
    def __init__(self, owner: _Endpoints, endpoint: TCP4ClientEndpoint) -> None:
        self._owner = owner
        self._endpoint = endpoint

    def connect(self, factory: Any) -> Deferred[Any]:
        self._owner.pending += 1
        return self._endpoint.connect(factory).addBoth(self._owner._done)


class _Collect(Protocol):
    """
    Collects a body and how it ended.
    """

    reason: Failure

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.done: Deferred[None] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.parts.append(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.reason = reason
        self.done.callback(None)


class _FailureLog:
    """
    Keeps every log event that carries a failure, or is an error or a
    critical one, while it is installed.
    """

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        if "log_failure" in event or event.get("log_level") in (LogLevel.error, LogLevel.critical):
            self.events.append(event)

    def lines(self) -> list[str]:
        """
        Each event as its message's first line and the failure it carries.
        """
        lines = []
        for event in self.events:
            text = formatEvent(event) or event.get("log_format") or event.get("why") or ""
            failure = event.get("log_failure")
            first = text.strip().splitlines()[0] if text.strip() else "(no message)"
            lines.append(f"{first} [{describe(failure)}]" if failure else first)
        return lines


class Run:
    """
    One case against one client: C{flavour}'s pool under Twisted's Agent,
    or, with C{direct}, one connection of C{flavour}'s class used directly.
    """

    def __init__(self, scripts: Any, flavour: Flavour, direct: bool = False) -> None:
        self.wire = Wire()
        self.server = ScriptedServer(reactor, scripts, self.wire)
        self.flavour = flavour
        self.direct = direct
        self.connections: list[Any] = []
        self.uploads: list[Stalled] = []
        self.pool: Any = None
        self._connection: Any = None
        self._endpoints = _Endpoints(self.wire)
        if not direct:
            pool_class = ChartPool if flavour == "httpchart" else TwistedPool
            self.pool = pool_class(self._adopt)
            self.agent = Agent.usingEndpointFactory(reactor, self._endpoints, pool=self.pool)

    def _adopt(self, connection: Any) -> None:
        connection.wire = self.wire
        self.connections.append(connection)

    async def play(self, exchanges: tuple[Exchange, ...]) -> Observed:
        """
        Make the exchanges in turn (each once the previous one settled),
        then inspect the pool, make a follow-up request and read the log.
        """
        log = _FailureLog()
        globalLogPublisher.addObserver(log)
        observed = Observed()
        try:
            for exchange in exchanges:
                await self._settled()
                await self._exchange(exchange, observed)
            await self._settled()
            observed.stuck = [
                c.state for c in self.connections if not c.lost and c.state != "QUIESCENT"
            ]
            observed.unusable = self._unusable()
            observed.after = "kept" if self._kept() else "closed"
            observed.uploads_stopped = [upload.stopped for upload in self.uploads]
            await self._follow_up(observed)
        finally:
            await self._close()
            gc.collect()
            globalLogPublisher.removeObserver(log)
        observed.logged = log.lines()
        return observed

    async def _exchange(self, exchange: Exchange, observed: Observed) -> None:
        body: Any = None
        if exchange.body == "upload":
            body = FileBodyProducer(BytesIO(UPLOAD))
        elif exchange.body == "stalled":
            body = Stalled(b"the start of a body that never ends")
            self.uploads.append(body)
        requested = await self._request(exchange.method, body)
        if exchange.action == "cancel":
            self.server.signal("cancel").addCallback(lambda _: requested.cancel())
        try:
            response = await self._unless_hung(requested)
        except Exception:
            failure = Failure()
            observed.outcomes.append(Failed(describe(failure)))
            observed.says.append(messages(failure))
            return
        if response is _HUNG:
            observed.outcomes.append(Hangs())
            return
        observed.outcomes.append(await self._read(response, exchange, observed))

    def _unless_hung(self, deferred: Deferred[Any]) -> Deferred[Any]:
        """
        Fires with C{deferred}'s result, or with C{_HUNG} once nothing is
        left that could fire it: no connection of the run is open or being
        opened, and the server waits on the client.  C{deferred} is left
        alone (cancelling it could fire it).
        """
        first: Deferred[Any] = Deferred()

        def settle(result: object) -> None:
            if not first.called:
                first.callback(result)

        deferred.addBoth(settle)
        self.wire.when(self._all_gone).addCallback(lambda _: settle(_HUNG))
        return first

    async def _request(self, method: bytes, body: Any) -> Deferred[IResponse]:
        """
        Issue a request (connecting first, when used directly); its Deferred.
        """
        if not self.direct:
            return self.agent.request(method, self.server.url(), None, body)
        if self._connection is None:
            cls = (
                ReportingChartProtocol if self.flavour == "httpchart" else ReportingTwistedProtocol
            )
            self._connection = cls()
            self._adopt(self._connection)
            endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", self.server.port)
            await connectProtocol(endpoint, self._connection)
        host = Headers({b"host": [b"127.0.0.1"]})
        requested: Deferred[IResponse] = self._connection.request(
            Request(method, b"/", host, body, persistent=True)
        )
        return requested

    async def _read(self, response: IResponse, exchange: Exchange, observed: Observed) -> Outcome:
        if exchange.action == "cancel body":
            reading = _read_body(response)
            self.server.signal("cancel").addCallback(lambda _: reading.cancel())
            try:
                body = await self._unless_hung(reading)
            except Exception:
                failure = Failure()
                observed.says.append(messages(failure))
                return Answered(response.code, b"", describe(failure))
            return Hangs(response.code) if body is _HUNG else Answered(response.code, body)
        collect = _Collect()
        response.deliverBody(collect)
        if await self._unless_hung(collect.done) is _HUNG:
            return Hangs(response.code)
        ending = collect.reason
        if not ending.check(ResponseDone):
            observed.says.append(messages(ending))
        return Answered(response.code, b"".join(collect.parts), describe(ending))

    def _all_gone(self) -> bool:
        return (
            self._endpoints.pending == 0
            and all(connection.lost for connection in self.connections)
            and self.server.is_settled()
        )

    async def _settled(self) -> None:
        """
        Wait until nothing more can happen without the client.  An aborted
        transport reports its loss on the reactor's next turn, so the
        condition must still hold after one.
        """
        while True:
            await self.wire.when(self._quiet)
            await deferLater(reactor, 0, lambda: None)
            if self._quiet():
                return

    def _quiet(self) -> bool:
        return self._endpoints.pending == 0 and self.server.is_settled() and self._clients_settled()

    def _clients_settled(self) -> bool:
        return all(
            connection.lost
            or (
                connection.transport is not None
                and connection.state in ("QUIESCENT", "WAITING", "TRANSMITTING")
                and not connection.transport.disconnecting
            )
            for connection in self.connections
        )

    def _cached(self) -> list[Any]:
        if self.direct:
            return [self._connection] if self._connection is not None else []
        return [c for cached in self.pool._connections.values() for c in cached]

    def _unusable(self) -> list[str]:
        """
        Cached connections a pool would hand out that cannot carry a request:
        anything but QUIESCENT on an open transport, or lost (which
        Twisted's pool discards when it next looks).
        """
        return [
            f"{c.state}{' (closing)' if c.transport.disconnecting else ''}"
            for c in self._cached()
            if not c.lost and not self._idle(c)
        ]

    @staticmethod
    def _idle(connection: Any) -> bool:
        return (
            not connection.lost
            and connection.state == "QUIESCENT"
            and not connection.transport.disconnecting
        )

    def _kept(self) -> bool:
        return any(self._idle(c) for c in self._cached())

    async def _follow_up(self, observed: Observed) -> None:
        """
        A GET on the same pool (or on the connection, if it was kept); the
        server serves it normally now.
        """
        if self.direct and not self._kept():
            return
        response = await (await self._request(b"GET", None))
        observed.follow_up = await _read_body(response)
        await self._settled()
        observed.not_idle_after_follow_up = [c.state for c in self._cached() if not self._idle(c)]

    async def _close(self) -> None:
        if self.pool is not None:
            await self.pool.closeCachedConnections()
        for connection in self.connections:
            if not connection.lost:
                connection.transport.abortConnection()
        await self.server.stop()
        await self.wire.when(lambda: all(c.lost for c in self.connections))


def _read_body(response: IResponse) -> Deferred[bytes]:
    """
    C{readBody}, without the warning it gives when Twisted's transport proxy
    (which cannot abort) carries the body.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return readBody(response)  # type: ignore[arg-type]
