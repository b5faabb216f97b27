"""
httpchart's Agent: Twisted's Agent without the per-request parsing and
endpoint building, on httpchart's pool.  (Twisted's own Agent tests run
against it in tests/test_twisted_agent.py.)
"""

from __future__ import annotations

from typing import Any

import pytest
import treq
from twisted.internet import reactor as global_reactor
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.trial.unittest import TestCase
from twisted.web.client import URI, readBody
from twisted.web.iweb import IAgentEndpointFactory
from zope.interface import implementer

from httpchart.protocol import Agent, HTTP11ClientProtocol, HTTPConnectionPool
from localservers.servers import SMALL, Content, TwistedWebServer


@implementer(IAgentEndpointFactory)
class CountingEndpoints:
    """
    An endpoint factory that counts how often it is asked, and whose
    endpoints connect at once to an in-memory transport.
    """

    def __init__(self) -> None:
        self.asked: list[bytes] = []
        self.connections: list[HTTP11ClientProtocol] = []

    def endpointForURI(self, uri: URI) -> IStreamClientEndpoint:
        self.asked.append(uri.toBytes())
        return _Connect(self.connections)


@implementer(IStreamClientEndpoint)
class _Connect:
    def __init__(self, connections: list[HTTP11ClientProtocol]) -> None:
        self.connections = connections

    def connect(self, factory: Any) -> Deferred[Any]:
        protocol = factory.buildProtocol(None)
        protocol.makeConnection(StringTransport())
        self.connections.append(protocol)
        return succeed(protocol)


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def _agent(endpoints: CountingEndpoints) -> Agent:
    pool = HTTPConnectionPool(MemoryReactorClock(), persistent=True)
    return Agent.usingEndpointFactory(MemoryReactorClock(), endpoints, pool=pool)  # type: ignore[no-any-return]


def test_one_endpoint_per_scheme_host_and_port() -> None:
    endpoints = CountingEndpoints()
    agent = _agent(endpoints)
    for path in (b"/a", b"/b", b"/a?x=1"):
        agent.request(b"GET", b"http://example.com" + path)
    agent.request(b"GET", b"http://example.com:8080/a")
    agent.request(b"GET", b"https://example.com/a")
    assert endpoints.asked == [
        b"http://example.com/a",
        b"http://example.com:8080/a",
        b"https://example.com/a",
    ]


def test_an_idle_pooled_connection_carries_the_request_at_once() -> None:
    endpoints = CountingEndpoints()
    agent = _agent(endpoints)
    first = agent.request(b"GET", b"http://example.com/")
    (connection,) = endpoints.connections
    connection.dataReceived(OK)
    assert first.called
    second = agent.request(b"GET", b"http://example.com/again")
    assert len(endpoints.connections) == 1
    assert connection.state == "WAITING"
    assert b"GET /again HTTP/1.1" in connection.transport.value()  # type: ignore[attr-defined]
    connection.dataReceived(OK)
    assert second.called


def test_the_host_header_is_added_and_a_given_one_kept() -> None:
    from twisted.web.http_headers import Headers

    endpoints = CountingEndpoints()
    agent = _agent(endpoints)
    agent.request(b"GET", b"http://example.com:8080/")
    agent.request(b"GET", b"http://example.com:8080/", Headers({b"host": [b"elsewhere"]}))
    written = [c.transport.value() for c in endpoints.connections]  # type: ignore[attr-defined]
    assert b"Host: example.com:8080\r\n" in written[0]
    assert b"Host: elsewhere\r\n" in written[1]


def test_remembered_uris_are_bounded() -> None:
    endpoints = CountingEndpoints()
    agent = _agent(endpoints)
    agent.remembered_uris = 3
    for number in range(10):
        agent.request(b"GET", b"http://example.com/%d" % number)
        assert len(agent._uris) <= 3


def test_an_unsupported_scheme_fails_the_deferred() -> None:
    agent = Agent(MemoryReactorClock())
    failures: list[Any] = []
    agent.request(b"GET", b"ftp://example.com/").addErrback(failures.append)
    (failure,) = failures
    assert failure.type.__name__ == "SchemeNotSupported"


def test_the_default_pool_is_httpcharts_and_not_persistent() -> None:
    agent = Agent(MemoryReactorClock())
    assert isinstance(agent._pool, HTTPConnectionPool)
    assert agent._pool.persistent is False


@pytest.mark.usefixtures("served")
class TestOverLoopback(TestCase):
    """
    The agent against Twisted's web server, alone and under treq.
    """

    content: Content

    def setUp(self) -> None:
        self.server = TwistedWebServer(global_reactor, self.content)
        self.pool = HTTPConnectionPool(global_reactor)
        self.addCleanup(lambda: Deferred.fromCoroutine(self.server.stop()))
        self.addCleanup(self.pool.closeCachedConnections)

    async def test_requests_reuse_one_connection(self) -> None:
        agent = Agent(global_reactor, pool=self.pool)
        seen = set()
        for _ in range(3):
            response = await agent.request(b"GET", self.server.url("/small"))
            await readBody(response)
            seen.add(response.headers.getRawHeaders(b"x-connection")[0])
        assert len(seen) == 1

    async def test_treq_accepts_the_agent(self) -> None:
        client = treq.client.HTTPClient(Agent(global_reactor, pool=self.pool))
        response = await client.get(self.server.url("/small"))
        assert response.code == 200
        assert await response.content() == SMALL
