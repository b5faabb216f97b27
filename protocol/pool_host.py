"""
L{PooledHost}: one key's share of an L{HTTPConnectionPool}, a model of the
declared L{HostPool} chart.

The host keeps what the chart's guards ask about (its connections, opening,
busy, idle or closing, and its queue of waiting requests) and implements the
chart's effects.  The pool turns what happens (a request, a connection
opening or lost, a timer) into the host's events; the host never decides a
transition itself.
"""

from __future__ import annotations

import select
import socket
from collections import deque
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, fields
from itertools import count
from typing import TYPE_CHECKING, Any, ClassVar

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import TimeoutError as TwistedTimeoutError
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web._newclient import RequestNotSent

from httpchart.statechart import Charted, ChartSpec, ReferenceEngine
from httpchart.statechart.pool import HostPool

from .client import EngineName
from .events import HostEvents

if TYPE_CHECKING:
    from .pool import HTTPConnectionPool

POOL_EVENTS = "httpchart.protocol.pool"
"""
The L{twisted.logger} namespace of the pool's events (queued, dequeued,
created, expired, evicted, displaced, retired, retried, timed out, closed).
"""

_log = Logger(namespace=POOL_EVENTS)
_arrivals = count(1)


class PoolWaitTimeout(TwistedTimeoutError):
    """
    A request waited longer than the pool's C{wait_timeout} for a
    connection: the pool's limits were reached and none became free in time.
    Nothing was sent.
    """


class PoolClosed(RequestNotSent):
    """
    The pool was closed (L{HTTPConnectionPool.close}) before it could give
    the request a connection, so the request was not sent.
    """


@dataclass(frozen=True)
class HostStats:
    """
    What a pool holds and has done, for one key or for all of them.

    @ivar connecting: Connections being opened.
    @ivar busy: Connections handed to a request and not back yet.
    @ivar idle: Connections kept for the next request.
    @ivar closing: Connections the pool is closing, still counted against
        the limits until they are gone.
    @ivar queued: Requests waiting for a connection.
    @ivar created: Connections opened.
    @ivar reused: Times an idle connection was handed to a request.
    @ivar expired: Idle connections closed by their idle timer (the pool's
        C{idle_timeout}, or the server's C{Keep-Alive: timeout}).
    @ivar evicted: Idle connections found stale: lost while idle, or found
        closing or closed when a request looked for one.
    @ivar displaced: Idle connections closed to make room (for another key,
        or beyond C{maxPersistentPerHost}).
    @ivar retired: Connections closed after their last allowed request
        (C{max_requests_per_connection} or the server's C{Keep-Alive: max}).
    @ivar retried: Requests retried on another connection.
    @ivar timed_out: Waiting requests failed with L{PoolWaitTimeout}.
    @ivar cancelled: Waiting requests cancelled by their caller.
    @ivar failed: Connections that could not be opened.
    """

    connecting: int = 0
    busy: int = 0
    idle: int = 0
    closing: int = 0
    queued: int = 0
    created: int = 0
    reused: int = 0
    expired: int = 0
    evicted: int = 0
    displaced: int = 0
    retired: int = 0
    retried: int = 0
    timed_out: int = 0
    cancelled: int = 0
    failed: int = 0

    def __add__(self, other: HostStats) -> HostStats:
        return HostStats(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(HostStats))
        )


_NOT_LOOKED: Any = object()

# An idle connection whose time runs out within this many seconds of its
# timer's call has run out: clocks round.
_SLACK = 1e-6

COUNTERS = tuple(f.name for f in fields(HostStats))[5:]
"""
The names of the figures of L{HostStats} that count what happened.
"""


@dataclass(slots=True)
class Use:
    """
    What the pool knows of one connection it holds.

    @ivar requests: Requests handed to it so far.
    @ivar cap: The most requests it may carry, from
        C{max_requests_per_connection} and the server's C{Keep-Alive: max};
        C{None} for no cap.
    @ivar idle_for: The server's C{Keep-Alive: timeout}, once known.
    @ivar idle_since: When it last became idle, on the pool's clock.
    @ivar idle_until: When its idle time runs out, once it is idle.
    @ivar timer: The delayed call that looks at it next (see
        L{PooledHost._keep_idle}), or C{None}.
    @ivar timer_at: When C{timer} is due.
    @ivar handed: What a request that reuses it is given (L{HTTPConnectionPool._handed}),
        kept for the next request from the same endpoint.
    @ivar handed_for: The endpoint C{handed} retries on (nothing is, at
        first: not even C{None}, which Twisted's tests pass).
    @ivar readable: Polls its socket for the server's close while it is
        idle: built the first time it is looked at (L{socket_poller}), and
        C{None} when its transport has no socket.
    """

    requests: int = 1
    cap: int | None = None
    idle_for: float | None = None
    idle_since: float = 0.0
    idle_until: float = 0.0
    timer: Any = None
    timer_at: float = 0.0
    handed: Any = None
    handed_for: Any = _NOT_LOOKED
    readable: Any = _NOT_LOOKED


