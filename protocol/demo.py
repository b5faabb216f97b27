"""
httpchart's demo: a loopback server, real requests over real sockets, and
every transition of every connection printed as it happens.

The session shows a persistent connection carrying two requests, a response
that ends its connection, a server that drops the connection in the middle of
a body, and an application aborting an idle connection.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import IO, Any

from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.interfaces import IListeningPort, IReactorTCP
from twisted.python.failure import Failure
from twisted.web._newclient import Request, ResponseFailed
from twisted.web.client import readBody
from twisted.web.http_headers import Headers
from twisted.web.iweb import IResponse
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site

from httpchart.statechart import TransitionRecord

from .client import HTTP11ClientProtocol
from .observe import format_transition


class _Hello(Resource):
    isLeaf = True

    def __init__(self) -> None:
        Resource.__init__(self)

    def render_GET(self, request: Any) -> bytes:
        return b"hello from the loopback server\n"


class _Closing(Resource):
    isLeaf = True

    def __init__(self) -> None:
        Resource.__init__(self)

    def render_GET(self, request: Any) -> bytes:
        request.setHeader(b"connection", b"close")
        return b"this response ends the connection\n"


class _Broken(Resource):
    isLeaf = True

    def __init__(self) -> None:
        Resource.__init__(self)

    def render_GET(self, request: Any) -> object:
        request.setHeader(b"content-length", b"1000")
        request.write(b"the first bytes of a body that never ends")
        request.channel.transport.loseConnection()
        return NOT_DONE_YET


def serve(reactor: IReactorTCP) -> IListeningPort:
    """
    Start the demo's web server (Twisted's own) on a free loopback port.
    """
    root = Resource()
    root.putChild(b"hello", _Hello())
    root.putChild(b"closing", _Closing())
    root.putChild(b"broken", _Broken())
    site: Any = Site(root)
    return reactor.listenTCP(0, site, interface="127.0.0.1")


class Session:
    """
    Connections to one server, with their transitions written to C{out}.
    """

    def __init__(self, reactor: Any, port: int, out: IO[str]) -> None:
        self._reactor = reactor
        self._port = port
        self._out = out
        self._started = time.monotonic()
        self._connections = 0
        self._lost: dict[int, Deferred[None]] = {}

    def say(self, text: str) -> None:
        self._out.write(text + "\n")
        self._out.flush()

    async def connect(self) -> tuple[int, HTTP11ClientProtocol]:
        """
        Open a new connection; its number identifies it in the trace.
        """
        self._connections += 1
        number = self._connections
        self._lost[number] = Deferred()

        def back_in_pool(protocol: HTTP11ClientProtocol) -> None:
            self.say(f"{'':12}#{number}  quiescent callback: a pool would take it back now")

        protocol = HTTP11ClientProtocol(back_in_pool, observer=self._observer(number))
        endpoint = TCP4ClientEndpoint(self._reactor, "127.0.0.1", self._port)
        await connectProtocol(endpoint, protocol)
        local = protocol.transport.getHost().port  # type: ignore[union-attr]
        self.say(f"{'':12}#{number}  connected from local port {local}")
        return number, protocol

    def lost(self, number: int) -> Deferred[None]:
        """
        A Deferred that fires when connection C{number} reaches CONNECTION_LOST.
        """
        return self._lost[number]

    async def get(self, protocol: HTTP11ClientProtocol, path: bytes) -> None:
        """
        GET C{path} on C{protocol} and show the response or the failure.
        """
        headers = Headers({b"host": [f"127.0.0.1:{self._port}".encode()]})
        request = Request(b"GET", path, headers, None, persistent=True)
        try:
            response: IResponse = await protocol.request(request)
            body = await readBody(response)
        except ResponseFailed as failed:
            kinds = ", ".join(reason.type.__name__ for reason in failed.reasons)
            self.say(f"{'':12}the request failed: ResponseFailed([{kinds}])")
            return
        self.say(f"{'':12}response {response.code} {response.phrase.decode()}: {body!r}")

    def _observer(self, number: int) -> Callable[[TransitionRecord], None]:
        def observe(record: TransitionRecord) -> None:
            self.say(format_transition(time.monotonic() - self._started, number, record))
            if record.target == "CONNECTION_LOST" and not self._lost[number].called:
                self._lost[number].callback(None)

        return observe


async def run(reactor: Any, out: IO[str]) -> None:
    """
    Run the demo session against a fresh loopback server.
    """
    port = serve(reactor)
    session = Session(reactor, port.getHost().port, out)  # type: ignore[attr-defined]
    try:
        session.say("httpchart demo: Twisted's web server on a loopback port, real requests.")
        session.say("Each line: time, connection, state --event--> state / effects.\n")

        session.say("1. GET /hello on a new persistent connection")
        number, protocol = await session.connect()
        await session.get(protocol, b"/hello")

        session.say("\n2. GET /hello again: the same connection carries it")
        await session.get(protocol, b"/hello")

        session.say("\n3. GET /closing: the response says 'Connection: close'")
        await session.get(protocol, b"/closing")
        await session.lost(number)

        session.say("\n4. GET /broken: the server drops the connection mid-body")
        number, protocol = await session.connect()
        await session.get(protocol, b"/broken")
        await session.lost(number)

        session.say("\n5. abort(): the application aborts an idle connection")
        number, protocol = await session.connect()
        await protocol.abort()
        session.say(f"{'':12}#{number}  abort() fired; state is {protocol.state}")
    finally:
        stopped = port.stopListening()
        if stopped is not None:
            await stopped


def main(reactor: Any, out: IO[str]) -> Deferred[None]:
    """
    The demo as a Deferred, for L{twisted.internet.task.react}.
    """

    def failed(reason: Failure) -> Failure:
        out.write(f"demo failed: {reason.getErrorMessage()}\n")
        return reason

    return Deferred.fromCoroutine(run(reactor, out)).addErrback(failed)
