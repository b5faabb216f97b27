"""
L{Agent}: Twisted's L{twisted.web.client.Agent}, on httpchart's connections,
without the work it repeats on every request.

Twisted's agent parses the request's URI and builds a new endpoint (a
L{HostnameEndpoint <twisted.internet.endpoints.HostnameEndpoint>}, wrapped for
TLS when needed) for every request; on a small request over a pooled connection
that is a good part of the agent's cost.  This agent remembers both: the parsed
form of each URI it has seen (a bounded number of them), and one endpoint and
one Host header per (scheme, host, port).  An idle pooled connection is taken
and used at once, instead of through a Deferred callback that returns another
Deferred.

Everything else is Twisted's: the constructor and its options (the HTTPS
policy, the connect timeout, the bind address, the pool), C{usingEndpointFactory},
the pool's caching, limits and retries, the request and its validation.  Its
default pool is httpchart's L{HTTPConnectionPool}, not persistent, as
Twisted's agent's default pool is not.  An endpoint factory given to
C{usingEndpointFactory} is asked once per (scheme, host, port), the key the
pool keeps connections under.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.python.failure import Failure
from twisted.web import client
from twisted.web._newclient import Request, _ensureValidMethod, _ensureValidURI
from twisted.web.client import URI
from twisted.web.error import SchemeNotSupported
from twisted.web.http_headers import Headers
from twisted.web.iweb import IBodyProducer, IResponse

from .expect import HeadCollector
from .pool import HTTPConnectionPool
from .timeouts import Timeouts

_Key = tuple[bytes, bytes, int]


class Agent(client.Agent):
    """
    An L{IAgent <twisted.web.iweb.IAgent>} that sends each request over an
    httpchart connection from its pool, a drop-in for
    L{twisted.web.client.Agent}.

    @cvar remembered_uris: How many parsed URIs the agent keeps; when full,
        it forgets them all and starts again.
    """

    remembered_uris = 1024

    def _init(self, reactor: Any, endpointFactory: Any, pool: Any) -> None:
        if pool is None:
            pool = HTTPConnectionPool(reactor, persistent=False)
        super()._init(reactor, endpointFactory, pool)  # type: ignore[no-untyped-call]
        self._uris: dict[bytes, tuple[URI, bytes]] = {}
        self._heads: dict[tuple[bytes, bytes, bool], bytes] = {}
        self._targets: dict[Any, tuple[IStreamClientEndpoint, bytes]] = {}

    def request(
        self,
        method: bytes,
        uri: bytes,
        headers: Headers | None = None,
        bodyProducer: IBodyProducer | None = None,
        *,
        timeouts: Timeouts | None = None,
    ) -> Deferred[IResponse]:
        """
        Issue a request to the server C{uri} names, on a pooled connection or
        a new one.

        @param timeouts: This request's L{Timeouts}, instead of those of the
            pool's connections.
        @see: L{twisted.web.iweb.IAgent.request}
        """
        if not isinstance(method, bytes):
            raise TypeError(f"method={method!r} is {type(method)}, but must be bytes")
        method = _ensureValidMethod(method)
        parsed, path = self._parsed(uri)
        key = self._key(parsed)
        try:
            endpoint, host = self._target(key, parsed)
        except SchemeNotSupported:
            return fail(Failure())
        persistent = self._pool.persistent
        remembered = headers is None and bodyProducer is None
        if headers is None:
            headers = Headers({b"host": [host]})
        elif not headers.hasHeader(b"host"):
            headers = headers.copy()
            headers.addRawHeader(b"host", host)
        request = (_Remembered if remembered else Request)._construct(
            method, path, headers, bodyProducer, persistent=persistent, parsedURI=parsed
        )
        if timeouts is not None:
            request.timeouts = timeouts
        if remembered:
            key_bytes = (method, uri, persistent)
            head = self._heads.get(key_bytes)
            if head is None:
                head = self._heads[key_bytes] = _written_head(request)
            request.head = head
        taken: list[Any] = []
        waiting = False

        def connected(connection: Any) -> Any:
            if waiting:
                return connection.request(request)
            taken.append(connection)
            return None

        connecting: Deferred[Any] = self._pool.getConnection(key, endpoint)
        connecting.addCallback(connected)
        if taken:
            response: Deferred[IResponse] = taken[0].request(request)
            return response
        waiting = True
        return connecting

    def _parsed(self, uri: bytes) -> tuple[URI, bytes]:
        """
        C{uri} parsed, and the path (with query) a request for it names.
        """
        parsed = self._uris.get(uri)
        if parsed is None:
            found = URI.fromBytes(_ensureValidURI(uri.strip()))
            if len(self._uris) >= self.remembered_uris:
                self._uris.clear()
                self._heads.clear()
            parsed = self._uris[uri] = (found, found.originForm)
        return parsed

    def _key(self, parsed: URI) -> _Key:
        """
        The key the pool keeps connections for C{parsed} under; a subclass
        that connects elsewhere (through a proxy) chooses keys of its own.
        """
        return (parsed.scheme, parsed.host, parsed.port)

    def _target(self, key: Any, parsed: URI) -> tuple[IStreamClientEndpoint, bytes]:
        target = self._targets.get(key)
        if target is None:
            endpoint = self._getEndpoint(parsed)  # type: ignore[no-untyped-call]
            host = self._computeHostValue(  # type: ignore[no-untyped-call]
                parsed.scheme, parsed.host, parsed.port
            )
            target = self._targets[key] = (endpoint, host)
        return target


class _Remembered(Request):
    """
    A request without headers or body of its own, whose bytes the agent
    already knows.
    """

    head = b""

    def writeTo(self, transport: Any) -> Deferred[None]:
        transport.write(self.head)
        return succeed(None)


def _written_head(request: Request) -> bytes:
    """
    The bytes Twisted's L{Request} writes for C{request}, which has no body.
    """
    collector = HeadCollector()
    Request.writeTo(request, collector)
    return b"".join(collector.written)