class Waiter:
    """
    A request for a connection: its Deferred, where a new connection would
    go, and where it stands.

    A request that gets a new connection at once is given the endpoint's own
    Deferred, as Twisted's pool gives it, so that cancelling it cancels the
    connection attempt and its outcome is the attempt's (I{direct}).  One
    that waited first keeps its own Deferred, fired from the attempt's.

    @ivar arrival: Its place in the pool-wide order of arrival, numbered
        when it joins a queue (it joins one in the step of its arrival); 0
        until then.
    @ivar done: Its outcome has been decided; C{outcome} holds it.
    @ivar returned: Its Deferred has been returned to the caller; until
        then it has none, unless the pool has answered.
    @ivar direct: Its Deferred is the connection attempt's; C{inner}, if
        set, is the Deferred that attempt's callback is waiting on.
    """

    __slots__ = (
        "arrival",
        "deferred",
        "direct",
        "done",
        "endpoint",
        "host",
        "inner",
        "outcome",
        "queued",
        "returned",
        "timer",
    )

    def __init__(self, endpoint: Any, host: PooledHost) -> None:
        self.endpoint = endpoint
        self.arrival = 0
        self.done = False
        self.queued = False
        self.returned = False
        self.direct = False
        self.inner: Deferred[Any] | None = None
        self.outcome: object = None
        self.timer: Any = None
        self.host = host
        self.deferred: Deferred[Any] | None = None

    def returned_deferred(self) -> Deferred[Any]:
        """
        The Deferred to return to the caller: already fired if the pool
        answered at once, else one whose cancellation withdraws the request.
        """
        self.returned = True
        deferred = self.deferred
        if deferred is None:
            if not self.done:
                deferred = Deferred(lambda d: self.host.cancel_waiter(self))
            elif isinstance(self.outcome, Failure):
                deferred = fail(self.outcome)
            else:
                deferred = succeed(self.outcome)
            self.deferred = deferred
        return deferred


def keep_alive(values: Sequence[bytes]) -> tuple[float | None, int | None]:
    """
    The C{timeout} and C{max} parameters of a response's C{Keep-Alive}
    header field C{values} (RFC 2068 19.7.1.1), each C{None} when absent or
    malformed.
    """
    timeout: float | None = None
    most: int | None = None
    for value in values:
        for part in value.split(b","):
            name, _, number = part.partition(b"=")
            name = name.strip().lower()
            try:
                parsed = int(number.strip())
            except ValueError:
                continue
            if parsed < 0:
                continue
            if name == b"timeout":
                timeout = float(parsed)
            elif name == b"max":
                most = parsed
    return timeout, most


def server_idle_time(timeout: float) -> float:
    """
    How long to keep a connection idle when the server keeps it for
    C{timeout} seconds (it said so in C{Keep-Alive}, or it closed the last
    idle connection after that long): a second less, or a quarter less for
    short timeouts, so that the client lets go before the server does and
    never sends a request into a connection the server is closing.
    """
    return timeout - min(1.0, timeout / 4)


def socket_poller(transport: Any) -> Any:
    """
    A poll object watching the socket under C{transport} (bare TCP, or TLS
    over TCP) for readability, or C{None} when there is no such socket.

    An idle connection's socket is readable only when it holds the server's
    close (or bytes nobody asked for) that the reactor has not reported yet.
    Polling, unlike a peeking C{recv}, leaves the socket's receive queue
    alone, so that it costs no acknowledgement; built once per connection,
    the poll object costs one system call per look.
    """
    for _ in range(2):
        get_handle = getattr(transport, "getHandle", None)
        handle = get_handle() if get_handle is not None else None
        if isinstance(handle, socket.socket):
            readable = select.poll()
            readable.register(handle, select.POLLIN)
            return readable
        transport = getattr(transport, "transport", None)
    return None


