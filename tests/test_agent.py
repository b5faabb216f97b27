"""
httpchart's Agent: Twisted's Agent without the per-request parsing and
endpoint building, on httpchart's pool.  (Twisted's own Agent tests run
against it in tests/test_twisted_agent.py.)
"""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest
import treq
from twisted.internet import reactor as global_reactor
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.trial.unittest import TestCase
from twisted.web.client import URI, readBody
from twisted.web.error import SchemeNotSupported
from twisted.web.iweb import IAgentEndpointFactory
from zope.interface import implementer

from httpchart.protocol import (
    DEFAULT_MAX_CACHED_TARGETS,
    Agent,
    HTTP11ClientProtocol,
    HTTPConnectionPool,
    read_body,
)
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


def _agent(endpoints: CountingEndpoints, max_cached_targets: int | None = None) -> Agent:
    pool = HTTPConnectionPool(MemoryReactorClock(), persistent=True)
    return Agent.usingEndpointFactory(
        MemoryReactorClock(), endpoints, pool=pool, max_cached_targets=max_cached_targets
    )


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

    async def test_read_body_reads_each_body_on_one_connection(self) -> None:
        agent = Agent(global_reactor, pool=self.pool)
        seen = set()
        for path in ("/small", "/empty", "/small"):
            response = await agent.request(b"GET", self.server.url(path))
            assert await read_body(response) == (SMALL if path == "/small" else b"")
            seen.add(response.headers.getRawHeaders(b"x-connection")[0])
        assert len(seen) == 1

    async def test_treq_accepts_the_agent(self) -> None:
        client = treq.client.HTTPClient(Agent(global_reactor, pool=self.pool))
        response = await client.get(self.server.url("/small"))
        assert response.code == 200
        assert await response.content() == SMALL


def _crawl(agent: Agent, hosts: list[int]) -> None:
    """
    One request to each of C{hosts} (numbers, in that order), left
    unanswered.
    """
    for host in hosts:
        agent.request(b"GET", b"http://host%d.example/page" % host)


def test_a_crawl_over_many_hosts_keeps_the_cache_bounded() -> None:
    endpoints = CountingEndpoints()
    pool = HTTPConnectionPool(MemoryReactorClock(), persistent=False)
    agent = Agent.usingEndpointFactory(
        MemoryReactorClock(), endpoints, pool=pool, max_cached_targets=4
    )
    made: list[weakref.ref[Any]] = []
    original = endpoints.endpointForURI

    def tracked(uri: URI) -> IStreamClientEndpoint:
        endpoint = original(uri)
        made.append(weakref.ref(endpoint))
        return endpoint

    endpoints.endpointForURI = tracked  # type: ignore[method-assign]
    _crawl(agent, list(range(200)))
    for connection in endpoints.connections:
        connection.dataReceived(OK)
    del endpoints.connections[:]
    gc.collect()
    assert len(made) == 200
    assert len([endpoint for endpoint in made if endpoint() is not None]) <= 4
    assert len(agent._targets) == 4


def test_hits_stay_hits_while_other_hosts_come_and_go() -> None:
    endpoints = CountingEndpoints()
    agent = _agent(endpoints, max_cached_targets=3)
    # Host 0 is visited between every two other hosts: always among the
    # three used last, it is never asked for again, while the others are
    # asked for each time they come back after falling out.
    _crawl(agent, [0, 1, 0, 2, 0, 3, 0, 1, 0, 2, 0, 3])
    asked = [uri.split(b"/")[2] for uri in endpoints.asked]
    assert asked.count(b"host0.example") == 1
    assert asked.count(b"host1.example") == 2
    # Hosts used last stay cached: 0 and 3 again ask nothing.
    before = len(endpoints.asked)
    _crawl(agent, [3, 0, 3, 0])
    assert len(endpoints.asked) == before


def test_the_least_recently_used_target_is_forgotten_first() -> None:
    endpoints = CountingEndpoints()
    agent = _agent(endpoints, max_cached_targets=2)
    _crawl(agent, [1, 2, 1, 3])  # 2 is the least recently used when 3 comes
    del endpoints.asked[:]
    _crawl(agent, [1, 3])
    assert endpoints.asked == []
    _crawl(agent, [2])
    assert endpoints.asked == [b"http://host2.example/page"]


def test_max_cached_targets_has_a_default_and_can_be_set() -> None:
    reactor = MemoryReactorClock()
    assert Agent(reactor).max_cached_targets == DEFAULT_MAX_CACHED_TARGETS
    assert Agent(reactor, max_cached_targets=7).max_cached_targets == 7
    endpoints = CountingEndpoints()
    agent = _agent(endpoints, max_cached_targets=5)
    assert agent.max_cached_targets == 5
    _crawl(agent, [1, 2, 3, 4, 5])
    agent.max_cached_targets = 2  # forgets at once all but the two used last
    assert len(agent._targets) == 2
    del endpoints.asked[:]
    _crawl(agent, [4, 5, 1])
    assert endpoints.asked == [b"http://host1.example/page"]
    for wrong in (0, -1):
        with pytest.raises(ValueError, match="at least 1"):
            agent.max_cached_targets = wrong
        with pytest.raises(ValueError, match="at least 1"):
            Agent(reactor, max_cached_targets=wrong)


def test_a_target_without_an_endpoint_is_not_cached() -> None:
    agent = Agent(MemoryReactorClock(), max_cached_targets=1)
    agent.request(b"GET", b"http://example.com/")
    failures: list[Any] = []
    agent.request(b"GET", b"ftp://example.com/").addErrback(failures.append)
    assert [failure.type for failure in failures] == [SchemeNotSupported]
    assert list(agent._targets) == [(b"http", b"example.com", 80)]


def test_a_remembered_request_has_twisteds_attributes() -> None:
    endpoints = CountingEndpoints()
    agent = _agent(endpoints)
    responses = [agent.request(b"GET", b"http://example.com:8080/a?b=c") for _ in range(2)]
    for connection in endpoints.connections:
        connection.dataReceived(OK)
    for response in responses:
        request = _result(response).request
        assert request.method == b"GET"
        assert request.absoluteURI == b"http://example.com:8080/a?b=c"
        assert request.headers.getRawHeaders(b"host") == [b"example.com:8080"]


def test_a_remembered_request_follows_the_pools_persistence() -> None:
    endpoints = CountingEndpoints()
    agent = _agent(endpoints)
    for persistent in (True, False, True):
        agent._pool.persistent = persistent
        agent.request(b"GET", b"http://example.com/")
    written = [c.transport.value() for c in endpoints.connections]  # type: ignore[attr-defined]
    assert [b"Connection: close\r\n" in head for head in written] == [False, True, False]


def test_an_invalid_method_is_refused_every_time() -> None:
    agent = _agent(CountingEndpoints())
    for _ in range(2):
        with pytest.raises(ValueError, match="Invalid method"):
            agent.request(b"GE T", b"http://example.com/")
        with pytest.raises(TypeError):
            agent.request("GET", b"http://example.com/")  # type: ignore[arg-type]


def _result(deferred: Deferred[Any]) -> Any:
    outcome: list[Any] = []
    deferred.addBoth(outcome.append)
    (result,) = outcome
    return result
