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
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from harness import Result, interleaved
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.web import client

from httpchart.protocol import HTTP11ClientProtocol, HTTPConnectionPool

KEY = (b"http", b"127.0.0.1", 80)


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