class PooledHost(Charted):
    """
    The connections and waiting requests of one key of a pool.

    @ivar held: Every connection the key holds (busy, idle or closing), with
        what the pool knows of it.
    @ivar connecting: The waiters whose connection is being opened, with the
        endpoint's Deferred.
    @ivar busy: The connections handed to a request.
    @ivar closing: The connections the pool is closing, each with the
        Deferreds to fire once it is gone.
    @ivar queue: The waiting requests, first in first out.
    @ivar reserved: Free slots the pool reserved for this key's first
        waiter, not taken yet.
    @ivar server_idle: The shortest time a connection had been idle when
        the server closed it: the server's idle timeout, as far as the pool
        can tell without a C{Keep-Alive} header.  Idle connections are let
        go before it (L{server_idle_time}).
    """

    chart: ClassVar[type[HostPool]] = HostPool
    _fire: HostEvents
    _state: str = "EMPTY"

    def __init__(
        self, pool: HTTPConnectionPool, key: Hashable, number: int, engine: EngineName
    ) -> None:
        self.pool = pool
        self.key = key
        self.held: dict[Any, Use] = {}
        self.connecting: dict[Waiter, Deferred[Any] | None] = {}
        self.busy: set[Any] = set()
        self.closing: dict[Any, list[Deferred[None]]] = {}
        self.queue: deque[Waiter] = deque()
        self.reserved = 0
        self.server_idle: float | None = None
        self.counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)
        self._settlements: list[tuple[Waiter | Deferred[Any], object]] = []
        if engine == "reference":
            self._fire = ReferenceEngine(ChartSpec.of(self.chart), self).fire
        if pool.observer is not None:
            observer = pool.observer
            self._observer = lambda record: observer(number, record)

    # What the pool reads

    @property
    def idle(self) -> list[Any]:
        """
        The idle connections, idle longest first (Twisted's
        C{_connections[key]}).
        """
        return self.pool._connections.get(self.key) or []

    @property
    def size(self) -> int:
        """
        The slots this key uses: connections opening or held, and reserved.
        """
        return len(self.connecting) + len(self.held) + self.reserved

    def stats(self) -> HostStats:
        idle = len(self.idle)
        return HostStats(
            connecting=len(self.connecting),
            busy=len(self.busy),
            idle=idle,
            closing=len(self.closing),
            queued=len(self.queue),
            **self.counters,
        )

    def stale(self, connection: Any) -> bool:
        """
        Whether the idle C{connection} must not be handed out: it is no
        longer quiescent, its transport is closing or gone, or the server's
        close is already waiting on its socket.
        """
        if connection.state != "QUIESCENT":
            return True
        transport = connection.transport
        if transport is None or getattr(transport, "disconnecting", False):
            return True
        use = self.held.get(connection)
        if use is None:
            readable = socket_poller(transport)
        else:
            readable = use.readable
            if readable is _NOT_LOOKED:
                readable = use.readable = socket_poller(transport)
        return readable is not None and bool(readable.poll(0))

    def lost(self, connection: Any) -> None:
        """
        A connection of this key is gone: the event says what it was doing.
        """
        if connection in self.closing:
            self._fire.lost_closing(self, connection)
        elif connection in self.busy:
            self._fire.lost_busy(self, connection)
        elif connection in self.held:
            self._fire.lost_idle(self, connection)

    def cancel_waiter(self, waiter: Waiter) -> None:
        """
        The caller cancelled C{waiter}'s Deferred: leave the queue, or stop
        opening its connection.
        """
        if waiter.queued:
            self._fire.cancel(self, waiter)
        else:
            opening = self.connecting.get(waiter)
            if opening is not None:
                opening.cancel()

    def take_back(self, connection: Any) -> None:
        """
        Take back C{connection}, which this key holds and has finished its
        response: the quiescent callback of the connections the key opens
        (L{HTTPConnectionPool._putConnection} for any other).  What the
        response's C{Keep-Alive} header says of the server's idle timeout
        and request cap is noted first, for the chart's guards.
        """
        if connection.state != "QUIESCENT":
            try:
                raise RuntimeError("BUG: Non-quiescent protocol added to connection pool.")
            except BaseException:
                self.pool._log.failure("BUG: Non-quiescent protocol added to connection pool.")
            return
        values = getattr(connection, "keep_alive_values", None)
        found = values() if values is not None else None
        if found:
            use = self.held[connection]
            timeout, most = keep_alive(found)
            if timeout is not None:
                use.idle_for = server_idle_time(timeout)
            if most is not None:
                allowed = use.requests + most
                use.cap = allowed if use.cap is None else min(use.cap, allowed)
        self._fire.release(self, connection)

    # Guards

    def _idle(self) -> bool:
        return bool(self.pool._connections.get(self.key))

    def _room(self) -> bool:
        pool = self.pool
        per_host, total = pool.max_connections_per_host, pool.max_connections
        return (per_host is None or self.size < per_host) and (total is None or pool._total < total)

    def _last(self) -> bool:
        return len(self.connecting) + len(self.held) == 1

    def _single(self) -> bool:
        return len(self.queue) == 1

    def _holding(self) -> bool:
        return bool(self.connecting or self.held)

    def _spent(self, connection: Any) -> bool:
        use = self.held[connection]
        if use.cap is not None and use.requests >= use.cap:
            return True
        return bool(getattr(connection.transport, "disconnecting", False))

    def _idle_full(self) -> bool:
        pool = self.pool
        return len(pool._connections.get(self.key, ())) >= pool.maxPersistentPerHost

    # Effects: requests

    def _open_connection(self, waiter: Waiter) -> None:
        self._open(waiter)

    def _open_for_waiter(self) -> None:
        self.reserved -= 1
        self.pool._total -= 1
        waiter = self._dequeue()
        self._event("dequeued", waiter=waiter.arrival)
        self._open(waiter)

    def _open(self, waiter: Waiter) -> None:
        self.connecting[waiter] = None
        self.pool._total += 1
        factory = self.pool._factory(self.take_back, repr(waiter.endpoint))
        try:
            opening: Deferred[Any] = waiter.endpoint.connect(factory)
        except Exception:
            opening = fail()
        if waiter in self.connecting:
            self.connecting[waiter] = opening
        if waiter.returned:
            opening.addCallbacks(
                lambda connection: self._fire.connected(self, waiter, connection),
                lambda reason: self._fire.connect_failed(self, waiter, reason),
            )
            return
        waiter.direct = True
        waiter.deferred = opening
        opening.addCallbacks(
            self._opened, self._not_opened, callbackArgs=(waiter,), errbackArgs=(waiter,)
        )

    def _opened(self, connection: Any, waiter: Waiter) -> object:
        """
        The attempt of a direct waiter succeeded: its Deferred's result is
        what the chart decides (the connection, or a failure).
        """
        self._fire.connected(self, waiter, connection)
        if waiter.done:
            return waiter.outcome
        inner = waiter.inner = Deferred()
        return inner

    def _not_opened(self, reason: Failure, waiter: Waiter) -> object:
        """
        The attempt of a direct waiter failed: its Deferred keeps the
        reason, unless the pool failed it first (close()).
        """
        self._fire.connect_failed(self, waiter, reason)
        if isinstance(waiter.outcome, Failure):
            return waiter.outcome
        return reason

    def _hand_idle(self, waiter: Waiter) -> None:
        pool = self.pool
        connection = pool._connections[self.key].pop(0)
        # Its timer stays armed: see _keep_idle.
        pool._timeouts.pop(connection, None)
        self.busy.add(connection)
        use = self.held[connection]
        use.requests += 1
        self.counters["reused"] += 1
        # A request gets an idle connection in the step of its arrival,
        # before its Deferred exists: deciding its outcome is settling it.
        waiter.done = True
        waiter.outcome = pool._handed(self.key, waiter.endpoint, connection, use)

    def _hand_released(self, connection: Any) -> None:
        waiter = self._dequeue()
        self._event("dequeued", waiter=waiter.arrival)
        use = self.held[connection]
        use.requests += 1
        self.counters["reused"] += 1
        self._settle(waiter, self.pool._handed(self.key, waiter.endpoint, connection, use))

    def _enqueue(self, waiter: Waiter) -> None:
        self.queue.append(waiter)
        waiter.queued = True
        waiter.arrival = next(_arrivals)
        wait = self.pool.wait_timeout
        if wait is not None:
            waiter.timer = self.pool._reactor.callLater(
                wait, lambda: self._fire.wait_expired(self, waiter)
            )
        self._event("queued", waiter=waiter.arrival, waiting=len(self.queue))

    def _make_room(self) -> None:
        self.pool._make_room(self)

    def _refuse(self, waiter: Waiter) -> None:
        self._settle(waiter, Failure(PoolClosed()))

    def _fail_wait(self, waiter: Waiter) -> None:
        self._leave_queue(waiter)
        self.counters["timed_out"] += 1
        self._event("timed out", waiter=waiter.arrival)
        wait = self.pool.wait_timeout
        self._settle(
            waiter,
            Failure(PoolWaitTimeout(f"no connection to {self.key!r} within {wait} seconds")),  # type: ignore[no-untyped-call]
        )

    def _withdraw(self, waiter: Waiter) -> None:
        self._leave_queue(waiter)
        self.counters["cancelled"] += 1

    def _fail_waiters(self) -> None:
        while self.queue:
            waiter = self._dequeue()
            self._settle(waiter, Failure(PoolClosed()))

    def _dequeue(self) -> Waiter:
        waiter = self.queue.popleft()
        waiter.queued = False
        if waiter.timer is not None:
            waiter.timer.cancel()
            waiter.timer = None
        return waiter

    def _leave_queue(self, waiter: Waiter) -> None:
        self.queue.remove(waiter)
        waiter.queued = False
        if waiter.timer is not None:
            if waiter.timer.active():
                waiter.timer.cancel()
            waiter.timer = None

    # Effects: connections opening

    def _hand_new(self, waiter: Waiter, connection: Any) -> None:
        self._take(waiter, connection)
        self.busy.add(connection)
        self.counters["created"] += 1
        self._event("created", connection=id(connection))
        self._settle(waiter, connection)

    def _take(self, waiter: Waiter, connection: Any) -> None:
        del self.connecting[waiter]
        self.held[connection] = Use(cap=self.pool.max_requests_per_connection)
        connection.lostCallback = self.lost

    def _forget_connecting(self, waiter: Waiter) -> None:
        del self.connecting[waiter]
        self.pool._total -= 1
        self.counters["failed"] += 1
        self.pool._check_drained()

    def _fail_connect(self, waiter: Waiter, reason: Failure) -> None:
        self._settle(waiter, reason)

    def _cancel_connecting(self) -> None:
        for waiter, opening in list(self.connecting.items()):
            self._settle(waiter, Failure(PoolClosed()))
            if opening is not None:
                opening.cancel()

    # Effects: connections held

    def _register(self, connection: Any) -> None:
        self.held[connection] = Use(cap=self.pool.max_requests_per_connection)
        self.busy.add(connection)
        self.pool._total += 1
        connection.lostCallback = self.lost

    def _retire(self, connection: Any) -> None:
        self.busy.discard(connection)
        self.counters["retired"] += 1
        self._event("retired", connection=id(connection))
        self._close(connection)

    def _keep_idle(self, connection: Any) -> None:
        """
        Keep C{connection} idle until its idle time runs out.

        Its timer is not a delayed call per idle period, made here and
        cancelled when a request takes it: the delayed call made for its
        first idle period stays armed while it is busy and idle again, and
        when it comes (L{_look_at_idle}) the connection expires only if it
        is idle and its time has run out, or is looked at again when it
        will have.  A connection reused more often than its idle timeout
        costs its clock a delayed call per idle timeout, not one per
        request; one made sooner (the server's C{Keep-Alive} shortened
        it) moves the call sooner.
        """
        self.busy.discard(connection)
        pool = self.pool
        pool._connections.setdefault(self.key, []).append(connection)
        use = self.held[connection]
        now = use.idle_since = pool._reactor.seconds()
        idle_for = pool.cachedConnectionTimeout if pool.idle_timeout is None else pool.idle_timeout
        if use.idle_for is not None:
            idle_for = min(idle_for, use.idle_for)
        if self.server_idle is not None:
            idle_for = min(idle_for, server_idle_time(self.server_idle))
        until = use.idle_until = now + idle_for
        timer = use.timer
        if timer is None or timer.cancelled:
            # None armed (or someone cancelled it through _timeouts).
            timer = use.timer = pool._reactor.callLater(idle_for, self._look_at_idle, connection)
            use.timer_at = until
        elif until < use.timer_at:
            timer.reset(idle_for)
            use.timer_at = until
        pool._timeouts[connection] = timer

    def _look_at_idle(self, connection: Any) -> None:
        """
        C{connection}'s timer came: it expires if it is idle and its idle
        time has run out; if it is idle with time left (it was reused since
        the timer was armed), the timer is armed again for then; if it is
        busy, the timer is armed again when it comes back idle.
        """
        use = self.held[connection]
        use.timer = None
        pool = self.pool
        if connection not in pool._timeouts:
            return
        left = use.idle_until - pool._reactor.seconds()
        if left > _SLACK:
            use.timer = pool._timeouts[connection] = pool._reactor.callLater(
                left, self._look_at_idle, connection
            )
            use.timer_at = use.idle_until
            return
        self._fire.expire(self, connection)

    def _drop_oldest_idle(self) -> None:
        oldest = self.pool._connections[self.key][0]
        self._displace_idle(oldest)

    def _forget_idle(self, connection: Any) -> None:
        idle = self.pool._reactor.seconds() - self.held[connection].idle_since
        if self.server_idle is None or idle < self.server_idle:
            self.server_idle = idle
        self.pool._connections[self.key].remove(connection)
        self._cancel_idle_timer(connection)
        self._forget(connection)
        self.counters["evicted"] += 1
        self._event("evicted", connection=id(connection), reason="lost while idle")

    def _forget_busy(self, connection: Any) -> None:
        self.busy.discard(connection)
        self._forget(connection)

    def _forget_closing(self, connection: Any) -> None:
        waiting = self.closing.pop(connection)
        self._forget(connection)
        for deferred in waiting:
            self._settle(deferred, None)

    def _forget(self, connection: Any) -> None:
        timer = self.held.pop(connection).timer
        if timer is not None and timer.active():
            timer.cancel()
        self.pool._total -= 1
        self.pool._check_drained()

    def _free_slot(self) -> None:
        self.pool._dispatch()

    def _leave_pool(self) -> None:
        self.pool._forget_host(self)

    def _expire_idle(self, connection: Any) -> None:
        self._unidle(connection)
        self.counters["expired"] += 1
        self._event("expired", connection=id(connection))

    def _evict_idle(self, connection: Any) -> None:
        self._unidle(connection)
        self.counters["evicted"] += 1
        self._event("evicted", connection=id(connection), reason="stale")

    def _displace_idle(self, connection: Any) -> None:
        self._unidle(connection)
        self.counters["displaced"] += 1
        self._event("displaced", connection=id(connection))

    def _unidle(self, connection: Any) -> None:
        self.pool._connections[self.key].remove(connection)
        self._cancel_idle_timer(connection)
        self._close(connection)

    def _close_all_idle(self) -> None:
        idle = self.pool._connections.pop(self.key, [])
        for connection in idle:
            self._cancel_idle_timer(connection)
            self.closing.setdefault(connection, [])
        for connection in idle:
            self.pool._shut(connection, self.closing[connection])

    def _close_busy_later(self) -> None:
        grace = self.pool.close_grace_period
        if grace <= 0:
            self._fire.grace_over(self)
        else:
            self.pool._reactor.callLater(grace, lambda: self._fire.grace_over(self))

    def _abort_busy(self) -> None:
        busy, self.busy = list(self.busy), set()
        for connection in busy:
            self.closing.setdefault(connection, [])
        for connection in busy:
            self.pool._abort(connection)

    def _close(self, connection: Any) -> None:
        self.closing[connection] = []
        transport = getattr(connection, "transport", None)
        if transport is not None:
            transport.loseConnection()

    def _cancel_idle_timer(self, connection: Any) -> None:
        self.pool._timeouts.pop(connection, None)
        use = self.held[connection]
        timer, use.timer = use.timer, None
        if timer is not None and timer.active():
            timer.cancel()

    # Settling Deferreds once the step is over

    def _settle(self, waiter: Waiter | Deferred[Any], outcome: object) -> None:
        """
        Decide C{waiter}'s outcome now and fire its Deferred once the current
        step is over, so that its callbacks see the host as the step left it.
        """
        if isinstance(waiter, Waiter):
            if waiter.done:
                return
            waiter.done = True
            waiter.outcome = outcome
            if not waiter.returned and not waiter.direct:
                # The caller gets a Deferred already fired with the outcome.
                return
        self._settlements.append((waiter, outcome))
        self._when_step_ends()

    def _step_ended(self) -> None:
        settlements, self._settlements = self._settlements, []
        for waiter, outcome in settlements:
            deferred: Deferred[Any] | None
            if not isinstance(waiter, Waiter):
                deferred = waiter
            elif waiter.direct:
                if waiter.inner is None:
                    continue
                deferred = waiter.inner
            else:
                deferred = waiter.deferred
            if deferred is None or deferred.called:
                continue
            if isinstance(outcome, Failure):
                deferred.errback(outcome)
            else:
                deferred.callback(outcome)

    def _event(self, what: str, **details: object) -> None:
        _log.debug("pool {key!r}: {what}", key=self.key, what=what, **details)
