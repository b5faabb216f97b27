"""
httpchart under Twisted's Agent and treq, over real loopback sockets, against
real servers: Twisted's own web server and Debian's nginx.

Every case runs against both servers (L{EndToEnd} holds the cases; the two
classes at the bottom start the servers).  Each case is a trial test on the
real reactor, bounded by trial's C{timeout}; its pool is closed and every
connection it opened is seen lost before the case ends.
"""

from __future__ import annotations

import tracemalloc
import uuid
from io import BytesIO
from typing import Any, ClassVar

import pytest
import treq
from OpenSSL import SSL
from treq.client import HTTPClient
from twisted.internet import reactor
from twisted.internet.defer import gatherResults
from twisted.internet.ssl import Certificate
from twisted.trial.unittest import TestCase
from twisted.web.client import (
    Agent,
    BrowserLikePolicyForHTTPS,
    FileBodyProducer,
    ResponseFailed,
    ResponseNeverReceived,
)
from twisted.web.http_headers import Headers
from twisted.web.iweb import IBodyProducer, IResponse

from httpchart.protocol import BodyDiscarded, BodyTooLarge, HTTPConnectionPool, Response
from localservers.servers import LARGE, SMALL, Authority, Content, Nginx, TwistedWebServer

from .support.client_kit import (
    Chunks,
    Collect,
    Digest,
    Stalled,
    Tracker,
    Untouched,
    connection_of,
    read,
)

UPLOAD = bytes(range(256)) * 1024 + b"tail"
PARTS = [b"first part, ", b"second part, ", b"x" * 70000, b", last part"]


