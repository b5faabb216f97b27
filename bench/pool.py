"""
What a pool costs per request, in memory: taking an idle connection from the
pool and giving it back, the whole of a pool's work for a request on a
reused connection.

Contenders, each handing out and taking back one idle httpchart connection:

  - C{twisted}: Twisted's own HTTPConnectionPool;
  - C{httpchart}: httpchart's pool, without limits;
  - C{httpchart, limits}: httpchart's pool with C{max_connections} and
    C{max_connections_per_host} (not reached: the cost of counting);
  - C{httpchart, observed}: httpchart's pool with an observer that drops
    every transition (pool and connection);
  - C{httpchart, socket}: httpchart's pool, its connection's transport on
    one end of a connected socket pair, so that the pool's check of the
    idle socket (a C{poll()} system call) is paid as over a network.

The connections stay in C{QUIESCENT}: this is the pool alone, not the
exchange (bench/exchanges.py) or the sockets (bench/loopback.py).

A second case puts the pool where it works: httpchart's Agent sends a GET
on a pooled connection over an in-memory transport, the response is fed
back and its body read, on Twisted's pool (C{twisted}, its connections
httpchart's with the pool's timeouts, as section 4's
C{httpchart-twisted-pool}) and on httpchart's.  It is section 4's budget
without the sockets, and steadier; the pool costs more there than alone,
since the rest of the request shares the processor's caches with it.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from harness import Result, interleaved
from twisted.internet.defer import succeed
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.web import client

from httpchart.protocol import (
    POOL_TIMEOUTS,
    Agent,
    HTTP11ClientFactory,
    HTTP11ClientProtocol,
    HTTPConnectionPool,
    read_body,
)

KEY = (b"http", b"127.0.0.1", 80)
URL = b"http://127.0.0.1:8080/small"
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 16\r\nConnection: keep-alive\r\n\r\n0123456789abcdef"
)


class _SocketTransport(StringTransport):
    """
    An in-memory transport whose handle is a real, connected socket.
    """

    def __init__(self, handle: socket.socket) -> None:
        super().__init__()
        self._handle = handle

    def getHandle(self) -> socket.socket:
        return self._handle


def _cycle(pool: Any, transport: StringTransport | None = None) -> Callable[[], object]:
    """
    One take-and-give-back of the only idle connection of C{pool}, whose
    transport is C{transport} (a new L{StringTransport} by default).
    """
    connection = HTTP11ClientProtocol()
    connection.makeConnection(StringTransport() if transport is None else transport)
    pool._putConnection(KEY, connection)
    taken: list[Any] = []
    get = pool.getConnection
    put = pool._putConnection

    def cycle() -> None:
        get(KEY, None).addCallback(taken.append)
        put(KEY, taken.pop()._clientProtocol)

    return cycle


class _InMemory:
    """
    An endpoint and endpoint factory connecting to one in-memory transport.
    """

    def __init__(self) -> None:
        self.connected: list[Any] = []

    def endpointForURI(self, uri: Any) -> _InMemory:
        return self

    def connect(self, factory: Any) -> Any:
        connection = factory.buildProtocol(None)
        connection.makeConnection(StringTransport())
        self.connected.append(connection)
        return succeed(connection)


def _agent_cycle(pool: Any) -> Callable[[], object]:
    """
    One GET of httpchart's Agent on C{pool}, its response and its body, on
    the pool's only connection.
    """
    endpoints = _InMemory()
    agent = Agent.usingEndpointFactory(pool._reactor, endpoints, pool=pool)
    bodies: list[bytes] = []

    def cycle() -> None:
        response = agent.request(b"GET", URL)
        (connection,) = endpoints.connected
        connection.transport.clear()
        connection.dataReceived(RESPONSE)
        response.addCallback(read_body).addCallback(bodies.append)
        bodies.pop()

    return cycle


def _twisted_pool_of_httpchart_connections(clock: Clock) -> client.HTTPConnectionPool:
    """
    Twisted's pool, opening httpchart connections with the pool's timeouts.
    """

    def build(quiescentCallback: Any) -> HTTP11ClientProtocol:
        return HTTP11ClientProtocol(quiescentCallback, timeouts=POOL_TIMEOUTS, clock=clock)

    class Pool(client.HTTPConnectionPool):
        def _factory(self, quiescentCallback: Any, metadata: str) -> Any:
            return HTTP11ClientFactory(quiescentCallback, metadata, build=build)

    return Pool(clock)


def measure_agent_on_pools(rounds: int, batch: int) -> Result:
    """
    httpchart's Agent on Twisted's pool and on httpchart's, in memory.
    """
    contenders = {
        "twisted": _agent_cycle(_twisted_pool_of_httpchart_connections(Clock())),
        "httpchart": _agent_cycle(HTTPConnectionPool(Clock())),
    }
    return interleaved(
        "httpchart's Agent, one GET in memory", contenders, rounds=rounds, batch=batch * 5
    )


def measure_pool(rounds: int, batch: int) -> Result:
    """
    The pool's own cost per request on a reused connection.
    """
    contenders = {
        "twisted": _cycle(client.HTTPConnectionPool(Clock())),
        "httpchart": _cycle(HTTPConnectionPool(Clock())),
        "httpchart, limits": _cycle(
            HTTPConnectionPool(Clock(), max_connections=100, max_connections_per_host=10)
        ),
        "httpchart, observed": _cycle(
            HTTPConnectionPool(Clock(), observer=lambda number, record: None)
        ),
    }
    ours, theirs = socket.socketpair()
    try:
        contenders["httpchart, socket"] = _cycle(
            HTTPConnectionPool(Clock()), _SocketTransport(ours)
        )
        return interleaved("pool: take and give back", contenders, rounds=rounds, batch=batch * 10)
    finally:
        ours.close()
        theirs.close()
