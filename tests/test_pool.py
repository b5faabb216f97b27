"""
httpchart's L{HTTPConnectionPool}: its connections are httpchart's, it retries
as Twisted's pool does, and it lets one observer watch every connection.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import Deferred, succeed
from twisted.internet.error import ConnectionDone, TimeoutError
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import formatEvent, globalLogPublisher
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase
from twisted.web import client
from twisted.web._newclient import Request
from twisted.web.client import Agent, FileBodyProducer, ResponseNeverReceived
from twisted.web.http_headers import Headers

from httpchart.protocol import (
    HTTP11ClientFactory,
    HTTP11ClientProtocol,
    HTTPConnectionPool,
    PoolClosed,
    PoolWaitTimeout,
    log_transition,
)
from httpchart.protocol.observe import TRANSITIONS
from httpchart.protocol.pool_host import POOL_EVENTS
from httpchart.statechart import ChartSpec, TransitionRecord
from httpchart.statechart.pool import HostPool

from .support.client_kit import read

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class _InMemoryEndpoint:
    """
    Connects each protocol to a L{StringTransport} at once.
    """

    def __init__(self) -> None:
        self.connected: list[Any] = []

    def connect(self, factory: Factory[Any]) -> Any:
        protocol = factory.buildProtocol(None)
        assert protocol is not None
        protocol.makeConnection(StringTransport())
        self.connected.append(protocol)
        return succeed(protocol)


def _exchange(
    pool: HTTPConnectionPool, endpoint: _InMemoryEndpoint, response: bytes = RESPONSE
) -> Any:
    """
    One GET through C{pool}, answered in memory with C{response}; the
    connection used.
    """
    used: list[Any] = []
    pool.getConnection("key", endpoint).addCallback(used.append)
    (connection,) = used
    request = Request(b"GET", b"/", Headers({b"host": [b"example.com"]}), None, persistent=True)
    connection.request(request)
    protocol = endpoint.connected[-1]
    protocol.dataReceived(response)
    return protocol


def test_pool_builds_httpchart_connections() -> None:
    pool = HTTPConnectionPool(Clock())
    endpoint = _InMemoryEndpoint()
    protocol = _exchange(pool, endpoint)
    assert isinstance(protocol, HTTP11ClientProtocol)
    assert isinstance(pool._factory(lambda p: None, "metadata"), HTTP11ClientFactory)


def test_idle_connection_returns_to_the_pool_and_is_reused() -> None:
    pool = HTTPConnectionPool(Clock())
    endpoint = _InMemoryEndpoint()
    first = _exchange(pool, endpoint)
    assert pool._connections["key"] == [first]
    second = _exchange(pool, endpoint)
    assert second is first
    assert len(endpoint.connected) == 1


def test_unobserved_connections_skip_observation() -> None:
    protocol = HTTP11ClientFactory(lambda p: None, "metadata").buildProtocol(None)
    assert protocol._observer is None


def test_pool_observer_sees_every_transition_numbered_by_connection_across_pools() -> None:
    seen: list[tuple[int, TransitionRecord]] = []
    pool = HTTPConnectionPool(
        Clock(), observer=lambda number, record: seen.append((number, record))
    )
    endpoint = _InMemoryEndpoint()
    _exchange(pool, endpoint)
    _exchange(pool, endpoint)
    _exchange(HTTPConnectionPool(Clock(), observer=pool.observer), endpoint)
    pool_states = set(ChartSpec.of(HostPool).states)
    numbers = sorted({number for number, r in seen if r.source not in pool_states})
    assert len(numbers) == 2
    assert [(r.source, r.event, r.target) for n, r in seen if n == numbers[0]] == [
        ("QUIESCENT", "issue", "TRANSMITTING"),
        ("TRANSMITTING", "write_done", "WAITING"),
        ("WAITING", "data", "WAITING"),
        ("WAITING", "head_received", "WAITING"),
        ("WAITING", "response_done", "QUIESCENT"),
    ] * 2
    keys = sorted({number for number, r in seen if r.source in pool_states})
    assert len(keys) == 2
    assert not set(keys) & set(numbers)
    assert [(r.source, r.event, r.target, r.effects) for n, r in seen if n == keys[0]] == [
        ("EMPTY", "request", "ACTIVE", ("open_connection",)),
        ("ACTIVE", "connected", "ACTIVE", ("hand_new",)),
        ("ACTIVE", "release", "ACTIVE", ("keep_idle",)),
        ("ACTIVE", "request", "ACTIVE", ("hand_idle",)),
        ("ACTIVE", "release", "ACTIVE", ("keep_idle",)),
    ]


def test_log_transition_emits_a_structured_event() -> None:
    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    try:
        record = TransitionRecord("WAITING", "response_done", "QUIESCENT", ("a", "b"))
        log_transition(7, record)
    finally:
        globalLogPublisher.removeObserver(events.append)
    (event,) = [e for e in events if e.get("log_namespace") == TRANSITIONS]
    assert event["log_level"].name == "debug"
    assert (event["connection"], event["source"], event["event"], event["target"]) == (
        7,
        "WAITING",
        "response_done",
        "QUIESCENT",
    )
    assert event["effects"] == ("a", "b")
    assert formatEvent(event) == "#7 WAITING --response_done--> QUIESCENT / a, b"


def test_pool_with_the_log_observer_logs_every_transition_of_its_connections() -> None:
    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    try:
        _exchange(HTTPConnectionPool(Clock(), observer=log_transition), _InMemoryEndpoint())
    finally:
        globalLogPublisher.removeObserver(events.append)
    pool_states = set(ChartSpec.of(HostPool).states)
    logged = [
        e
        for e in events
        if e.get("log_namespace") == TRANSITIONS and e["source"] not in pool_states
    ]
    assert len({event["connection"] for event in logged}) == 1
    assert [formatEvent(event).split(" ", 1)[1] for event in logged] == [
        "QUIESCENT --issue--> TRANSMITTING / start_request, start_total_timer",
        "TRANSMITTING --write_done--> WAITING / deliver_response, start_response_timer, "
        "start_read_timer",
        "WAITING --data--> WAITING / restart_read_timer, feed_parser",
        "WAITING --head_received--> WAITING / stop_response_timer",
        "WAITING --response_done--> QUIESCENT / stop_timers, resume_transport, "
        "notify_quiescent, release_parser",
    ]


class _AnswersOncePerConnection(Protocol):
    """
    A server that answers the first request of each connection and keeps it
    open, then closes it, unanswered, when the next request arrives: a server
    that timed out the idle connection just as the client reused it.
    """

    answered = False

    def dataReceived(self, data: bytes) -> None:
        if self.answered:
            self.transport.loseConnection()  # type: ignore[union-attr]
        elif b"\r\n\r\n" in data:
            self.answered = True
            self.transport.write(RESPONSE)  # type: ignore[union-attr]


class StaleConnectionTests(TestCase):
    """
    A request that fails on a pooled connection the server has given up on
    is retried once on a new connection if it is idempotent, exactly as
    Twisted's pool does.
    """

    timeout = 30

    def setUp(self) -> None:
        self.connections = 0

        def build() -> Protocol:
            self.connections += 1
            return _AnswersOncePerConnection()

        self.port = reactor.listenTCP(0, Factory.forProtocol(build), interface="127.0.0.1")
        self.addCleanup(self.port.stopListening)
        self.url = f"http://127.0.0.1:{self.port.getHost().port}/".encode()

    def pool(self, pool_class: type[Any]) -> Any:
        pool = pool_class(reactor)
        self.addCleanup(pool.closeCachedConnections)
        return pool

    async def outcomes(self, pool_class: type[Any], method: bytes) -> list[object]:
        agent = Agent(reactor, pool=self.pool(pool_class))
        outcomes: list[object] = []
        for _ in range(2):
            try:
                response = await agent.request(method, self.url)
                outcomes.append(await read(response))
            except ResponseNeverReceived as failed:
                outcomes.append(type(failed))
        return outcomes

    async def test_idempotent_request_is_retried_on_a_new_connection(self) -> None:
        assert await self.outcomes(HTTPConnectionPool, b"GET") == [b"ok", b"ok"]
        assert self.connections == 2

    async def test_other_requests_are_not_retried(self) -> None:
        assert await self.outcomes(HTTPConnectionPool, b"POST") == [b"ok", ResponseNeverReceived]
        assert self.connections == 1

    async def test_twisteds_pool_does_the_same(self) -> None:
        ours = await self.outcomes(HTTPConnectionPool, b"GET")
        ours += await self.outcomes(HTTPConnectionPool, b"POST")
        theirs = await self.outcomes(client.HTTPConnectionPool, b"GET")
        theirs += await self.outcomes(client.HTTPConnectionPool, b"POST")
        assert ours == theirs


def test_a_request_refused_by_a_closing_reused_connection_is_retried_whatever_its_method() -> None:
    pool = HTTPConnectionPool(Clock())
    endpoint = _InMemoryEndpoint()
    first = _exchange(pool, endpoint)
    reused: list[Any] = []
    pool.getConnection("key", endpoint).addCallback(reused.append)
    first.transport.loseConnection()  # closed by someone else after the handout
    body = FileBodyProducer(BytesIO(b"a body"))
    request = Request(b"POST", b"/", Headers({b"host": [b"example.com"]}), body, persistent=True)
    outcome: list[Any] = []
    reused[0].request(request).addBoth(outcome.append)
    second = endpoint.connected[-1]
    assert second is not first
    assert b"POST / HTTP/1.1" in second.transport.value()
    assert pool.stats().total.retried == 1
    assert outcome == []


def test_close_fails_waiting_requests_and_refuses_new_ones() -> None:
    clock = Clock()
    pool = HTTPConnectionPool(clock, max_connections_per_host=1)
    endpoint = _InMemoryEndpoint()
    busy: list[Any] = []
    pool.getConnection("key", endpoint).addCallback(busy.append)
    waiting: list[Any] = []
    pool.getConnection("key", endpoint).addBoth(waiting.append)
    assert pool.stats().total.queued == 1
    closed: list[Any] = []
    pool.close().addBoth(closed.append)
    refused: list[Any] = []
    pool.getConnection("key", endpoint).addBoth(refused.append)
    assert [failure.type for failure in waiting + refused] == [PoolClosed, PoolClosed]
    assert closed == []  # the busy connection is being aborted
    busy[0].connectionLost(Failure(ConnectionDone()))
    assert closed == [None]


def test_a_request_waits_no_longer_than_the_wait_timeout() -> None:
    clock = Clock()
    pool = HTTPConnectionPool(clock, max_connections=1, wait_timeout=5)
    endpoint = _InMemoryEndpoint()
    pool.getConnection("key", endpoint)
    waiting: list[Any] = []
    pool.getConnection("other", endpoint).addBoth(waiting.append)
    clock.advance(4.9)
    assert waiting == []
    clock.advance(0.2)
    (failure,) = waiting
    assert failure.check(PoolWaitTimeout)
    assert isinstance(failure.value, TimeoutError)
    # The key held nothing else: the pool forgot it, and kept its count.
    assert "other" not in pool.stats().hosts
    assert pool.stats().total.timed_out == 1


def test_the_servers_keep_alive_header_shortens_the_idle_time_and_caps_requests() -> None:
    clock = Clock()
    pool = HTTPConnectionPool(clock)
    endpoint = _InMemoryEndpoint()
    used: list[Any] = []
    pool.getConnection("key", endpoint).addCallback(used.append)
    request = Request(b"GET", b"/", Headers({b"host": [b"example.com"]}), None, persistent=True)
    used[0].request(request)
    connection = endpoint.connected[-1]
    connection.dataReceived(
        b"HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=1\r\nContent-Length: 2\r\n\r\nok"
    )
    assert pool.stats().total.idle == 1
    clock.advance(3.9)
    assert pool.stats().total.idle == 1
    clock.advance(0.2)  # a second before the server's five
    assert pool.stats().total.expired == 1
    assert connection.transport.disconnecting


def test_pool_events_reach_twisted_logger() -> None:
    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    try:
        pool = HTTPConnectionPool(Clock(), max_connections=1)
        endpoint = _InMemoryEndpoint()
        _exchange(pool, endpoint)
        _exchange(pool, endpoint)
        pool.getConnection("other", endpoint)
        endpoint.connected[-1].connectionLost(Failure(ConnectionDone()))
    finally:
        globalLogPublisher.removeObserver(events.append)
    logged = [formatEvent(e) for e in events if e.get("log_namespace") == POOL_EVENTS]
    assert logged == [
        "pool 'key': created",
        "pool 'other': queued",
        "pool 'key': displaced",
        "pool 'other': dequeued",
        "pool 'other': created",
    ]


def _close_closed(endpoint: _InMemoryEndpoint) -> None:
    """
    Report the loss of every connection whose transport the pool closed, as
    a real transport does once it has closed.
    """
    for protocol in endpoint.connected:
        if protocol.transport.disconnecting and protocol.state != "CONNECTION_LOST":
            protocol.connectionLost(Failure(ConnectionDone()))


def test_a_crawl_over_many_hosts_leaves_no_key_behind() -> None:
    """
    Keys whose connections have all gone (expired or closed by the server)
    are forgotten: a client visiting many hosts does not grow the pool, and
    the totals keep what the forgotten keys counted.
    """
    clock = Clock()
    pool = HTTPConnectionPool(clock, idle_timeout=10)
    endpoint = _InMemoryEndpoint()
    for number in range(200):
        key = ("http", b"host%d.example" % number, 80)
        used: list[Any] = []
        pool.getConnection(key, endpoint).addCallback(used.append)
        request = Request(b"GET", b"/", Headers({b"host": [b"x"]}), None, persistent=True)
        used[0].request(request)
        endpoint.connected[-1].dataReceived(RESPONSE)
        if number % 2:
            # The server closes the idle connection.
            endpoint.connected[-1].connectionLost(Failure(ConnectionDone()))
        assert len(pool._hosts) <= 100
    clock.advance(11)
    _close_closed(endpoint)
    assert pool._hosts == {}
    assert pool._connections == {}
    total = pool.stats().total
    assert (total.created, total.expired, total.evicted) == (200, 100, 100)


def test_a_forgotten_key_starts_again_when_asked_for() -> None:
    clock = Clock()
    pool = HTTPConnectionPool(clock, idle_timeout=10)
    endpoint = _InMemoryEndpoint()
    first = _exchange(pool, endpoint)
    clock.advance(11)
    _close_closed(endpoint)
    assert "key" not in pool.stats().hosts
    second = _exchange(pool, endpoint)
    assert second is not first
    assert pool.stats().hosts["key"].idle == 1
    assert pool.stats().total.created == 2


def test_take_connection_hands_an_idle_connection_itself_and_a_deferred_otherwise() -> None:
    clock = Clock()
    pool = HTTPConnectionPool(clock)
    endpoint = _InMemoryEndpoint()
    none, opened = pool.take_connection("key", endpoint)
    # A new connection: the endpoint's Deferred, as getConnection gives it.
    assert none is None
    assert isinstance(opened, Deferred)
    used: list[Any] = []
    opened.addCallback(used.append)
    request = Request(b"GET", b"/", Headers({b"host": [b"x"]}), None, persistent=True)
    used[0].request(request)
    endpoint.connected[-1].dataReceived(RESPONSE)
    taken, waiting = pool.take_connection("key", endpoint)
    assert waiting is None
    assert taken._clientProtocol is endpoint.connected[-1]
    assert pool.stats().total.reused == 1
    pool.close()
    nothing, refused = pool.take_connection("key", endpoint)
    assert nothing is None
    assert isinstance(refused, Deferred)
    failures: list[Failure] = []
    refused.addErrback(failures.append)
    assert failures[0].check(PoolClosed)


def test_a_reused_connection_keeps_one_delayed_call_for_its_idle_timer() -> None:
    """
    Taking an idle connection does not cancel its idle timer and giving it
    back does not make another: however many requests it carries, its clock
    holds one delayed call for it, and none is ever cancelled.
    """
    clock = Clock()
    pool = HTTPConnectionPool(clock, timeouts=None)
    endpoint = _InMemoryEndpoint()
    for _ in range(50):
        _exchange(pool, endpoint)
        clock.advance(1)
    assert len(endpoint.connected) == 1
    calls = clock.getDelayedCalls()
    assert len(calls) == 1
    assert not calls[0].cancelled
    assert pool._timeouts == {endpoint.connected[0]: calls[0]}


def test_a_reused_connection_expires_its_idle_timeout_after_it_last_became_idle() -> None:
    """
    The delayed call armed when the connection first became idle comes while
    it still has time left: it is looked at again then, and expires at the
    end of its last idle period, not of its first.
    """
    clock = Clock()
    pool = HTTPConnectionPool(clock, idle_timeout=10, timeouts=None)
    endpoint = _InMemoryEndpoint()
    connection = _exchange(pool, endpoint)
    clock.advance(6)
    assert _exchange(pool, endpoint) is connection
    clock.advance(5)  # 11 s after the first idle period began, 5 after the second
    assert pool.stats().total.idle == 1
    assert not connection.transport.disconnecting
    clock.advance(4.9)
    assert pool.stats().total.expired == 0
    clock.advance(0.2)
    assert pool.stats().total.expired == 1
    assert connection.transport.disconnecting
    assert pool._timeouts == {}


def test_a_timer_coming_while_its_connection_is_busy_leaves_it_alone() -> None:
    """
    The idle timer comes while the connection carries a request: the
    request is not disturbed, and the connection gets a full idle period
    once it is back.
    """
    clock = Clock()
    pool = HTTPConnectionPool(clock, idle_timeout=10, timeouts=None)
    endpoint = _InMemoryEndpoint()
    connection = _exchange(pool, endpoint)
    clock.advance(5)
    used: list[Any] = []
    pool.getConnection("key", endpoint).addCallback(used.append)
    request = Request(b"GET", b"/", Headers({b"host": [b"example.com"]}), None, persistent=True)
    answer = used[0].request(request)
    clock.advance(20)
    assert pool.stats().total.busy == 1
    assert not connection.transport.disconnecting
    connection.dataReceived(RESPONSE)
    bodies: list[bytes] = []
    answer.addCallback(read).addCallback(bodies.append)
    assert bodies == [b"ok"]
    clock.advance(9.9)
    assert pool.stats().total.idle == 1
    clock.advance(0.2)
    assert pool.stats().total.expired == 1


def test_a_shorter_idle_time_moves_the_armed_timer_sooner() -> None:
    """
    After a reuse the server's C{Keep-Alive: timeout} shortens the idle time
    below what the armed delayed call was made for: the call moves sooner.
    """
    clock = Clock()
    pool = HTTPConnectionPool(clock, idle_timeout=100, timeouts=None)
    endpoint = _InMemoryEndpoint()
    connection = _exchange(pool, endpoint)
    (call,) = clock.getDelayedCalls()
    assert call.getTime() == 100
    assert (
        _exchange(
            pool,
            endpoint,
            b"HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\nok",
        )
        is connection
    )
    assert clock.getDelayedCalls() == [call]
    assert call.getTime() == 4
    clock.advance(4)
    assert pool.stats().total.expired == 1


def test_a_connection_leaving_the_pool_leaves_no_delayed_call() -> None:
    """
    A connection lost while busy, after its idle timer was armed, takes the
    timer with it.
    """
    clock = Clock()
    pool = HTTPConnectionPool(clock, timeouts=None)
    endpoint = _InMemoryEndpoint()
    connection = _exchange(pool, endpoint)
    used: list[Any] = []
    pool.getConnection("key", endpoint).addCallback(used.append)
    connection.connectionLost(Failure(ConnectionDone()))
    assert clock.getDelayedCalls() == []
    assert pool.stats().hosts == {}


def test_a_reused_connection_is_wrapped_for_retries_on_the_endpoint_asked_with() -> None:
    """
    The retry wrapper of a reused connection is kept for the next request
    from the same endpoint, and made again for another one, C{None}
    included.
    """
    pool = HTTPConnectionPool(Clock())
    connection = HTTP11ClientProtocol()
    connection.makeConnection(StringTransport())
    pool._putConnection("key", connection)
    handed: list[Any] = []
    for endpoint in (None, None, "elsewhere"):
        pool.getConnection("key", endpoint).addCallback(handed.append)
        assert handed[-1]._clientProtocol is connection
        pool._putConnection("key", connection)
    assert handed[0] is handed[1]
    assert handed[2] is not handed[1]


def test_an_idle_timer_cancelled_through_timeouts_is_armed_again() -> None:
    """
    Code that cancels an idle connection's timer through C{_timeouts}, as
    it could with Twisted's pool, does not leave the connection without one
    the next time it is idle.
    """
    clock = Clock()
    pool = HTTPConnectionPool(clock, idle_timeout=10, timeouts=None)
    endpoint = _InMemoryEndpoint()
    connection = _exchange(pool, endpoint)
    pool._timeouts[connection].cancel()
    assert _exchange(pool, endpoint) is connection
    clock.advance(10)
    assert pool.stats().total.expired == 1