class EndToEnd:
    """
    The end-to-end cases, against the server a subclass provides.
    """

    timeout = 60
    content: ClassVar[Content]
    authority: ClassVar[Authority]

    def url(self, path: str) -> bytes:
        """
        The URL of C{path} on the server, over HTTP.
        """
        raise NotImplementedError

    def tls_url(self, path: str) -> bytes:
        """
        The URL of C{path} on the server, over HTTPS with the test
        authority's certificate.
        """
        raise NotImplementedError

    def brief_url(self, path: str) -> bytes:
        """
        The URL of C{path} on a server that closes idle connections quickly.
        """
        raise NotImplementedError

    async def uploaded(self, method: bytes, body: IBodyProducer) -> bytes:
        """
        Send C{body} with C{method}; the bytes the server received.
        """
        raise NotImplementedError

    def setUp(self) -> None:
        self.tracker, self.pool = self.new_pool()
        self.agent = Agent(reactor, pool=self.pool)

    def new_pool(self, persistent: bool = True) -> tuple[Tracker, HTTPConnectionPool]:
        """
        A pool whose connections are tracked, and closed when the test ends.
        """
        tracker = Tracker()
        pool = HTTPConnectionPool(reactor, persistent, observer=tracker)

        async def close() -> None:
            await pool.closeCachedConnections()
            await tracker.all_lost()

        self.addCleanup(close)  # type: ignore[attr-defined]
        return tracker, pool

    async def get(self, url: bytes, method: bytes = b"GET") -> tuple[IResponse, bytes]:
        response = await self.agent.request(method, url)
        return response, await read(response)

    async def test_get_small_body(self) -> None:
        response, body = await self.get(self.url("/small"))
        assert (response.code, body) == (200, SMALL)

    async def test_get_empty_body(self) -> None:
        response, body = await self.get(self.url("/empty"))
        assert (response.code, body) == (200, b"")
        assert response.length == 0

    async def test_head_gives_the_length_without_a_body_and_keeps_the_connection(self) -> None:
        head, body = await self.get(self.url("/small"), b"HEAD")
        assert (head.code, body) == (200, b"")
        assert head.headers.getRawHeaders(b"content-length") == [str(len(SMALL)).encode()]
        after, body = await self.get(self.url("/small"))
        assert body == SMALL
        assert connection_of(after) == connection_of(head)

    async def test_large_body_streams_to_the_consumer_in_bounded_memory(self) -> None:
        tracemalloc.start()
        try:
            response = await self.agent.request(b"GET", self.url("/large"))
            digest = Digest()
            response.deliverBody(digest)
            await digest.done
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert digest.size == LARGE
        assert digest.hexdigest() == self.content.large_sha256
        assert peak < LARGE // 10, f"peak traced memory {peak} bytes"

    async def test_put_with_content_length(self) -> None:
        assert await self.uploaded(b"PUT", FileBodyProducer(BytesIO(UPLOAD))) == UPLOAD

    async def test_put_chunked(self) -> None:
        assert await self.uploaded(b"PUT", Chunks(PARTS)) == b"".join(PARTS)

    async def test_persistent_connection_carries_every_request(self) -> None:
        connections = set()
        for _ in range(5):
            response, body = await self.get(self.url("/small"))
            assert body == SMALL
            connections.add(connection_of(response))
        assert len(connections) == 1
        assert len(self.tracker.opened) == 1

    async def test_non_persistent_pool_opens_a_connection_per_request(self) -> None:
        tracker, pool = self.new_pool(persistent=False)
        agent = Agent(reactor, pool=pool)
        connections = set()
        for _ in range(3):
            response = await agent.request(b"GET", self.url("/small"))
            assert await read(response) == SMALL
            connections.add(connection_of(response))
        assert len(connections) == 3
        await tracker.all_lost()
        for number in tracker.opened:
            assert "lose_transport" in tracker.effects(number)

    async def test_server_closing_the_connection_is_honoured(self) -> None:
        first, body = await self.get(self.url("/close/small"))
        assert body == SMALL
        (number,) = self.tracker.opened
        assert "lose_transport" in self.tracker.effects(number)
        await self.tracker.lost(number)
        second, body = await self.get(self.url("/close/small"))
        assert body == SMALL
        assert connection_of(second) != connection_of(first)

    async def test_idle_connection_closed_by_the_server_is_replaced(self) -> None:
        first, body = await self.get(self.brief_url("/small"))
        assert body == SMALL
        (number,) = self.tracker.opened
        await self.tracker.lost(number)
        last = self.tracker.transitions[number][-1]
        assert (last.source, last.event) == ("QUIESCENT", "connection_lost")
        second, body = await self.get(self.brief_url("/small"))
        assert body == SMALL
        assert connection_of(second) != connection_of(first)
        assert len(self.tracker.opened) == 2

    async def test_many_concurrent_requests(self) -> None:
        count = 40
        responses = await gatherResults(
            [self.agent.request(b"GET", self.url("/small")) for _ in range(count)]
        )
        bodies = await gatherResults([read(response) for response in responses])
        assert bodies == [SMALL] * count
        used = {connection_of(response) for response in responses}
        assert len(used) == len(self.tracker.opened) <= count
        again, body = await self.get(self.url("/small"))
        assert body == SMALL
        assert connection_of(again) in used

    async def test_https_through_the_standard_policy_with_a_test_authority(self) -> None:
        trust = Certificate.loadPEM(self.authority.ca_pem())
        agent = Agent(
            reactor, contextFactory=BrowserLikePolicyForHTTPS(trustRoot=trust), pool=self.pool
        )
        responses = []
        for _ in range(2):
            response = await agent.request(b"GET", self.tls_url("/small"))
            assert await read(response) == SMALL
            responses.append(response)
        assert connection_of(responses[0]) == connection_of(responses[1])

    async def test_https_refuses_a_server_the_policy_does_not_trust(self) -> None:
        stranger = Certificate.loadPEM(Authority().ca_pem())
        agent = Agent(
            reactor, contextFactory=BrowserLikePolicyForHTTPS(trustRoot=stranger), pool=self.pool
        )
        with pytest.raises(ResponseNeverReceived) as refused:
            await agent.request(b"GET", self.tls_url("/small"))
        (reason,) = refused.value.reasons
        assert reason.check(SSL.Error)
        assert "certificate verify failed" in str(reason.value)

    async def test_treq_on_top(self) -> None:
        response = await treq.get(self.url("/small"), pool=self.pool)
        assert await treq.content(response) == SMALL
        client = HTTPClient(Agent(reactor, pool=self.pool))
        response = await client.get(self.url("/small"), headers=Headers({b"x-by": [b"treq"]}))
        assert await response.text() == SMALL.decode()
        assert len(self.tracker.opened) == 1


