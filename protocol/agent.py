"""
L{Agent}: Twisted's L{twisted.web.client.Agent}, on httpchart's connections,
without the work it repeats on every request.

Twisted's agent parses the request's URI and builds a new endpoint (a
L{HostnameEndpoint <twisted.internet.endpoints.HostnameEndpoint>}, wrapped for
TLS when needed) for every request; on a small request over a pooled connection
that is a good part of the agent's cost.  This agent remembers the parsed form
of each URI it has seen (a bounded number of them) with the bytes of its
bodyless requests, and one endpoint and one Host header per (scheme, host,
port) for the targets it used last (at most L{Agent.max_cached_targets} of
them, least recently used first out, so that a crawler visiting many hosts
does not keep an endpoint and a TLS connection creator for each).  An idle
pooled connection is taken and used at once, instead of through a Deferred
callback that returns another Deferred.

Everything else is Twisted's: the constructor and its options (the HTTPS
policy, the connect timeout, the bind address, the pool), C{usingEndpointFactory},
the pool's caching, limits and retries, the request and its validation.  Its
default pool is httpchart's L{HTTPConnectionPool}, not persistent, as
Twisted's agent's default pool is not.  An endpoint factory given to
C{usingEndpointFactory} is asked once per (scheme, host, port), the key the
pool keeps connections under, while that target stays in the cache.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.python.failure import Failure
from twisted.web import client
from twisted.web._newclient import Request, _ensureValidMethod, _ensureValidURI
from twisted.web.client import URI
from twisted.web.error import SchemeNotSupported
from twisted.web.http_headers import Headers
from twisted.web.iweb import IBodyProducer, IPolicyForHTTPS, IResponse

from .expect import HeadCollector
from .pool import HTTPConnectionPool
from .timeouts import Timeouts

DEFAULT_MAX_CACHED_TARGETS = 256
"""
How many targets (scheme, host, port) an L{Agent} keeps an endpoint and a
Host header for, unless told otherwise.
"""

_DEFAULT_POLICY = client.BrowserLikePolicyForHTTPS()


class Agent(client.Agent):
    """
    An L{IAgent <twisted.web.iweb.IAgent>} that sends each request over an
    httpchart connection from its pool, a drop-in for
    L{twisted.web.client.Agent}.

    Both constructors (C{Agent(reactor, ...)} and
    C{Agent.usingEndpointFactory(reactor, endpointFactory, pool=None)}) take
    Twisted's arguments and one keyword of httpchart's,
    C{max_cached_targets}: see L{max_cached_targets}.

    @cvar remembered_uris: How many parsed URIs the agent keeps; when full,
        it forgets them all and starts again.
    """

    remembered_uris = 1024

    _max_targets = DEFAULT_MAX_CACHED_TARGETS

    def __init__(
        self,
        reactor: Any,
        contextFactory: Any = _DEFAULT_POLICY,
        connectTimeout: float | None = None,
        bindAddress: Any = None,
        pool: Any = None,
        *,
        max_cached_targets: int | None = None,
    ) -> None:
        """
        @param max_cached_targets: The initial L{max_cached_targets}; by
            default L{DEFAULT_MAX_CACHED_TARGETS}.
        @see: L{twisted.web.client.Agent.__init__} for the other arguments.
        """
        if not IPolicyForHTTPS.providedBy(contextFactory):
            # Twisted's deprecation, said here so that it names our caller.
            warnings.warn(
                f"{contextFactory!r} was passed as the HTTPS policy for an Agent, but it does "
                "not provide IPolicyForHTTPS.  Since Twisted 14.0, you must pass a provider "
                "of IPolicyForHTTPS.",
                category=DeprecationWarning,
                stacklevel=2,
            )
            contextFactory = client._DeprecatedToCurrentPolicyForHTTPS(contextFactory)
        super().__init__(reactor, contextFactory, connectTimeout, bindAddress, pool)  # type: ignore[no-untyped-call]
        if max_cached_targets is not None:
            self.max_cached_targets = max_cached_targets

    @classmethod
    def usingEndpointFactory(
        cls,
        reactor: Any,
        endpointFactory: Any,
        pool: Any = None,
        *,
        max_cached_targets: int | None = None,
    ) -> Agent:
        """
        An agent whose endpoints come from C{endpointFactory}, asked once per
        target (scheme, host, port) while the target stays cached.

        @param max_cached_targets: The initial L{max_cached_targets}; by
            default L{DEFAULT_MAX_CACHED_TARGETS}.
        @see: L{twisted.web.client.Agent.usingEndpointFactory}
        """
        agent = cls.__new__(cls)
        agent._init(reactor, endpointFactory, pool)
        if max_cached_targets is not None:
            agent.max_cached_targets = max_cached_targets
        return agent

    def _init(self, reactor: Any, endpointFactory: Any, pool: Any) -> None:
        if pool is None:
            pool = HTTPConnectionPool(reactor, persistent=False)
        super()._init(reactor, endpointFactory, pool)  # type: ignore[no-untyped-call]
        self._uris: dict[bytes, _Destination] = {}
        self._targets: OrderedDict[Hashable, tuple[IStreamClientEndpoint, bytes]] = OrderedDict()

    @property
    def max_cached_targets(self) -> int:
        """
        The most targets (scheme, host, port; for a subclass, its pool keys)
        whose endpoint (with its TLS connection creator) and Host header the
        agent keeps.  Past it, the one used least recently is forgotten, and
        made again if it is needed again.  Setting it forgets at once the
        targets past the new limit.  It bounds only the agent's memory: the
        pool keeps its connections as it always does.

        @raise ValueError: when set to less than 1.
        """
        return self._max_targets

    @max_cached_targets.setter
    def max_cached_targets(self, most: int) -> None:
        if most < 1:
            raise ValueError(f"max_cached_targets must be at least 1, not {most!r}")
        self._max_targets = most
        targets = self._targets
        while len(targets) > most:
            targets.popitem(last=False)

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
        destination = self._uris.get(uri)
        if destination is None:
            destination = self._destination(uri)
        key = destination.key
        targets = self._targets
        target = targets.get(key)
        if target is None:
            try:
                target = self._target(destination)
            except SchemeNotSupported:
                return fail(Failure())
        else:
            targets.move_to_end(key)
        pool = self._pool
        persistent = pool.persistent
        request: Any
        if headers is None and bodyProducer is None:
            prototype = destination.bodyless.get((method, persistent))
            if prototype is None:
                prototype = destination.remember(method, persistent, target[1])
            request = _Remembered.__new__(_Remembered)
            request.__dict__.update(prototype)
        else:
            request = _request(method, destination, target[1], headers, bodyProducer, persistent)
        if timeouts is not None:
            request.timeouts = timeouts
        take = getattr(pool, "take_connection", None)
        if take is not None:
            taken, waiting = take(key, target[0])
            if waiting is None:
                issued: Deferred[IResponse] = taken.request(request)
                return issued
            answered: Deferred[IResponse] = waiting.addCallback(_issue, request)
            return answered
        connecting: Deferred[Any] = pool.getConnection(key, target[0])
        if connecting.called and not connecting.paused:
            connection: Any = connecting.result
            if not isinstance(connection, Failure):
                response: Deferred[IResponse] = connection.request(request)
                return response
        return connecting.addCallback(_issue, request)

    def _destination(self, uri: bytes) -> _Destination:
        """
        C{uri} parsed, remembered (forgetting every URI when there are
        L{remembered_uris} already).
        """
        parsed = URI.fromBytes(_ensureValidURI(uri.strip()))
        destination = _Destination(parsed, self._key(parsed))
        uris = self._uris
        if len(uris) >= self.remembered_uris:
            uris.clear()
        uris[uri] = destination
        return destination

    def _key(self, parsed: URI) -> Hashable:
        """
        The key the pool keeps connections for C{parsed} under; a subclass
        that connects elsewhere (through a proxy) chooses keys of its own.
        """
        return (parsed.scheme, parsed.host, parsed.port)

    def _target(self, destination: _Destination) -> tuple[IStreamClientEndpoint, bytes]:
        """
        The endpoint and the Host header of C{destination}'s target, made and
        cached as the most recently used, forgetting the least recently used
        target if the cache is full.

        @raise SchemeNotSupported: if the agent has no endpoint for the URI's
            scheme.
        """
        parsed = destination.parsed
        endpoint = self._getEndpoint(parsed)  # type: ignore[no-untyped-call]
        host = self._computeHostValue(  # type: ignore[no-untyped-call]
            parsed.scheme, parsed.host, parsed.port
        )
        targets = self._targets
        if len(targets) >= self._max_targets:
            targets.popitem(last=False)
        target = targets[destination.key] = (endpoint, host)
        return target


class _Destination:
    """
    What the agent remembers of one URI: its parsed form, the pool's key for
    it, and the attributes of the bodyless requests without headers of
    their own made for it so far, by method and persistence (the method is
    validated once, when first seen).
    """

    __slots__ = ("bodyless", "key", "parsed")

    most_bodyless = 16
    """
    How many (method, persistence) pairs a destination remembers requests
    for; past it, it forgets them all and starts again.
    """

    def __init__(self, parsed: URI, key: Hashable) -> None:
        self.parsed = parsed
        self.key = key
        self.bodyless: dict[tuple[bytes, bool], dict[str, Any]] = {}

    def remember(self, method: bytes, persistent: bool, host: bytes) -> dict[str, Any]:
        """
        The attributes of a C{method} request for this URI without headers or
        body of its own, with the bytes it writes.

        @raise TypeError: if C{method} is not bytes.
        @raise ValueError: if C{method} is not a valid method.
        """
        method = _valid_method(method)
        parsed = self.parsed
        request = Request._construct(
            method,
            parsed.originForm,
            Headers({b"host": [host]}),
            None,
            persistent=persistent,
            parsedURI=parsed,
        )
        attributes = dict(vars(request))
        del attributes["headers"]
        attributes["head"] = _written_head(request)
        attributes["_host"] = host
        bodyless = self.bodyless
        if len(bodyless) >= self.most_bodyless:
            bodyless.clear()
        bodyless[method, persistent] = attributes
        return attributes


class _Remembered(Request):
    """
    A request without headers or body of its own, whose bytes the agent
    already knows; it is made from the attributes a L{_Destination}
    remembers.  Its C{headers} (only the Host header) are made if someone
    reads them.
    """

    head = b""
    _host = b""
    _headers: Headers | None = None

    @property
    def headers(self) -> Headers:
        """
        The request's headers: its Host header.
        """
        headers = self._headers
        if headers is None:
            headers = self._headers = Headers({b"host": [self._host]})
        return headers

    @headers.setter
    def headers(self, headers: Headers) -> None:
        self._headers = headers

    def writeTo(self, transport: Any) -> Deferred[None]:
        transport.write(self.head)
        return succeed(None)


def _valid_method(method: bytes) -> bytes:
    """
    C{method}, checked as Twisted's agent checks it.
    """
    if not isinstance(method, bytes):
        raise TypeError(f"method={method!r} is {type(method)}, but must be bytes")
    return _ensureValidMethod(method)  # type: ignore[no-any-return]


def _request(
    method: bytes,
    destination: _Destination,
    host: bytes,
    headers: Headers | None,
    bodyProducer: IBodyProducer | None,
    persistent: bool,
) -> Request:
    """
    Twisted's L{Request} for C{destination} with C{headers} or a body,
    given the Host header C{host} unless C{headers} has one.
    """
    method = _valid_method(method)
    if headers is None:
        headers = Headers({b"host": [host]})
    elif not headers.hasHeader(b"host"):
        headers = headers.copy()
        headers.addRawHeader(b"host", host)
    parsed = destination.parsed
    return Request._construct(  # type: ignore[no-any-return]
        method, parsed.originForm, headers, bodyProducer, persistent=persistent, parsedURI=parsed
    )


def _issue(connection: Any, request: Request) -> Deferred[IResponse]:
    """
    Send C{request} on C{connection}, once the pool supplied it.
    """
    response: Deferred[IResponse] = connection.request(request)
    return response


def _written_head(request: Request) -> bytes:
    """
    The bytes Twisted's L{Request} writes for C{request}, which has no body.
    """
    collector = HeadCollector()
    Request.writeTo(request, collector)
    return b"".join(collector.written)
