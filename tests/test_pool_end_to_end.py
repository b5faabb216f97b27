"""
httpchart's pool end to end, against Twisted's web server and nginx, both
started by the tests, over loopback sockets:

  - 200 concurrent requests through C{max_connections_per_host=4} open at
    most 4 connections, counted on the server's side, and all succeed;
  - with a C{wait_timeout} and a slow server, the requests that waited too
    long fail with L{PoolWaitTimeout} and the others succeed;
  - a server that closes idle connections sooner than the client would, hit
    with POSTs with bodies at intervals around its timeout (the scenario of
    Twisted #7843): no request fails on httpchart's pool; the same loop on
    Twisted's pool shows how many it loses;
  - a server that closes each connection right behind its response,
    without saying so, loses no request either: the pool sees the close
    waiting on the idle connection's socket and opens another;
  - the server's C{Keep-Alive: max} is honoured;
  - C{closeCachedConnections()} against a TLS peer that never answers the
    close still fires, after the grace period.

The figures (failures of each pool in the stale-connection loop) are
printed in the summary of what the checks covered.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from io import BytesIO
from typing import Any, ClassVar

import pytest
from twisted.internet import reactor
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.ssl import Certificate
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase
from twisted.web import client
from twisted.web.client import Agent, BrowserLikePolicyForHTTPS, FileBodyProducer, readBody
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site

from httpchart.protocol import HTTPConnectionPool, PoolWaitTimeout
from localservers.servers import SMALL, Authority, Content, Nginx, TwistedWebServer

from .support.client_kit import connection_of

# Intervals between requests, as fractions of the server's idle timeout:
# below it, at it, and above it.
STEPS = (1.5, 0.6, 0.8, 0.9, 0.95, 1.0, 1.0, 1.02, 1.05, 1.1, 1.2)


async def stale_loop(pool: Any, url: bytes, timeout: float, requests: int) -> Counter[str]:
    """
    POST a body to C{url} C{requests} times, one at a time, waiting around
    the server's idle C{timeout} between them; how each ended.
    """
    return await post_loop(pool, url, requests, lambda number: timeout * STEPS[number % len(STEPS)])


async def post_loop(
    pool: Any, url: bytes, requests: int, pause: Callable[[int], float] | None = None
) -> Counter[str]:
    """
    POST a body to C{url} C{requests} times, one at a time, each after
    C{pause(number)} seconds, or as soon as the last one's response is read
    without C{pause}; how each ended.
    """
    agent = Agent(reactor, pool=pool)
    outcomes: Counter[str] = Counter()
    for number in range(requests):
        body = FileBodyProducer(BytesIO(b"x" * 1000))
        try:
            response = await agent.request(b"POST", url, None, body)
            await readBody(response)
            outcomes["ok"] += 1
        except Exception as error:
            outcomes[type(error).__name__] += 1
        if pause is not None:
            await deferLater(reactor, pause(number), lambda: None)
    await pool.closeCachedConnections()
    return outcomes


def failures(outcomes: Counter[str]) -> int:
    return sum(count for kind, count in outcomes.items() if kind != "ok")


async def concurrent(agent: Agent, url: bytes, count: int) -> list[tuple[int, bytes, bytes]]:
    """
    C{count} GETs of C{url} at once: each one's status, body and the
    server's number for its connection.
    """

    async def one() -> tuple[int, bytes, bytes]:
        response = await agent.request(b"GET", url)
        return response.code, await readBody(response), connection_of(response)

    return await gatherResults([Deferred.fromCoroutine(one()) for _ in range(count)])


class _Slow(Resource):
    """
    Answers after half a second.
    """

    isLeaf = True

    def render_GET(self, request: Any) -> Any:
        def answer() -> None:
            request.write(b"slow")
            request.finish()

        reactor.callLater(0.5, answer)  # type: ignore[attr-defined]
        return NOT_DONE_YET


class _Counted(Resource):
    """
    Serves at most C{LIMIT} requests per connection, saying how many more
    it will take in C{Keep-Alive: max}, and drops the connection unanswered
    if another comes, as a server enforcing its cap does.
    """

    isLeaf = True
    LIMIT = 4

    def __init__(self) -> None:
        Resource.__init__(self)
        # Keyed by the channel itself, which it keeps alive: a closed
        # channel's id() may be reused by the next one.
        self.served: Counter[object] = Counter()

    def render_POST(self, request: Any) -> Any:
        channel = request.channel
        self.served[channel] += 1
        if self.served[channel] > self.LIMIT:
            request.channel.transport.abortConnection()
            return NOT_DONE_YET
        request.setHeader(
            b"keep-alive", b"timeout=30, max=%d" % (self.LIMIT - self.served[channel])
        )
        request.content.read()
        return b"counted"


class _AnswersOnceThenIgnores(Protocol):
    """
    Answers one request, then never reads again: a peer that never answers
    a TLS close.
    """

    def dataReceived(self, data: bytes) -> None:
        if b"\r\n\r\n" in data:
            self.transport.write(  # type: ignore[union-attr]
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
            )
            self.transport.pauseProducing()  # type: ignore[union-attr]


class _ClosesUnannounced(Protocol):
    """
    Answers one request as if the connection stayed open (no C{Connection:
    close}), then closes it at once: its close reaches the client with the
    response or right behind it.
    """

    def dataReceived(self, data: bytes) -> None:
        if b"\r\n\r\n" in data:
            self.transport.write(  # type: ignore[union-attr]
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
            )
            self.transport.loseConnection()  # type: ignore[union-attr]


class PoolAgainstTwisted(TestCase):
    """
    The pool against Twisted's web server, in this process.
    """

    pytestmark = pytest.mark.usefixtures("served", "reporting")
    content: ClassVar[Content]
    authority: ClassVar[Authority]
    report: ClassVar[Callable[[str], None]]
    timeout = 240

    def server(self, **options: Any) -> TwistedWebServer:
        """
        Start a server; it stops after the pools made later are closed.
        """
        server = TwistedWebServer(reactor, self.content, **options)
        self.addCleanup(server.stop)
        return server

    def pool(self, **options: Any) -> HTTPConnectionPool:
        pool = HTTPConnectionPool(reactor, **options)
        self.addCleanup(pool.close)
        return pool

    def site(self, name: bytes, resource: Resource) -> bytes:
        root = Resource()
        root.putChild(name, resource)
        port = reactor.listenTCP(0, Site(root), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        return f"http://127.0.0.1:{port.getHost().port}/{name.decode()}".encode()

    async def test_two_hundred_requests_share_four_connections(self) -> None:
        url = self.server().url("/small")
        pool = self.pool(max_connections_per_host=4)
        answers = await concurrent(Agent(reactor, pool=pool), url, 200)
        assert {(code, body) for code, body, _ in answers} == {(200, SMALL)}
        assert len({number for _, _, number in answers}) <= 4
        stats = pool.stats().total
        assert stats.created <= 4
        assert stats.reused >= 196
        assert stats.queued == 0

    async def test_requests_that_wait_too_long_fail_and_the_others_succeed(self) -> None:
        pool = self.pool(max_connections_per_host=2, wait_timeout=0.2)
        url = self.site(b"slow", _Slow())
        agent = Agent(reactor, pool=pool)

        async def one() -> str:
            try:
                response = await agent.request(b"GET", url)
                return (await readBody(response)).decode()
            except PoolWaitTimeout:
                return "timed out"

        outcomes = await gatherResults([Deferred.fromCoroutine(one()) for _ in range(6)])
        assert Counter(outcomes) == {"slow": 2, "timed out": 4}
        assert pool.stats().total.timed_out == 4

    async def test_a_server_closing_idle_connections_loses_no_request(self) -> None:
        timeout, requests = 0.1, 250
        url = self.server(idle_timeout=timeout).url("/echo")
        ours = await stale_loop(HTTPConnectionPool(reactor), url, timeout, requests)
        theirs = await stale_loop(client.HTTPConnectionPool(reactor), url, timeout, requests)
        self.report(
            f"stale-connection loop (Twisted #7843), Twisted's web server closing idle "
            f"connections after {timeout} s, {requests} POSTs: httpchart's pool lost "
            f"{failures(ours)}, Twisted's pool lost {failures(theirs)} {dict(theirs)}"
        )
        assert ours == {"ok": requests}

    async def test_a_connection_closed_behind_its_response_is_never_reused(self) -> None:
        port = reactor.listenTCP(0, Factory.forProtocol(_ClosesUnannounced), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        url = f"http://127.0.0.1:{port.getHost().port}/".encode()
        requests = 100
        pool = self.pool()
        ours = await post_loop(pool, url, requests)
        theirs = await post_loop(client.HTTPConnectionPool(reactor), url, requests)
        self.report(
            f"a server closing each connection right behind its response, unannounced, "
            f"{requests} POSTs sent as soon as the last answer is read: httpchart's pool "
            f"lost {failures(ours)} (its socket check evicted {pool.stats().total.evicted}), "
            f"Twisted's pool lost {failures(theirs)} {dict(theirs)}"
        )
        assert ours == {"ok": requests}

    async def test_keep_alive_max_is_honoured(self) -> None:
        counted = _Counted()
        url = self.site(b"counted", counted)
        pool = self.pool()
        agent = Agent(reactor, pool=pool)
        for _ in range(10):
            body = FileBodyProducer(BytesIO(b"a body"))
            response = await agent.request(b"POST", url, None, body)
            assert await readBody(response) == b"counted"
        assert sorted(counted.served.values()) == [2, 4, 4]
        assert pool.stats().total.retired == 2

    async def test_closing_idle_tls_connections_ends_despite_a_silent_peer(self) -> None:
        port = reactor.listenSSL(
            0,
            Factory.forProtocol(_AnswersOnceThenIgnores),
            self.authority.server_options(),
            interface="127.0.0.1",
        )
        self.addCleanup(port.stopListening)
        trust = Certificate.loadPEM(self.authority.ca_pem())
        pool = HTTPConnectionPool(reactor)
        pool.close_grace_period = 0.5
        agent = Agent(reactor, BrowserLikePolicyForHTTPS(trustRoot=trust), pool=pool)
        response = await agent.request(b"GET", f"https://127.0.0.1:{port.getHost().port}/".encode())
        assert await readBody(response) == b"ok"
        assert pool.stats().total.idle == 1
        started = time.monotonic()
        await pool.closeCachedConnections()
        assert time.monotonic() - started < 10
        assert pool.stats().total.idle == pool.stats().total.closing == 0


class PoolAgainstNginx(TestCase):
    """
    The pool against nginx, in its own process.
    """

    pytestmark = pytest.mark.usefixtures("served", "nginx", "reporting")
    nginx: ClassVar[Nginx]
    report: ClassVar[Callable[[str], None]]
    timeout = 240

    async def test_two_hundred_requests_share_four_connections(self) -> None:
        pool = HTTPConnectionPool(reactor, max_connections_per_host=4)
        self.addCleanup(pool.close)
        answers = await concurrent(Agent(reactor, pool=pool), self.nginx.url("/small"), 200)
        assert {(code, body) for code, body, _ in answers} == {(200, SMALL)}
        assert len({number for _, _, number in answers}) <= 4

    async def test_a_server_closing_idle_connections_loses_no_request(self) -> None:
        timeout = 0.2
        url = self.nginx.url("/small", port="brief")
        ours = await stale_loop(HTTPConnectionPool(reactor), url, timeout, 50)
        theirs = await stale_loop(client.HTTPConnectionPool(reactor), url, timeout, 50)
        self.report(
            f"stale-connection loop (Twisted #7843), nginx closing idle connections after "
            f"{timeout} s, 50 POSTs: httpchart's pool lost {failures(ours)}, Twisted's pool "
            f"lost {failures(theirs)} {dict(theirs)}"
        )
        assert ours == {"ok": 50}
