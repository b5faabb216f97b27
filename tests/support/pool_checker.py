"""
The exhaustive checker of the pool: every sequence of the pool's inputs, up
to a depth, applied to a real L{HTTPConnectionPool} with real httpchart
connections over in-memory transports and a fake clock, with the pool's
invariants checked after every input and once more after the sequence is
drained (the pool closed, every attempt settled, every connection gone).

The pool has two keys, C{a} and C{b}, at most three connections in all, two
per key, one idle connection kept per key, two requests per connection, a
wait timeout of 5 seconds and an idle timeout of 10.  The inputs are what
the world can do to it: a request for either key, a retry's request for a
new connection to C{b}, a connection attempt
succeeding or failing, a response completing (keeping the connection, or
with C{Keep-Alive: max=0}), the server closing an idle connection (reported,
or only pending on the socket), a busy connection lost, the connections the
pool closed going away, time passing, a waiting request cancelled,
C{closeCachedConnections()} and C{close()}.

Invariants (L{World.check}):

  - never more connections (opening or open, as the server would count
    them) than the limits, per key and in all, among those the pool opened
    (a connection handed to it from outside counts against the limits, but
    the world may hand it one past them);
  - each key's queue is first in first out: a request gets a connection
    only when no earlier request of its key still waits, and the queue is
    in order of arrival;
  - every request's Deferred fires exactly once, at the latest when the
    pool is closed and the world has settled;
  - no idle connection is closing or closed, and none is handed out;
  - every idle connection has a delayed call armed for no later than the
    end of its idle time (the one it keeps from an earlier idle period, or
    a new one), and once the pool is closed and the world settled, the
    clock holds no delayed call;
  - C{stats()} equals what the pool holds, counted from the world's side;
  - nothing waits while a slot is free, and no slot stays reserved;
  - each key's chart state says what it holds.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone, ConnectionRefusedError
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import globalLogPublisher
from twisted.python.failure import Failure
from twisted.web._newclient import Request
from twisted.web.http_headers import Headers

from httpchart.protocol import HTTP11ClientProtocol, HTTPConnectionPool
from httpchart.statechart import ChartSpec, HostPool, TransitionRecord

KEYS = ("a", "b")
MAX_CONNECTIONS = 3
MAX_PER_HOST = 2
WAIT_TIMEOUT = 5.0
IDLE_TIMEOUT = 10.0
GRACE = 1.0
_POOL_STATES = frozenset(ChartSpec.of(HostPool).states)
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
LAST = b"HTTP/1.1 200 OK\r\nKeep-Alive: timeout=30, max=0\r\nContent-Length: 2\r\n\r\nok"


class ReferencePool(HTTPConnectionPool):
    """
    The pool with its keys on python-statemachine's engine.
    """

    engine = "reference"


class SocketTransport(StringTransport):
    """
    An in-memory transport whose handle is one end of a real socket pair,
    so that the pool can look for a close pending on it: closing the other
    end is the server's close, not yet reported.
    """

    def __init__(self) -> None:
        super().__init__()
        self.handle, self.peer = socket.socketpair()

    def getHandle(self) -> socket.socket:
        return self.handle

    def close_sockets(self) -> None:
        self.handle.close()
        self.peer.close()


@dataclass
class Asked:
    """
    One request for a connection, as the world sees it.
    """

    key: str
    arrival: int
    deferred: Deferred[Any]
    retry: bool
    outcomes: list[object] = field(default_factory=list)
    issued: bool = False


@dataclass
class Attempt:
    """
    One connection attempt the pool made.
    """

    key: str
    factory: Any
    deferred: Deferred[Any]


class World:
    """
    One pool and everything around it, driven by L{INPUTS}.
    """

    def __init__(self, pool_class: type[HTTPConnectionPool] = HTTPConnectionPool) -> None:
        self.clock = Clock()
        self.records: list[tuple[int, TransitionRecord]] = []
        world = self

        class Checked(pool_class):  # type: ignore[valid-type,misc]
            def getConnection(self, key: Any, endpoint: Any) -> Deferred[Any]:
                return world.asked(key, super().getConnection(key, endpoint), retry=False)

            def _newConnection(self, key: Any, endpoint: Any) -> Deferred[Any]:
                return world.asked(key, super()._newConnection(key, endpoint), retry=True)

        self.pool = Checked(
            self.clock,
            observer=lambda number, record: self.records.append((number, record)),
            max_connections=MAX_CONNECTIONS,
            max_connections_per_host=MAX_PER_HOST,
            wait_timeout=WAIT_TIMEOUT,
            idle_timeout=IDLE_TIMEOUT,
            max_requests_per_connection=2,
        )
        self.pool.maxPersistentPerHost = 1
        self.pool.close_grace_period = GRACE
        self.endpoints = {key: _Endpoint(self, key) for key in KEYS}
        self.attempts: list[Attempt] = []
        self.asks: list[Asked] = []
        self.connections: dict[HTTP11ClientProtocol, str] = {}
        self.in_use: set[HTTP11ClientProtocol] = set()
        self.stale: set[HTTP11ClientProtocol] = set()
        self.adopted: set[HTTP11ClientProtocol] = set()
        self.responses: list[Deferred[Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.violations: list[str] = []
        self.closed: Deferred[None] | None = None
        globalLogPublisher.addObserver(self._logged)

    def _logged(self, event: dict[str, Any]) -> None:
        if event.get("isError") or event.get("log_failure") is not None:
            self.errors.append(event)

    def finish(self) -> None:
        globalLogPublisher.removeObserver(self._logged)
        for connection in self.connections:
            transport = connection.transport
            if isinstance(transport, SocketTransport):
                transport.close_sockets()

    # What the world sees of the pool

    def asked(self, key: str, deferred: Deferred[Any], retry: bool) -> Deferred[Any]:
        asked = Asked(key, len(self.asks), deferred, retry)
        self.asks.append(asked)
        deferred.addBoth(self._answered, asked)
        return deferred

    def _answered(self, outcome: object, asked: Asked) -> object:
        asked.outcomes.append(outcome)
        if isinstance(outcome, Failure):
            return None
        connection = getattr(outcome, "_clientProtocol", outcome)
        if connection.state != "QUIESCENT" or connection.transport.disconnecting:
            self.violations.append(f"handed out a connection in {connection.state}, or closing")
        if connection in self.stale:
            self.violations.append("handed out a connection whose close was pending")
        for earlier in self.asks[: asked.arrival]:
            if earlier.key == asked.key and self._queued(earlier):
                self.violations.append(f"request {asked.arrival} overtook {earlier.arrival}")
        self.in_use.add(connection)
        return outcome

    def _queued(self, asked: Asked) -> bool:
        host = self.pool._hosts.get(asked.key)
        return host is not None and any(w.deferred is asked.deferred for w in host.queue)

    def issue(self, asked: Asked) -> None:
        """
        Send a GET on the connection C{asked} got, as an agent would.
        """
        outcome = asked.outcomes[0]
        request = Request(b"GET", b"/", Headers({b"host": [b"x"]}), None, persistent=True)
        response = outcome.request(request)
        response.addErrback(lambda reason: None)
        self.responses.append(response)

    def live(self) -> list[HTTP11ClientProtocol]:
        return [c for c in self.connections if c.state != "CONNECTION_LOST"]

    def pending(self) -> list[Attempt]:
        return [a for a in self.attempts if not a.deferred.called]

    # Invariants

    def check(self) -> list[str]:
        found = list(self.violations)
        live = self.live()
        pending = self.pending()
        per_key = {key: sum(1 for a in pending if a.key == key) for key in KEYS}
        for connection in live:
            if connection not in self.adopted:
                per_key[self.connections[connection]] += 1
        if sum(per_key.values()) > MAX_CONNECTIONS:
            found.append(f"{sum(per_key.values())} connections, more than {MAX_CONNECTIONS}")
        found += [f"{n} connections to {k}" for k, n in per_key.items() if n > MAX_PER_HOST]
        for key, idle in self.pool._connections.items():
            for connection in idle:
                if connection.state != "QUIESCENT" or connection.transport.disconnecting:
                    found.append(f"idle connection of {key} is {connection.state} or closing")
                use = self.pool._hosts[key].held[connection]
                timer = self.pool._timeouts.get(connection)
                if timer is None or not timer.active() or timer.getTime() > use.idle_until:
                    found.append(f"idle connection of {key} has no timer armed for its idle time")
        closing = [c for c in live if c.transport.disconnecting]
        busy = [c for c in live if not c.transport.disconnecting and c in self.in_use]
        idle = [c for c in live if not c.transport.disconnecting and c not in self.in_use]
        unanswered = [a for a in self.asks if not a.outcomes]
        stats = self.pool.stats().total
        seen = (len(pending), len(busy), len(idle), len(closing), len(unanswered) - len(pending))
        held = (stats.connecting, stats.busy, stats.idle, stats.closing, stats.queued)
        if seen != held:
            found.append(f"stats() says {held}, the world sees {seen}")
        if any(len(a.outcomes) > 1 for a in self.asks):
            found.append("a Deferred fired twice")
        for key, host in self.pool._hosts.items():
            found += self._check_host(key, host)
        found += [f"logged error: {event.get('log_format')}" for event in self.errors]
        return found

    def _check_host(self, key: Any, host: Any) -> list[str]:
        found = []
        arrivals = [w.arrival for w in host.queue]
        if arrivals != sorted(arrivals):
            found.append(f"the queue of {key} is out of order")
        if host.reserved:
            found.append(f"{key} keeps a reserved slot")
        held = bool(host.connecting or host.held)
        expected = (
            "CLOSED"
            if self.pool._closed
            else "QUEUING"
            if host.queue
            else "ACTIVE"
            if held
            else "EMPTY"
        )
        if host._state != expected:
            found.append(f"{key} is {host._state}, holding {held} and {len(host.queue)} waiting")
        if host.queue and (self.pool._connections.get(key) or self._slot_free(host)):
            found.append(f"a request of {key} waits while a connection or a slot is free")
        return found

    def _slot_free(self, host: Any) -> bool:
        """
        Whether the limits, counted here from what the pool holds, leave
        C{host} room for one more connection.
        """
        pool = self.pool
        size = len(host.connecting) + len(host.held) + host.reserved
        total = sum(len(h.connecting) + len(h.held) + h.reserved for h in pool._hosts.values())
        per_host, most = pool.max_connections_per_host, pool.max_connections
        return (per_host is None or size < per_host) and (most is None or total < most)

    # Draining

    def drain(self) -> list[str]:
        """
        Close the pool and let everything settle; what is still wrong then.
        """
        self.closed = self.pool.close()
        for _ in range(10):
            for attempt in self.pending():
                attempt.deferred.errback(Failure(ConnectionRefusedError()))
            for connection in self.live():
                connection.connectionLost(Failure(ConnectionDone()))
            self.clock.advance(60)
            if not self.pending() and not self.live():
                break
        found = self.check()
        if any(not a.outcomes for a in self.asks):
            found.append("a request's Deferred never fired")
        if not self.closed.called:
            found.append("close() never fired")
        if self.clock.getDelayedCalls():
            found.append(f"{len(self.clock.getDelayedCalls())} delayed calls outlive the pool")
        return found


class _Endpoint:
    def __init__(self, world: World, key: str) -> None:
        self.world = world
        self.key = key

    def connect(self, factory: Any) -> Deferred[Any]:
        deferred: Deferred[Any] = Deferred()
        self.world.attempts.append(Attempt(self.key, factory, deferred))
        return deferred


# Inputs: each returns False when it does not apply.


def _request(key: str) -> Callable[[World], bool]:
    def request(world: World) -> bool:
        _settle_then_issue(world, lambda: world.pool.getConnection(key, world.endpoints[key]))
        return True

    request.__name__ = f"request_{key}"
    return request


def retry_b(world: World) -> bool:
    """
    Ask for a new connection to C{b}, as a reused connection's retry does
    (Twisted's C{_newConnection}); the world then sends the request on it.
    """

    def act() -> None:
        pool = world.pool
        asked = HTTPConnectionPool._newConnection(pool, "b", world.endpoints["b"])
        world.asked("b", asked, retry=False)

    _settle_then_issue(world, act)
    return True


def _settle_then_issue(world: World, act: Callable[[], object]) -> None:
    """
    Do C{act}, then send a request on every connection newly handed out
    (a retry's connection gets its request from the pool's retry itself).
    """
    act()
    for asked in world.asks:
        if asked.issued or not asked.outcomes or isinstance(asked.outcomes[0], Failure):
            continue
        asked.issued = True
        if not asked.retry:
            world.issue(asked)


def connect_ok(world: World) -> bool:
    pending = world.pending()
    if not pending:
        return False
    attempt = pending[0]

    def act() -> None:
        connection = attempt.factory.buildProtocol(None)
        world.connections[connection] = attempt.key
        connection.makeConnection(SocketTransport())
        attempt.deferred.callback(connection)

    _settle_then_issue(world, act)
    return True


def connect_fail(world: World) -> bool:
    pending = world.pending()
    if not pending:
        return False
    _settle_then_issue(
        world, lambda: pending[0].deferred.errback(Failure(ConnectionRefusedError()))
    )
    return True


def _respond(data: bytes) -> Callable[[World], bool]:
    def respond(world: World) -> bool:
        busy = [c for c in world.live() if c in world.in_use and c.state == "WAITING"]
        if not busy:
            return False
        connection = busy[0]

        def act() -> None:
            world.in_use.discard(connection)
            connection.dataReceived(data)

        _settle_then_issue(world, act)
        return True

    return respond


respond = _respond(OK)
respond_last = _respond(LAST)


def lose_idle(world: World) -> bool:
    idle = [c for conns in world.pool._connections.values() for c in conns]
    if not idle:
        return False
    _settle_then_issue(world, lambda: idle[0].connectionLost(Failure(ConnectionDone())))
    return True


def close_pending(world: World) -> bool:
    idle = [c for conns in world.pool._connections.values() for c in conns if c not in world.stale]
    if not idle:
        return False
    world.stale.add(idle[0])
    idle[0].transport.peer.close()
    return True


def lose_busy(world: World) -> bool:
    busy = [c for c in world.live() if c in world.in_use]
    if not busy:
        return False

    def act() -> None:
        world.in_use.discard(busy[0])
        busy[0].connectionLost(Failure(ConnectionDone()))

    _settle_then_issue(world, act)
    return True


def closed_go(world: World) -> bool:
    closing = [c for c in world.live() if c.transport.disconnecting]
    if not closing:
        return False

    def act() -> None:
        for connection in closing:
            world.in_use.discard(connection)
            connection.connectionLost(Failure(ConnectionDone()))

    _settle_then_issue(world, act)
    return True


def time_passes(world: World) -> bool:
    _settle_then_issue(world, lambda: world.clock.advance(WAIT_TIMEOUT + 1))
    return True


def cancel_first(world: World) -> bool:
    waiting = [a for a in world.asks if not a.outcomes]
    if not waiting:
        return False
    _settle_then_issue(world, waiting[0].deferred.cancel)
    return True


def cancel_last(world: World) -> bool:
    waiting = [a for a in world.asks if not a.outcomes]
    if len(waiting) < 2:
        return False
    _settle_then_issue(world, waiting[-1].deferred.cancel)
    return True


def adopt(world: World) -> bool:
    """
    Hand the pool an idle connection it did not open (Twisted's
    _putConnection), as Twisted's own tests do; it comes back the same way.
    """
    connection = HTTP11ClientProtocol(lambda idle: world.pool._putConnection("a", idle))
    world.connections[connection] = "a"
    world.adopted.add(connection)
    connection.makeConnection(SocketTransport())
    _settle_then_issue(world, lambda: world.pool._putConnection("a", connection))
    return True


def close_idle(world: World) -> bool:
    _settle_then_issue(world, lambda: world.pool.closeCachedConnections())
    return True


def close(world: World) -> bool:
    if world.closed is not None:
        return False

    def act() -> None:
        world.closed = world.pool.close()

    _settle_then_issue(world, act)
    return True


INPUTS: tuple[Callable[[World], bool], ...] = (
    _request("a"),
    _request("b"),
    retry_b,
    connect_ok,
    connect_fail,
    respond,
    respond_last,
    lose_idle,
    close_pending,
    lose_busy,
    closed_go,
    time_passes,
    cancel_first,
    cancel_last,
    adopt,
    close_idle,
    close,
)


@dataclass
class Coverage:
    """
    What an exhaustive run saw.
    """

    sequences: int = 0
    steps: int = 0
    records: set[TransitionRecord] = field(default_factory=set)
    failures: list[tuple[tuple[str, ...], list[str]]] = field(default_factory=list)


def explore(
    pool_class: type[HTTPConnectionPool],
    depth: int,
    twin: type[HTTPConnectionPool] | None = None,
) -> Coverage:
    """
    Every sequence of up to C{depth} inputs, each checked after every input
    (every prefix is a sequence of its own) and after being drained.  With
    a C{twin}, each sequence also runs on it, and both must take the same
    transitions of the pool's chart.
    """
    coverage = Coverage()

    def walk(prefix: tuple[Callable[[World], bool], ...]) -> None:
        for applied in INPUTS:
            sequence = (*prefix, applied)
            found, records = _run(pool_class, sequence)
            if found is None:
                continue
            coverage.sequences += 1
            coverage.steps += len(sequence)
            coverage.records |= set(records)
            if twin is not None and _run(twin, sequence)[1] != records:
                found.append(f"{twin.__name__} took other transitions")
            if found:
                names = tuple(step.__name__ for step in sequence)
                coverage.failures.append((names, found))
            elif len(sequence) < depth:
                walk(sequence)

    walk(())
    return coverage


def _run(
    pool_class: type[HTTPConnectionPool], sequence: tuple[Callable[[World], bool], ...]
) -> tuple[list[str] | None, list[TransitionRecord]]:
    """
    Apply C{sequence} to a new world, then drain it: what went wrong
    (C{None} if an input does not apply), and the pool's transitions.
    """
    world = World(pool_class)
    try:
        for step in sequence:
            if not step(world):
                return None, []
        found = world.check() or world.drain()
        return found, [r for _, r in world.records if r.source in _POOL_STATES]
    finally:
        world.finish()
