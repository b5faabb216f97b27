"""
Through a real proxy, over loopback: Debian's tinyproxy (started and stopped
by the tests, with a configuration generated for the run) in front of
Twisted's web server over TLS (a certificate from the test authority) and
nginx over HTTP.

Each case is a trial test on the real reactor.  Its pool is closed and every
connection it opened is seen lost before the case ends; a case that expects
a failure also checks that the pool keeps no connection.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any, ClassVar

import pytest
import treq
from twisted.internet import reactor
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.ssl import Certificate
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import TestCase
from twisted.web.client import BrowserLikePolicyForHTTPS, FileBodyProducer

from httpchart.protocol import (
    HTTPConnectionPool,
    OriginTLSFailed,
    ProxyAgent,
    ProxyAuthenticationRequired,
    ProxyReplyMalformed,
    ProxyUnreachable,
    Trace,
    TunnelLost,
    TunnelRefused,
    TunnelTimeout,
    environment_agent,
)
from localservers.servers import SMALL, Authority, Content, Nginx, TwistedWebServer, free_port
from localservers.tinyproxy import PROXY_USER, TinyProxy

from .support.client_kit import Chunks, Tracker, connection_of, read

UPLOAD = bytes(range(256)) * 512 + b"tail"
PARTS = [b"first part, ", b"second part, ", b"x" * 70000, b", last part"]


class _Hangup(Protocol):
    def connectionMade(self) -> None:
        self.transport.loseConnection()  # type: ignore[union-attr]


class _Silent(Protocol):
    """
    A proxy that accepts connections and never answers.
    """


class _Babbling(Protocol):
    """
    A proxy that answers CONNECT with something that is not HTTP.
    """

    def dataReceived(self, data: bytes) -> None:
        self.transport.write(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")  # type: ignore[union-attr]


class TestThroughTinyproxy(TestCase):
    """
    HTTPS tunnels and HTTP forwarding through tinyproxy.
    """

    timeout = 60
    pytestmark = pytest.mark.usefixtures("served", "nginx", "tinyproxy")
    content: ClassVar[Content]
    authority: ClassVar[Authority]
    nginx: ClassVar[Nginx]
    tinyproxy: ClassVar[TinyProxy]
    guarded_tinyproxy: ClassVar[TinyProxy]

    def setUp(self) -> None:
        self.origin = TwistedWebServer(reactor, self.content, tls=self.authority)
        self.addCleanup(self.origin.stop)
        self.tracker = Tracker()
        self.pool = HTTPConnectionPool(reactor, observer=self.tracker)
        self.addCleanup(self.close_pool)
        trust = Certificate.loadPEM(self.authority.ca_pem())
        self.policy = BrowserLikePolicyForHTTPS(trustRoot=trust)
        self.agent = self.through(self.tinyproxy.url())

    async def close_pool(self) -> None:
        await self.pool.closeCachedConnections()
        await self.tracker.all_lost()

    def through(self, proxy: bytes, **options: Any) -> ProxyAgent:
        options.setdefault("contextFactory", self.policy)
        return ProxyAgent(reactor, proxy, pool=self.pool, **options)

    def assert_nothing_pooled(self) -> None:
        assert self.pool._connections == {}

    async def test_get_through_the_tunnel(self) -> None:
        response = await self.agent.request(b"GET", self.origin.url("/small"))
        assert (response.code, await read(response)) == (200, SMALL)
        assert self.tinyproxy.requests()[-1].startswith("CONNECT 127.0.0.1:")

    async def test_post_with_bodies_through_the_tunnel(self) -> None:
        for body, sent in (
            (FileBodyProducer(BytesIO(UPLOAD)), UPLOAD),
            (Chunks(PARTS), b"".join(PARTS)),
        ):
            response = await self.agent.request(b"POST", self.origin.url("/echo"), None, body)
            assert response.code == 200
            assert await read(response) == sent

    async def test_several_requests_reuse_one_tunnel(self) -> None:
        before = self.tinyproxy.connects()
        connections = set()
        for path in ("/small", "/empty", "/small", "/small", "/empty"):
            response = await self.agent.request(b"GET", self.origin.url(path))
            await read(response)
            connections.add(connection_of(response))
        assert len(connections) == 1
        assert len(self.tracker.opened) == 1
        assert self.tinyproxy.connects() - before == 1

    async def test_tunnels_are_pooled_apart_from_direct_connections(self) -> None:
        from httpchart.protocol import Agent

        direct = Agent(reactor, contextFactory=self.policy, pool=self.pool)
        before = self.tinyproxy.connects()
        tunnelled = await self.agent.request(b"GET", self.origin.url("/small"))
        await read(tunnelled)
        straight = await direct.request(b"GET", self.origin.url("/small"))
        await read(straight)
        assert connection_of(tunnelled) != connection_of(straight)
        again = await self.agent.request(b"GET", self.origin.url("/small"))
        await read(again)
        assert connection_of(again) == connection_of(tunnelled)
        assert self.tinyproxy.connects() - before == 1

    async def test_http_is_forwarded_in_absolute_form(self) -> None:
        plain = TwistedWebServer(reactor, self.content)
        self.addCleanup(plain.stop)
        posted = await self.agent.request(
            b"POST", plain.url("/echo"), None, FileBodyProducer(BytesIO(UPLOAD))
        )
        assert (posted.code, await read(posted)) == (200, UPLOAD)
        url = self.nginx.url("/small")
        response = await self.agent.request(b"GET", url)
        assert (response.code, await read(response)) == (200, SMALL)
        assert self.tinyproxy.requests()[-2:] == [
            f"POST {plain.url('/echo').decode()} HTTP/1.1",
            f"GET {url.decode()} HTTP/1.1",
        ]

    async def test_credentials_open_the_guarded_proxy(self) -> None:
        agent = self.through(self.guarded_tinyproxy.url(credentials=PROXY_USER))
        response = await agent.request(b"GET", self.origin.url("/small"))
        assert await read(response) == SMALL
        forwarded = await agent.request(b"GET", self.nginx.url("/small"))
        assert await read(forwarded) == SMALL

    async def test_no_credentials_is_a_407_with_its_challenge(self) -> None:
        agent = self.through(self.guarded_tinyproxy.url())
        with pytest.raises(ProxyAuthenticationRequired) as refused:
            await agent.request(b"GET", self.origin.url("/small"))
        assert refused.value.status == 407
        assert refused.value.challenge == (b'Basic realm="Tinyproxy"',)
        assert not refused.value.credentials_sent
        self.assert_nothing_pooled()

    async def test_wrong_credentials_are_refused_and_never_shown(self) -> None:
        wrong = (PROXY_USER[0], "not-the-password")
        agent = self.through(self.guarded_tinyproxy.url(credentials=wrong))
        logged: list[str] = []
        globalLogPublisher.addObserver(lambda event: logged.append(repr(event)))
        trace = BytesIO()
        traced = HTTPConnectionPool(reactor, observer=Trace(_Text(trace)))
        self.addCleanup(traced.closeCachedConnections)
        traced_agent = ProxyAgent(reactor, agent.proxy, pool=traced, contextFactory=self.policy)
        for each in (agent, traced_agent):
            with pytest.raises(ProxyAuthenticationRequired) as refused:
                await each.request(b"GET", self.origin.url("/small"))
            assert refused.value.credentials_sent
            assert refused.value.status in (401, 407)
            shown = [str(refused.value), repr(refused.value), repr(each), repr(each.proxy)]
            assert not any("not-the-password" in text for text in shown)
        assert not any("not-the-password" in text for text in logged)
        assert b"not-the-password" not in trace.getvalue()
        assert "not-the-password" not in self.guarded_tinyproxy.log.read_text()
        self.assert_nothing_pooled()

    async def test_connect_to_a_dead_port_surfaces_the_proxys_5xx(self) -> None:
        dead = f"https://127.0.0.1:{free_port()}/".encode()
        with pytest.raises(TunnelRefused) as refused:
            await self.agent.request(b"GET", dead)
        assert refused.value.status == 500
        assert refused.value.reason == b"Unable to connect"
        assert b"Unable to connect" in refused.value.body
        assert "500 Unable to connect" in str(refused.value)
        self.assert_nothing_pooled()

    async def test_an_untrusted_origin_certificate_is_refused(self) -> None:
        stranger = Certificate.loadPEM(Authority().ca_pem())
        agent = self.through(
            self.tinyproxy.url(), contextFactory=BrowserLikePolicyForHTTPS(trustRoot=stranger)
        )
        with pytest.raises(OriginTLSFailed) as refused:
            await agent.request(b"GET", self.origin.url("/small"))
        assert "certificate verify failed" in str(refused.value)
        self.assert_nothing_pooled()

    async def test_a_tunnel_lost_before_tls_finished(self) -> None:
        port = reactor.listenTCP(  # type: ignore[attr-defined]
            0, Factory.forProtocol(_Hangup), interface="127.0.0.1"
        )
        self.addCleanup(port.stopListening)
        with pytest.raises(TunnelLost) as lost:
            await self.agent.request(b"GET", f"https://127.0.0.1:{port.getHost().port}/".encode())
        assert "before TLS with the origin finished" in str(lost.value)
        self.assert_nothing_pooled()

    async def test_a_proxy_refusing_the_connection(self) -> None:
        agent = self.through(f"http://user:pw@127.0.0.1:{free_port()}".encode())
        with pytest.raises(ProxyUnreachable) as unreachable:
            await agent.request(b"GET", self.origin.url("/small"))
        assert "refused the connection" in str(unreachable.value)
        assert "pw" not in str(unreachable.value).replace("proxy", "")
        self.assert_nothing_pooled()

    def fake_proxy(self, protocol: type[Protocol]) -> bytes:
        port = reactor.listenTCP(  # type: ignore[attr-defined]
            0, Factory.forProtocol(protocol), interface="127.0.0.1"
        )
        self.addCleanup(port.stopListening)
        return f"http://127.0.0.1:{port.getHost().port}".encode()

    async def test_a_silent_proxy_times_out_instead_of_hanging(self) -> None:
        agent = self.through(self.fake_proxy(_Silent), connectTimeout=0.5)
        with pytest.raises(TunnelTimeout) as late:
            await agent.request(b"GET", self.origin.url("/small"))
        assert "within 0.5 seconds" in str(late.value)
        self.assert_nothing_pooled()

    async def test_a_proxy_that_is_not_http_is_refused(self) -> None:
        agent = self.through(self.fake_proxy(_Babbling))
        with pytest.raises(ProxyReplyMalformed) as malformed:
            await agent.request(b"GET", self.origin.url("/small"))
        assert "not an HTTP status line" in str(malformed.value)
        self.assert_nothing_pooled()

    async def test_no_proxy_is_honoured(self) -> None:
        proxy = self.tinyproxy.url().decode()
        environ = {"https_proxy": proxy, "HTTP_PROXY": proxy, "no_proxy": "localhost"}
        agent = environment_agent(
            reactor, pool=self.pool, contextFactory=self.policy, environ=environ
        )
        before = len(self.tinyproxy.requests())
        response = await agent.request(b"GET", self.origin.url("/small"))
        assert await read(response) == SMALL
        forwarded = await agent.request(b"GET", self.nginx.url("/small"))
        assert await read(forwarded) == SMALL
        assert len(self.tinyproxy.requests()) - before == 2
        environ["no_proxy"] = "example.com, 127.0.0.1"
        direct = environment_agent(
            reactor, pool=self.pool, contextFactory=self.policy, environ=environ
        )
        response = await direct.request(b"GET", self.origin.url("/small"))
        assert await read(response) == SMALL
        plain = await direct.request(b"GET", self.nginx.url("/small"))
        assert await read(plain) == SMALL
        assert len(self.tinyproxy.requests()) - before == 2

    async def test_treq_on_top(self) -> None:
        response = await treq.get(self.origin.url("/small"), agent=self.agent)
        assert await treq.text_content(response) == SMALL.decode()
        posted = await treq.post(self.origin.url("/echo"), data=b"through treq", agent=self.agent)
        assert await treq.content(posted) == b"through treq"


class _Text:
    """
    A text stream writing UTF-8 into a L{BytesIO}, for L{Trace}.
    """

    def __init__(self, sink: BytesIO) -> None:
        self.sink = sink

    def write(self, text: str) -> int:
        return self.sink.write(text.encode())

    def flush(self) -> None:
        pass
