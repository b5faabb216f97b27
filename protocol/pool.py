"""
L{HTTPConnectionPool}: httpchart's connection pool, a drop-in for
L{twisted.web.client.HTTPConnectionPool} whose connections are httpchart's
L{HTTP11ClientProtocol}.

Twisted's L{twisted.web.client.Agent} (and treq, which is built on it) and
httpchart's L{Agent} get their connections from a pool.  Handing one this
pool is the whole switch::

    agent = Agent(reactor, pool=HTTPConnectionPool(reactor))

It keeps Twisted's constructor, attributes (C{persistent},
C{maxPersistentPerHost}, C{cachedConnectionTimeout}, C{retryAutomatically}),
C{getConnection} and C{closeCachedConnections}, and adds what Twisted's pool
lacks:

  - limits (C{max_connections}, C{max_connections_per_host}) with a
    first-in-first-out queue of requests behind them, and C{wait_timeout};
  - stale connections never handed out: an idle connection the server
    closes leaves the pool at once, and one whose close is pending is
    evicted when a request looks for it;
  - keep-alive that follows the server's C{Keep-Alive: timeout=, max=}
    header, and the client-side C{idle_timeout} and
    C{max_requests_per_connection};
  - a request refused with L{RequestNotSent} on a reused connection is
    always retried, since nothing was sent;
  - C{close()}, and a grace period for closing;
  - L{HTTPConnectionPool.stats} and pool events.

What happens to each key's connections and waiting requests is declared in
L{httpchart.statechart.pool.HostPool}; L{PooledHost} runs it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from functools import partial
from itertools import count
from typing import Any, ClassVar

from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.interfaces import IAddress
from twisted.internet.protocol import Factory
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web import client
from twisted.web._newclient import RequestNotSent

from .client import EngineName, HTTP11ClientProtocol
from .observe import ConnectionObserver
from .pool_host import (
    HostStats,
    PoolClosed,
    PooledHost,
    PoolWaitTimeout,
    Use,
    Waiter,
)
from .timeouts import Timeouts

QuiescentCallback = Callable[[HTTP11ClientProtocol], object]

POOL_TIMEOUTS = Timeouts(response=300.0, read=300.0, total=None, expect_continue=1.0)
"""
The timeouts of an L{HTTPConnectionPool}'s connections unless it is given
others: five minutes for the response's head once the request is written,
and five minutes of silence while a response is read; no total limit,
since a large download may rightly take longer.
"""

# Connection numbers are shared by every pool in the process, so that the
# transitions of connections (and of pools' keys) from different pools never
# share a number in a log.
_numbers = count(1)

__all__ = [
    "HTTP11ClientFactory",
    "HTTPConnectionPool",
    "HostStats",
    "PoolClosed",
    "PoolStats",
    "PoolWaitTimeout",
]


class HTTP11ClientFactory(Factory[HTTP11ClientProtocol]):
    """
    Builds the httpchart connections of an L{HTTPConnectionPool}; it takes
    the same arguments as Twisted's private C{_HTTP11ClientFactory}, which
    Twisted's pool calls.

    @ivar protocol: The connection class.
    @ivar observer: If not C{None}, every connection built gets the next
        connection number and reports its transitions to C{observer} with
        that number.
    """

    protocol: type[HTTP11ClientProtocol]

    def __init__(
        self,
        quiescentCallback: QuiescentCallback,
        metadata: str,
        *,
        protocol: type[HTTP11ClientProtocol] = HTTP11ClientProtocol,
        observer: ConnectionObserver | None = None,
        build: Callable[[QuiescentCallback], HTTP11ClientProtocol] | None = None,
    ) -> None:
        """
        @param quiescentCallback: Given to every connection: the pool takes
            an idle connection back through it.
        @param metadata: Describes where the connections go, for C{repr}.
        @param build: If given, builds each connection from the quiescent
            callback (a pool's L{HTTPConnectionPool.build_connection});
            C{protocol} and C{observer} are then not used.
        """
        self._quiescentCallback = quiescentCallback
        self._metadata = metadata
        self.protocol = protocol
        self.observer = observer
        self._build = build

    def __repr__(self) -> str:
        return f"HTTP11ClientFactory({self._quiescentCallback!r}, {self._metadata})"

    def buildProtocol(self, addr: IAddress | None) -> HTTP11ClientProtocol:
        if self._build is not None:
            return self._build(self._quiescentCallback)
        if self.observer is None:
            return self.protocol(self._quiescentCallback)
        number = next(_numbers)
        return self.protocol(self._quiescentCallback, observer=partial(self.observer, number))


@dataclass(frozen=True)
class PoolStats:
    """
    What L{HTTPConnectionPool.stats} returns.

    @ivar total: The figures of the whole pool.
    @ivar hosts: The figures of each key.
    """

    total: HostStats
    hosts: Mapping[Hashable, HostStats]


class _RetryingConnection(client._RetryingHTTP11ClientProtocol):
    """
    Twisted's wrapper of a reused connection that retries a failed request
    once on another connection, plus one rule: a request refused with
    L{RequestNotSent} (the reused connection turned out to be closing) is
    always retried, whatever its method and body, since nothing was sent.
    """

    def _shouldRetry(self, method: bytes, exception: Exception, bodyProducer: object) -> bool:
        if isinstance(exception, RequestNotSent):
            return True
        retry: bool = super()._shouldRetry(method, exception, bodyProducer)  # type: ignore[no-untyped-call]
        return retry


class HTTPConnectionPool:
    """
    A pool of persistent HTTP connections, each an httpchart
    L{HTTP11ClientProtocol}, kept per key (scheme, host and port for an
    agent), with optional limits and a queue.

    @cvar protocol: The connection class the pool builds; a subclass may
        choose another (for instance one running the reference engine).
    @cvar engine: The engine running each key's L{HostPool} chart:
        C{"compiled"}, or C{"reference"} (python-statemachine's, slow, for
        checking the compiled one).
    @ivar persistent: Whether requests ask to keep their connection open.
    @ivar maxPersistentPerHost: The most idle connections kept per key; one
        more coming back closes the connection idle longest.
    @ivar cachedConnectionTimeout: Seconds an idle connection is kept, when
        C{idle_timeout} is not given.
    @ivar retryAutomatically: Whether a request that fails on a reused
        connection before any response is retried once on a new one
        (idempotent requests without a body, as Twisted's pool; and any
        request refused with L{RequestNotSent}).
    @ivar close_grace_period: Seconds C{closeCachedConnections} lets idle
        connections close cleanly, and C{close} lets busy ones finish,
        before aborting them.  C{0} (the default, as Twisted's pool) aborts
        at once.
    @cvar remembered_server_timeouts: For how many keys the pool remembers
        the idle timeout a server showed (the idle time after which it
        closed a connection) once it has forgotten the key itself; the
        least recently learned go first.
    """

    protocol: ClassVar[type[HTTP11ClientProtocol]] = HTTP11ClientProtocol
    engine: ClassVar[EngineName] = "compiled"
    maxPersistentPerHost = 2
    cachedConnectionTimeout: float = 240
    retryAutomatically = True
    close_grace_period: float = 0.0
    remembered_server_timeouts: ClassVar[int] = 1024
    _log = Logger()

    def __init__(
        self,
        reactor: Any,
        persistent: bool = True,
        *,
        observer: ConnectionObserver | None = None,
        max_body_size: int | None = None,
        max_connections: int | None = None,
        max_connections_per_host: int | None = None,
        wait_timeout: float | None = None,
        idle_timeout: float | None = None,
        max_requests_per_connection: int | None = None,
        timeouts: Timeouts | None = POOL_TIMEOUTS,
    ) -> None:
        """
        @param reactor: The reactor used to connect and for timers, the
            connections' included.
        @param persistent: Whether connections are kept for further requests
            (Twisted's default pool for a bare L{Agent} is not persistent).
        @param observer: Called with a number and the L{TransitionRecord} of
            every transition of every connection this pool opens (numbered
            per connection) and of every key's L{HostPool} chart (numbered
            per key): a request queued, dequeued, a connection created,
            reused, expired, evicted.  L{httpchart.protocol.observe.log_transition}
            turns them into log events.  Without one, nothing is observed.
        @param max_connections: The most connections, over all keys, opening,
            busy, idle or being closed; C{None} for no limit.
        @param max_connections_per_host: The same limit, per key.
        @param wait_timeout: Seconds a request may wait in the queue before
            it fails with L{PoolWaitTimeout}; C{None} to wait for ever.
        @param idle_timeout: Seconds an idle connection is kept (shortened
            by the server's C{Keep-Alive: timeout}); by default
            C{cachedConnectionTimeout}.
        @param max_requests_per_connection: The most requests one connection
            carries before the pool closes it; C{None} for no limit (the
            server's C{Keep-Alive: max} still applies).
        @param max_body_size: The most bytes of body accepted in a response
            on any of this pool's connections (see
            L{HTTP11ClientProtocol.__init__}); C{None}, the default, for no
            limit.
        @param timeouts: The L{Timeouts} of every connection this pool
            opens (L{POOL_TIMEOUTS} unless given; C{None} for none but
            the default C{expect_continue}).
        """
        for name, limit in (
            ("max_connections", max_connections),
            ("max_connections_per_host", max_connections_per_host),
            ("max_requests_per_connection", max_requests_per_connection),
        ):
            if limit is not None and limit < 1:
                raise ValueError(f"{name} must be at least 1, not {limit}")
        self._reactor = reactor
        self.persistent = persistent
        self.observer = observer
        self.max_body_size = max_body_size
        self.timeouts = timeouts
        self.max_connections = max_connections
        self.max_connections_per_host = max_connections_per_host
        self.wait_timeout = wait_timeout
        self.idle_timeout = idle_timeout
        self.max_requests_per_connection = max_requests_per_connection
        self._connections: dict[Hashable, list[Any]] = {}
        self._timeouts: dict[Any, Any] = {}
        self._hosts: dict[Hashable, PooledHost] = {}
        self._departed = HostStats()
        self._server_idle: OrderedDict[Hashable, float] = OrderedDict()
        self._total = 0
        self._closed = False
        self._drained: list[Deferred[None]] = []

    # Twisted's interface

    def getConnection(self, key: Hashable, endpoint: Any) -> Deferred[Any]:
        """
        Supply a connection for one request: an idle one for C{key} (never
        one that is closing or closed), a new one from C{endpoint} if the
        limits allow, or the next one to become available.

        @return: A Deferred firing with the connection (a reused one wrapped
            for retries, as Twisted's pool does), or failing with the reason
            a new connection could not be opened, L{PoolWaitTimeout} or
            L{PoolClosed}.  Cancelling it while it waits removes it from the
            queue; while the connection is being opened, cancels that.
        """
        return self._request(key, endpoint, False).returned_deferred()

    def take_connection(self, key: Hashable, endpoint: Any) -> tuple[Any, Deferred[Any] | None]:
        """
        What L{getConnection} does, except that a connection the pool hands
        out at once (an idle one) is returned itself rather than in a fired
        Deferred: httpchart's L{Agent <httpchart.protocol.Agent>} takes its
        connections so, one Deferred fewer per request.

        @return: C{(connection, None)} when the request was answered at once
            with a connection; otherwise C{(None, deferred)}, with
            L{getConnection}'s Deferred.
        """
        waiter = self._request(key, endpoint, False)
        if waiter.done and not waiter.direct and not isinstance(waiter.outcome, Failure):
            waiter.returned = True
            return waiter.outcome, None
        return None, waiter.returned_deferred()

    def _newConnection(self, key: Hashable, endpoint: Any) -> Deferred[Any]:
        """
        Supply a new connection to C{endpoint} for C{key}, within the
        limits; if they leave no room, the next connection available.
        """
        return self._request(key, endpoint, True).returned_deferred()

    def _request(self, key: Hashable, endpoint: Any, fresh: bool) -> Waiter:
        """
        Send C{key}'s chart a request for a connection to C{endpoint} (a new
        one if C{fresh}), once the idle connections that would be handed out
        next and turn out stale are evicted, so that a request never gets a
        stale one.
        """
        host = self._hosts.get(key)
        if host is None:
            host = self._host(key)
        idle = self._connections.get(key)
        # Evicting is an event of its own: not while the chart is in a step
        # (the request would be queued behind the evictions).
        while idle and host._step_queue is None and host.stale(idle[0]):
            host._fire.evict(host, idle[0])
        waiter = Waiter(endpoint, host)
        if fresh:
            host._fire.request_new(host, waiter)
        else:
            host._fire.request(host, waiter)
        return waiter

    def _putConnection(self, key: Hashable, connection: Any) -> None:
        """
        Take back a connection that finished its response and is idle
        (Twisted's pool's quiescent callback; the connections this pool
        opens call their key's L{PooledHost.take_back} directly).  A
        connection the pool did not open joins it as busy first.
        """
        host = self._hosts.get(key)
        if host is None:
            host = self._host(key)
        if connection not in host.held and connection.state == "QUIESCENT":
            host._fire.adopt(host, connection)
        host.take_back(connection)

    def closeCachedConnections(self) -> Deferred[None]:
        """
        Close every idle connection and forget them.  With a
        C{close_grace_period}, each is closed cleanly and aborted if still
        open when the period ends; without, aborted at once.

        @return: Fires once all of them are gone; it always fires.
        """
        closing: list[Deferred[Any]] = []
        for key, host in list(self._hosts.items()):
            for connection in self._connections.get(key, ()):
                closing.append(self._lost_when(host, connection))
            host._fire.close_idle(host)
        self._connections = {}
        for timer in self._timeouts.values():
            if timer.active():
                timer.cancel()
        self._timeouts = {}
        return gatherResults(closing).addCallback(lambda ignored: None)

    # httpchart's additions

    def close(self) -> Deferred[None]:
        """
        Stop for good: refuse new requests with L{PoolClosed}, fail the
        waiting ones and those whose connection is being opened with
        L{PoolClosed}, close idle connections as C{closeCachedConnections}
        does, and let busy connections finish within C{close_grace_period}
        before aborting them (at once without one).

        @return: Fires once every connection of the pool is gone.
        """
        closing = self.closeCachedConnections()
        self._closed = True
        for host in list(self._hosts.values()):
            host._fire.close(host)
        drained: Deferred[None] = Deferred()
        self._drained.append(drained)
        self._check_drained()
        return gatherResults([closing, drained]).addCallback(lambda ignored: None)

    def stats(self) -> PoolStats:
        """
        How many connections are opening, busy, idle and closing, how many
        requests wait, and what the pool has done, per key and in total.
        """
        hosts = {key: host.stats() for key, host in self._hosts.items()}
        total = sum(hosts.values(), self._departed)
        return PoolStats(total, hosts)

    def build_connection(self, quiescentCallback: QuiescentCallback) -> HTTP11ClientProtocol:
        """
        Build one connection: every connection this pool opens is built
        here, so that whatever configures connections is given in one
        place.

        @param quiescentCallback: Takes the connection back when idle.
        """
        # Only the options in use are passed, so that a connection class
        # taking fewer keywords still works while they are not.
        options: dict[str, Any] = {}
        if self.timeouts is not None:
            options["timeouts"] = self.timeouts
            options["clock"] = self._reactor
        if self.max_body_size is not None:
            options["max_body_size"] = self.max_body_size
        if self.observer is not None:
            options["observer"] = partial(self.observer, next(_numbers))
        return self.protocol(quiescentCallback, **options)

    # Twisted's pool opens each connection with a factory made by calling
    # self._factory(quiescentCallback, metadata); Twisted's own tests replace
    # it on the instance.
    def _factory(self, quiescentCallback: QuiescentCallback, metadata: str) -> Any:
        return HTTP11ClientFactory(quiescentCallback, metadata, build=self.build_connection)

    # What the hosts ask of the pool

    def _host(self, key: Hashable) -> PooledHost:
        host = self._hosts[key] = PooledHost(self, key, next(_numbers), self.engine)
        host.server_idle = self._server_idle.pop(key, None)
        if self._closed:
            host._fire.close(host)
        return host

    def _handed(self, key: Hashable, endpoint: Any, connection: Any, use: Use) -> Any:
        """
        A reused connection as a request gets it: wrapped to retry once on
        another connection from C{endpoint}, unless retries are off.  The
        wrapper is kept in C{use} for the next request from the same
        endpoint (httpchart's agent keeps one endpoint per target).
        """
        if not self.retryAutomatically:
            return connection
        if use.handed_for is endpoint:
            return use.handed
        use.handed_for = endpoint
        use.handed = _RetryingConnection(connection, lambda: self._retry(key, endpoint))  # type: ignore[no-untyped-call]
        return use.handed

    def _retry(self, key: Hashable, endpoint: Any) -> Deferred[Any]:
        host = self._hosts.get(key)
        if host is None:
            host = self._host(key)
        host.counters["retried"] += 1
        host._event("retried")
        return self._newConnection(key, endpoint)

    def _forget_host(self, host: PooledHost) -> None:
        """
        Forget C{host}, which holds nothing any more; its counters go into
        the pool's totals, and what it learned of the server's idle timeout
        is remembered for the key's next host.
        """
        key = host.key
        if self._hosts.get(key) is host:
            del self._hosts[key]
            if not self._connections.get(key, True):
                del self._connections[key]
            self._departed = self._departed + host.stats()
            if host.server_idle is not None:
                self._server_idle[key] = host.server_idle
                if len(self._server_idle) > self.remembered_server_timeouts:
                    self._server_idle.popitem(last=False)

    def _dispatch(self) -> None:
        """
        Offer free slots to the keys whose requests wait, oldest request
        first, reserving each slot until the key takes it.
        """
        while True:
            chosen: PooledHost | None = None
            for host in self._hosts.values():
                waiting = host.queue
                if len(waiting) <= host.reserved:
                    continue
                per_host = self.max_connections_per_host
                if per_host is not None and host.size >= per_host:
                    continue
                if chosen is None or (
                    waiting[host.reserved].arrival < chosen.queue[chosen.reserved].arrival
                ):
                    chosen = host
            total = self.max_connections
            if chosen is None or (total is not None and self._total >= total):
                self._check_drained()
                return
            chosen.reserved += 1
            self._total += 1
            chosen._fire.slot_free(chosen)

    def _make_room(self, waiting: PooledHost) -> None:
        """
        If only the total limit keeps C{waiting}'s request in the queue, and
        the connections already closing will not free enough slots, close
        the connection idle longest of another key.
        """
        per_host = self.max_connections_per_host
        if self.max_connections is None or (per_host is not None and waiting.size >= per_host):
            return
        hosts = list(self._hosts.values())
        closing = sum(len(host.closing) for host in hosts)
        queued = sum(len(host.queue) - host.reserved for host in hosts)
        if closing >= queued:
            return
        oldest: tuple[float, PooledHost, Any] | None = None
        for host in hosts:
            idle = self._connections.get(host.key)
            if host is waiting or not idle:
                continue
            since = host.held[idle[0]].idle_since
            if oldest is None or since < oldest[0]:
                oldest = (since, host, idle[0])
        if oldest is not None:
            _, host, connection = oldest
            host._fire.displace(host, connection)

    def _lost_when(self, host: PooledHost, connection: Any) -> Deferred[None]:
        """
        A Deferred that fires once C{connection}, about to be closed by
        C{closeCachedConnections}, is gone.
        """
        gone: Deferred[None] = Deferred()
        host.closing.setdefault(connection, []).append(gone)
        return gone

    def _shut(self, connection: Any, waiting: list[Deferred[None]]) -> None:
        """
        Close an idle connection for C{closeCachedConnections} or C{close}:
        abort it at once, or close it cleanly and abort it if it is still
        open after the grace period.  C{waiting} fire once it is gone.
        """
        if self.close_grace_period <= 0:
            _abort_if_open(connection, waiting)
            return
        connection.transport.loseConnection()
        self._reactor.callLater(self.close_grace_period, _abort_if_open, connection, waiting)

    def _abort(self, connection: Any) -> None:
        """
        Abort a busy connection the pool has stopped waiting for.
        """
        _abort_if_open(connection)

    def _check_drained(self) -> None:
        if self._closed and self._total == 0 and self._drained:
            drained, self._drained = self._drained, []
            for deferred in drained:
                deferred.callback(None)


def _abort_if_open(connection: Any, waiting: list[Deferred[None]] | None = None) -> None:
    """
    Abort C{connection} unless it is already gone; C{waiting} fire once it
    is (a connection that does not report its loss to the pool still fires
    them, through its C{abort()} Deferred).
    """
    transport = getattr(connection, "transport", None)
    if getattr(connection, "state", None) == "CONNECTION_LOST" or transport is None:
        return
    abort = getattr(connection, "abort", None)
    if abort is None:
        transport.abortConnection()
        return
    aborted: Deferred[None] = abort()
    if waiting is not None:
        aborted.addBoth(lambda ignored: _fire_all(waiting))


def _fire_all(waiting: list[Deferred[None]]) -> None:
    for deferred in waiting:
        if not deferred.called:
            deferred.callback(None)
