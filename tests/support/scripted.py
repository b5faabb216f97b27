"""
A raw TCP server on loopback that plays a script: the hostile servers of
the corpus in L{tests.support.hostile_corpus} are each a few lines of data for it.

A script is a sequence of steps run in order on one accepted connection:
write bytes (L{Send}, L{Stream}), wait for the client (L{AwaitRequest},
L{Sync}), tell the test something (L{Signal}), and end (L{Close} with a FIN,
L{Reset} with an RST, L{Stall} to keep the connection open and silent).  A
script that runs out without ending the connection leaves it serving:
every further request on it gets L{GOOD_RESPONSE}, and so does every
connection beyond the scripted ones, so a test can check that the client
recovers on the same server.

The server shares its reactor with the client under test, and a L{Wire}
connects the two sides: client connections report what they read and when
they are lost, so that a script can wait until the client has read
everything sent so far (L{Sync}) and a test can wait until the client has
seen every close (L{ScriptedServer.is_settled}).  Nothing waits on a clock.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IPullProducer
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.python.failure import Failure
from zope.interface import implementer

GOOD_BODY = b"good"
GOOD_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n" + GOOD_BODY
_BLOCK = 65536


@dataclass(frozen=True)
class Send:
    """
    Write C{data}.
    """

    data: bytes


@dataclass(frozen=True)
class Stream:
    """
    Write C{head}, then C{pattern} repeated up to C{total} bytes, as fast as
    the client reads them (the connection's send buffer paces the writes).
    """

    pattern: bytes
    total: int
    head: bytes = b""


@dataclass(frozen=True)
class AwaitRequest:
    """
    Wait until the head of the next request has arrived.  Its body, if it
    has one, is read and dropped as it comes.
    """


@dataclass(frozen=True)
class Sync:
    """
    Wait until the client has read every byte written so far (or has lost
    the connection), so that what follows arrives in a later read.
    """


@dataclass(frozen=True)
class Signal:
    """
    Fire the server's Deferred for C{name} (see L{ScriptedServer.signal}).
    """

    name: str


@dataclass(frozen=True)
class Close:
    """
    Close the connection once what was written has been sent (a FIN).
    """


@dataclass(frozen=True)
class Reset:
    """
    Reset the connection: close it with SO_LINGER 0, so that the client gets
    an RST and anything not yet sent is dropped.
    """


@dataclass(frozen=True)
class Stall:
    """
    Write nothing more and keep the connection open until the client closes
    it; what the client sends is read and dropped.
    """


Step = Send | Stream | AwaitRequest | Sync | Signal | Close | Reset | Stall
Script = tuple[Step, ...]


class Wire:
    """
    What the server knows of the client side of each connection, by the
    client's local port: how many bytes it has read, and whether it has
    lost the connection.  Client connections report to it (see
    L{tests.support.hostile_client}); the server pokes it when its own connections
    change, and it fires the Deferreds of L{when} whose condition came true.
    """

    def __init__(self) -> None:
        self._read: dict[int, int] = {}
        self._lost: set[int] = set()
        self._waiters: list[tuple[Callable[[], bool], Deferred[None]]] = []

    def read(self, port: int, size: int) -> None:
        """
        The client connection on C{port} read C{size} more bytes.
        """
        self._read[port] = self._read.get(port, 0) + size
        self.poke()

    def lost(self, port: int) -> None:
        """
        The client connection on C{port} is gone.
        """
        self._lost.add(port)
        self.poke()

    def has_lost(self, port: int) -> bool:
        return port in self._lost

    def has_read_all(self, port: int, size: int) -> bool:
        """
        The client connection on C{port} has read C{size} bytes, or is lost.
        """
        return self._read.get(port, 0) >= size or port in self._lost

    def when(self, condition: Callable[[], bool]) -> Deferred[None]:
        """
        Fires once C{condition} holds, checked now and at every poke.
        """
        if condition():
            return succeed(None)
        waiter: Deferred[None] = Deferred()
        self._waiters.append((condition, waiter))
        return waiter

    def has_read(self, port: int, size: int) -> Deferred[None]:
        """
        Fires once the client connection on C{port} has read C{size} bytes in
        all, or is lost.
        """
        return self.when(lambda: self.has_read_all(port, size))

    def poke(self) -> None:
        """
        Something changed: fire the waiters whose condition now holds.
        """
        ready = [waiter for waiter in self._waiters if waiter[0]()]
        for waiter in ready:
            self._waiters.remove(waiter)
            waiter[1].callback(None)


@implementer(IPullProducer)
class _Streamer:
    """
    Writes a L{Stream} step one block at a time, as the transport asks.
    """

    def __init__(self, connection: ScriptedConnection, step: Stream) -> None:
        self._connection = connection
        self._block = step.pattern * max(1, _BLOCK // len(step.pattern))
        self._left = step.total
        self.done: Deferred[None] = Deferred()

    def resumeProducing(self) -> None:
        if self._left <= 0:
            return
        data = self._block[: self._left]
        self._left -= len(data)
        self._connection.write(data)
        if self._left <= 0:
            self._connection.transport.unregisterProducer()  # type: ignore[union-attr]
            self.done.callback(None)

    def stopProducing(self) -> None:
        self._left = 0


class ScriptedConnection(Protocol):
    """
    One accepted connection, playing its script and then serving.

    @ivar sent: Bytes written so far.
    @ivar peer: The client's port.
    """

    def __init__(self, server: ScriptedServer, script: Script) -> None:
        self.server = server
        self._steps = list(script)
        self._buffer = b""
        self._skip: int | bytes = 0
        self._waiting_for_request = False
        self._serving = False
        self._running = False
        self.stalled = False
        self.closed = False
        self.sent = 0
        self.peer = 0

    def connectionMade(self) -> None:
        self.transport.setTcpNoDelay(True)  # type: ignore[union-attr]
        self.peer = self.transport.getPeer().port  # type: ignore[union-attr]
        self._run()

    def write(self, data: bytes) -> None:
        self.sent += len(data)
        self.transport.write(data)  # type: ignore[union-attr]

    def dataReceived(self, data: bytes) -> None:
        self._buffer += data
        self._take_requests()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.closed = True
        self._steps = []
        self.server.wire.poke()

    @property
    def waiting_on_client(self) -> bool:
        """
        The connection does nothing until the client does something: it is
        waiting for a request, stalled, or serving, or it is closed.
        """
        return self.closed or self.stalled or self._waiting_for_request or self._serving

    def _run(self) -> None:
        """
        Run steps until one has to wait or the script is over.
        """
        if self._running:
            return
        self._running = True
        try:
            while self._steps and not self.closed:
                if not self._step(self._steps.pop(0)):
                    return
            if not self.closed and not self.stalled:
                self._serving = True
                self._take_requests()
        finally:
            self._running = False
            self.server.wire.poke()

    def _resume(self, ignored: object = None) -> None:
        self._run()

    def _step(self, step: Step) -> bool:
        """
        Carry out C{step}; C{False} if the script must wait for it to finish.
        """
        match step:
            case Send(data):
                self.write(data)
            case Stream():
                if step.head:
                    self.write(step.head)
                streamer = _Streamer(self, step)
                self.transport.registerProducer(streamer, False)  # type: ignore[union-attr]
                streamer.done.addCallback(self._resume)
                return False
            case AwaitRequest():
                self._waiting_for_request = True
                return self._take_requests()
            case Sync():
                self.server.wire.has_read(self.peer, self.sent).addCallback(self._resume)
                return False
            case Signal(name):
                self.server.signal(name).callback(self)
            case Close():
                self.transport.loseConnection()  # type: ignore[union-attr]
                return False
            case Reset():
                handle = self.transport.getHandle()  # type: ignore[union-attr]
                handle.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.transport.abortConnection()  # type: ignore[union-attr]
                return False
            case Stall():
                self.stalled = True
                return False
        return True

    def _take_requests(self) -> bool:
        """
        Consume what arrived: drop request bodies (and, once stalled,
        everything), and take the next complete head if the script waits
        for one, or answer every complete head once serving.  C{True} if a
        head the script was waiting for was taken.
        """
        while True:
            self._drop_body()
            if self.stalled and not self._skip:
                self._buffer = b""
            if self._skip or not (self._waiting_for_request or self._serving):
                return False
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return False
            head, self._buffer = self._buffer[:end], self._buffer[end + 4 :]
            self._skip = _body_size(head)
            if self._serving:
                self.write(GOOD_RESPONSE)
                continue
            self._waiting_for_request = False
            if not self._running:
                self._run()
            return True

    def _drop_body(self) -> None:
        """
        Drop what has arrived of the body being skipped.
        """
        if isinstance(self._skip, bytes):
            end = self._buffer.find(self._skip)
            if end < 0:
                self._buffer = self._buffer[-len(self._skip) :]
            else:
                self._buffer, self._skip = self._buffer[end + len(self._skip) :], 0
        elif self._skip:
            dropped = min(self._skip, len(self._buffer))
            self._buffer, self._skip = self._buffer[dropped:], self._skip - dropped


def _body_size(head: bytes) -> int | bytes:
    """
    How to skip the body of the request whose head is C{head}: a number of
    bytes, or the bytes that end it (a chunked body's last chunk).
    """
    for line in head.lower().split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip() == b"content-length":
            return int(value)
        if name.strip() == b"transfer-encoding" and b"chunked" in value:
            return b"0\r\n\r\n"
    return 0


class ScriptedServer(Factory[ScriptedConnection]):
    """
    Listens on a free loopback port of C{reactor}; the n-th connection plays
    C{scripts[n]}, and connections beyond them serve from the start.

    @ivar connections: Every connection accepted, in order.
    """

    def __init__(self, reactor: Any, scripts: Sequence[Script], wire: Wire) -> None:
        self._scripts = list(scripts)
        self.wire = wire
        self.connections: list[ScriptedConnection] = []
        self._signals: dict[str, Deferred[Any]] = {}
        self._port = reactor.listenTCP(0, self, interface="127.0.0.1")
        self.port: int = self._port.getHost().port

    def buildProtocol(self, addr: Any) -> ScriptedConnection:
        number = len(self.connections)
        script = self._scripts[number] if number < len(self._scripts) else ()
        connection = ScriptedConnection(self, script)
        self.connections.append(connection)
        return connection

    def url(self, path: str = "/") -> bytes:
        return f"http://127.0.0.1:{self.port}{path}".encode()

    def signal(self, name: str) -> Deferred[Any]:
        """
        The Deferred a L{Signal} step of that name fires (with the
        connection that played it).
        """
        return self._signals.setdefault(name, Deferred())

    def is_settled(self) -> bool:
        """
        Every connection waits on the client, the client has read everything
        sent on it, and has seen every connection the server closed go away.
        """
        return all(
            c.waiting_on_client
            and self.wire.has_read_all(c.peer, c.sent)
            and (not c.closed or self.wire.has_lost(c.peer))
            for c in self.connections
        )

    async def stop(self) -> None:
        """
        Stop listening, then reset whatever is still connected and wait for
        it to close.
        """
        await self._port.stopListening()
        for connection in self.connections:
            if not connection.closed:
                connection._step(Reset())
        for connection in self.connections:
            await self.wire.when(lambda c=connection: c.closed)  # type: ignore[misc]
