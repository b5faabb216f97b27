"""
A loopback HTTP server that misbehaves on a share of its responses: it
resets the connection, stalls, or truncates the body, chosen at random
from a seed so that a run can be replayed.

Requests carry their number in C{X-Request}; the server records which
numbers it faulted and how, so that a test can check what each request
made of its fault.  A request retried by the pool arrives again under the
same number and gets a fresh draw.
"""

from __future__ import annotations

import socket
import struct
from collections import defaultdict
from random import Random
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.python.failure import Failure

FAULTS = ("reset", "stall", "truncate")
BODY = bytes(range(256)) * 4
_HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY)
_PARTIAL = _HEAD + BODY[: len(BODY) // 2]


class _Connection(Protocol):
    def __init__(self, server: FaultyServer) -> None:
        self.server = server
        self._buffer = b""
        self._silent = False

    def connectionMade(self) -> None:
        self.server.open.add(self)
        self.transport.setTcpNoDelay(True)  # type: ignore[union-attr]

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.server.open.discard(self)
        if not self.server.open:
            waiters, self.server._idle = self.server._idle, []
            for waiter in waiters:
                waiter.callback(None)

    def dataReceived(self, data: bytes) -> None:
        self._buffer += data
        while not self._silent and b"\r\n\r\n" in self._buffer:
            head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
            self._answer(_number(head))

    def _answer(self, number: int) -> None:
        fault = self.server.draw(number)
        transport: Any = self.transport
        if fault is None:
            transport.write(_HEAD + BODY)
        elif fault == "truncate":
            transport.write(_PARTIAL)
            transport.loseConnection()
            self._silent = True
        elif fault == "stall":
            if self.server.random.random() < 0.5:
                transport.write(_PARTIAL)
            self._silent = True
        else:
            self._silent = True
            if self.server.random.random() < 0.5:
                self._reset()
            else:
                transport.write(_PARTIAL)
                self.server.reactor.callLater(0.005, self._reset)

    def _reset(self) -> None:
        transport: Any = self.transport
        if not transport.connected:
            return
        handle = transport.getHandle()
        handle.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abortConnection()


def _number(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"x-request":
            return int(value)
    raise ValueError(f"request without X-Request: {head!r}")


class FaultyServer(Factory[_Connection]):
    """
    Listens on a free loopback port of C{reactor} and faults C{rate} of its
    responses.

    @ivar faults: For each request number, the faults it got, in order.
    @ivar open: The connections open now.
    """

    def __init__(self, reactor: Any, rate: float, seed: int) -> None:
        self.reactor = reactor
        self.rate = rate
        self.random = Random(seed)
        self.faults: dict[int, list[str]] = defaultdict(list)
        self.open: set[_Connection] = set()
        self._idle: list[Deferred[None]] = []
        self._port = reactor.listenTCP(0, self, backlog=1024, interface="127.0.0.1")
        self.url = f"http://127.0.0.1:{self._port.getHost().port}/".encode()

    def buildProtocol(self, addr: Any) -> _Connection:
        return _Connection(self)

    def draw(self, number: int) -> str | None:
        """
        Whether (and how) to fault the response to request C{number}.
        """
        if self.random.random() >= self.rate:
            return None
        fault = self.random.choice(FAULTS)
        self.faults[number].append(fault)
        return fault

    def counts(self) -> dict[str, int]:
        tally = dict.fromkeys(FAULTS, 0)
        for faults in self.faults.values():
            for fault in faults:
                tally[fault] += 1
        return tally

    def all_closed(self) -> Deferred[None]:
        """
        Fires once no connection is open.
        """
        if not self.open:
            return succeed(None)
        waiter: Deferred[None] = Deferred()
        self._idle.append(waiter)
        return waiter

    async def stop(self) -> None:
        await self._port.stopListening()
        for connection in list(self.open):
            connection.transport.abortConnection()  # type: ignore[union-attr]
        await self.all_closed()