class DiscardAndLimit(EndToEnd):
    """
    C{Response.discard()} and the body limit against the server: a discarded
    body whose rest is small is drained and the connection serves the next
    request; a large one aborts the connection; a Content-Length over a
    pool's limit fails the request at its head.
    """

    async def test_discarding_a_large_body_aborts_the_connection(self) -> None:
        response = await self.agent.request(b"GET", self.url("/large"))
        assert await response.discard() is False  # type: ignore[attr-defined]
        (number,) = self.tracker.opened
        await self.tracker.lost(number)
        assert "abort_transport" in self.tracker.effects(number)
        after, body = await self.get(self.url("/small"))
        assert body == SMALL
        assert connection_of(after) != connection_of(response)

    async def test_discarding_a_small_rest_keeps_the_connection(self) -> None:
        """
        With a drain limit above the large file, discarding it reads the
        rest (the transport was paused at the head, so most of it is still
        to come) and the next request reuses the connection.
        """
        self.patch(Response, "drain_limit", LARGE)  # type: ignore[attr-defined]
        response = await self.agent.request(b"GET", self.url("/large"))
        assert response._received < LARGE  # type: ignore[attr-defined]
        assert await response.discard() is True  # type: ignore[attr-defined]
        after, body = await self.get(self.url("/small"))
        assert body == SMALL
        assert connection_of(after) == connection_of(response)
        assert len(self.tracker.opened) == 1

    async def test_discarding_a_body_already_in_keeps_the_connection(self) -> None:
        for method in (b"GET", b"HEAD"):
            response = await self.agent.request(method, self.url("/small"))
            assert await response.discard() is True  # type: ignore[attr-defined]
        _, body = await self.get(self.url("/small"))
        assert body == SMALL
        assert len(self.tracker.opened) == 1

    async def test_discarding_while_a_consumer_reads(self) -> None:
        response = await self.agent.request(b"GET", self.url("/large"))
        collect = Collect()
        response.deliverBody(collect)
        discarded = await response.discard()  # type: ignore[attr-defined]
        with pytest.raises(ResponseFailed) as failed:
            await collect.done
        assert failed.value.reasons[0].check(BodyDiscarded)
        assert discarded is False
        _, body = await self.get(self.url("/small"))
        assert body == SMALL

    async def test_treq_reaches_discard_through_the_original_response(self) -> None:
        response = await treq.get(self.url("/large"), pool=self.pool, unbuffered=True)
        assert await response.original.discard() is False
        response = await treq.get(self.url("/small"), pool=self.pool, unbuffered=True)
        assert await response.original.discard() is True
        assert await treq.content(await treq.get(self.url("/small"), pool=self.pool)) == SMALL

    async def test_a_content_length_over_the_pool_limit_fails_at_the_head(self) -> None:
        tracker, pool = self.new_pool()
        pool.max_body_size = 1024 * 1024
        agent = Agent(reactor, pool=pool)
        with pytest.raises(ResponseFailed) as failed:
            await agent.request(b"GET", self.url("/large"))
        (reason,) = failed.value.reasons
        assert reason.check(BodyTooLarge)
        assert (reason.value.limit, reason.value.length) == (1024 * 1024, LARGE)
        (number,) = tracker.opened
        await tracker.lost(number)
        head = await agent.request(b"HEAD", self.url("/large"))
        assert head.headers.getRawHeaders(b"content-length") == [str(LARGE).encode()]
        assert await read(head) == b""
        response = await agent.request(b"GET", self.url("/small"))
        assert await read(response) == SMALL


class TestTwistedWebServer(DiscardAndLimit, TestCase):
    """
    The cases against Twisted's own web server.
    """

    pytestmark = pytest.mark.usefixtures("served")

    def setUp(self) -> None:
        self.servers: list[TwistedWebServer] = []
        self.addCleanup(self.stop_servers)
        self.server = self.start()
        super().setUp()

    def start(self, **options: Any) -> TwistedWebServer:
        """
        Start a server; it is stopped after the test's pools are closed.
        """
        server = TwistedWebServer(reactor, self.content, **options)
        self.servers.append(server)
        return server

    async def stop_servers(self) -> None:
        for server in self.servers:
            await server.stop()

    def url(self, path: str) -> bytes:
        return self.server.url(path)

    def tls_url(self, path: str) -> bytes:
        return self.start(tls=self.authority).url(path)

    def brief_url(self, path: str) -> bytes:
        if not hasattr(self, "brief"):
            self.brief = self.start(idle_timeout=0.2)
        return self.brief.url(path)

    async def uploaded(self, method: bytes, body: IBodyProducer) -> bytes:
        response = await self.agent.request(method, self.url("/echo"), None, body)
        assert response.headers.getRawHeaders(b"x-method") == [method]
        chunked = b"yes" if isinstance(body, Chunks) else b"no"
        assert response.headers.getRawHeaders(b"x-chunked") == [chunked]
        return await read(response)

    async def test_post_with_content_length(self) -> None:
        assert await self.uploaded(b"POST", FileBodyProducer(BytesIO(UPLOAD))) == UPLOAD

    async def test_post_chunked(self) -> None:
        assert await self.uploaded(b"POST", Chunks(PARTS)) == b"".join(PARTS)

    async def test_expect_continue_gets_100_and_sends_the_body(self) -> None:
        """
        Twisted's web server answers C{Expect: 100-continue} with C{100
        Continue}: the body follows it, and the echo is the body.
        """
        for body in (FileBodyProducer(BytesIO(UPLOAD)), Chunks(PARTS)):
            headers = Headers({b"expect": [b"100-continue"]})
            response = await self.agent.request(b"POST", self.url("/echo"), headers, body)
            expected = UPLOAD if isinstance(body, FileBodyProducer) else b"".join(PARTS)
            assert await read(response) == expected
        (number,) = self.tracker.opened
        path = [(r.source, r.event, r.target) for r in self.tracker.transitions[number]]
        taken = ("AWAITING_CONTINUE", "continue_received", "TRANSMITTING")
        assert path.count(taken) == 2
        assert ("QUIESCENT", "issue", "AWAITING_CONTINUE") in path

    async def test_expect_continue_through_treq(self) -> None:
        response = await treq.post(
            self.url("/echo"),
            data=b"sent after 100 Continue",
            headers={b"Expect": [b"100-continue"]},
            pool=self.pool,
        )
        assert await treq.content(response) == b"sent after 100 Continue"
        (number,) = self.tracker.opened
        events = [r.event for r in self.tracker.transitions[number]]
        assert "continue_received" in events


class TestNginx(DiscardAndLimit, TestCase):
    """
    The cases against Debian's nginx.
    """

    pytestmark = pytest.mark.usefixtures("served", "nginx")
    nginx: ClassVar[Nginx]

    def url(self, path: str) -> bytes:
        return self.nginx.url(path)

    def tls_url(self, path: str) -> bytes:
        return self.nginx.url(path, port="https")

    def brief_url(self, path: str) -> bytes:
        return self.nginx.url(path, port="brief")

    async def uploaded(self, method: bytes, body: IBodyProducer) -> bytes:
        path = f"/dav/{uuid.uuid4().hex}"
        stored = await self.agent.request(method, self.url(path), None, body)
        assert stored.code == 201
        await read(stored)
        response, content = await self.get(self.url(path))
        assert connection_of(response) == connection_of(stored)
        return content

    async def test_post_gets_its_answer_and_no_connection_is_reused_after_an_early_one(
        self,
    ) -> None:
        """
        nginx answers a POST to C{/post} without waiting for its body, so the
        answer may come while the body is still being sent.  Whenever it
        does, the connection carries no further request.
        """
        for body in (FileBodyProducer(BytesIO(UPLOAD)), Chunks(PARTS)):
            response = await self.agent.request(b"POST", self.url("/post"), None, body)
            assert response.code == 204
            assert await read(response) == b""
        _, content = await self.get(self.url("/small"))
        assert content == SMALL
        for number in self.tracker.opened:
            events = [(r.event, r.target) for r in self.tracker.transitions[number]]
            early = ("response_done", "TRANSMITTING_AFTER_RECEIVING_RESPONSE")
            if early in events:
                later = events[events.index(early) :]
                assert ("issue", "TRANSMITTING") not in later

    async def test_expect_continue_gets_413_without_producing_the_body(self) -> None:
        """
        nginx refuses a body larger than C{client_max_body_size} from its
        announced length: the 413 arrives before any C{100 Continue}, the
        10 MB body is never produced, and the connection is closed after it.
        """
        body = Untouched(10 * 1024 * 1024)
        headers = Headers({b"expect": [b"100-continue"]})
        response = await self.agent.request(b"PUT", self.url("/tiny-uploads"), headers, body)
        assert response.code == 413
        await read(response)
        assert not body.started
        (number,) = self.tracker.opened
        await self.tracker.lost(number)
        path = [(r.source, r.event, r.target) for r in self.tracker.transitions[number]]
        assert ("AWAITING_CONTINUE", "head_received", "WAITING") in path
        assert "send_body" not in self.tracker.effects(number)
        assert "lose_transport" in self.tracker.effects(number)

    async def test_answer_before_the_body_is_sent_ends_the_connection(self) -> None:
        body = Stalled(b"the start of a body that never ends")
        response = await self.agent.request(b"POST", self.url("/post"), None, body)
        assert response.code == 204
        assert await read(response) == b""
        (number,) = self.tracker.opened
        await self.tracker.lost(number)
        early = [(r.source, r.event, r.target) for r in self.tracker.transitions[number]]
        assert ("TRANSMITTING", "response_done", "TRANSMITTING_AFTER_RECEIVING_RESPONSE") in early
        assert "lose_transport" in self.tracker.effects(number)
        assert body.stopped
