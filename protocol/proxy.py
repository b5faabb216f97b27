"""
L{ProxyAgent}: an L{IAgent <twisted.web.iweb.IAgent>} that sends every
request through one HTTP proxy.

C{http://} requests are forwarded: sent to the proxy in absolute form
(C{GET http://origin/path HTTP/1.1}), with C{Proxy-Authorization} when the
proxy's URL has credentials.  C{https://} requests go through a tunnel: the
proxy is asked to C{CONNECT} to the origin, TLS with the origin starts on
that connection (verified by the same policy as L{Agent}'s), and the request
runs on an ordinary httpchart connection inside it (L{TunnelEndpoint}).

Connections come from the pool under keys of their own, never those of
direct connections: a tunnel per (proxy, origin), and the forwarded
connections per proxy.  The proxy's identity in a key includes its
credentials, so connections authenticated differently are not shared, but
its C{repr} hides them.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, fail
from twisted.internet.endpoints import HostnameEndpoint
from twisted.python.failure import Failure
from twisted.web import client
from twisted.web._newclient import _ensureValidURI
from twisted.web.client import URI, BrowserLikePolicyForHTTPS
from twisted.web.error import SchemeNotSupported
from twisted.web.http_headers import Headers
from twisted.web.iweb import IAgent, IBodyProducer, IPolicyForHTTPS, IResponse
from zope.interface import implementer

from .agent import Agent
from .pool import HTTPConnectionPool
from .proxy_url import Proxy
from .tunnel import TunnelEndpoint

DEFAULT_SETUP_TIMEOUT = 30.0
"""
Seconds a tunnel's set-up may take (connecting, CONNECT, TLS) when the agent
is given no C{connectTimeout}.
"""


@implementer(IAgent)
class ProxyAgent(client._AgentBase):
    """
    Sends requests through the HTTP proxy C{proxy}.

    @param proxy: The proxy's URL, as C{b"http://user:secret@host:port"}
        (credentials and port optional), or a L{Proxy}.
    @param pool: Where connections are kept; by default a non-persistent
        httpchart pool, as for Twisted's L{Agent}.
    @param contextFactory: The TLS policy for origins reached through a
        tunnel (L{BrowserLikePolicyForHTTPS
        <twisted.web.client.BrowserLikePolicyForHTTPS>} by default).
    @param connectTimeout: Seconds allowed for connecting to the proxy and,
        for a tunnel, for its whole set-up (L{DEFAULT_SETUP_TIMEOUT} if
        C{None}).
    """

    def __init__(
        self,
        reactor: Any,
        proxy: bytes | str | Proxy,
        *,
        pool: HTTPConnectionPool | client.HTTPConnectionPool | None = None,
        contextFactory: IPolicyForHTTPS | None = None,
        connectTimeout: float | None = None,
    ) -> None:
        if pool is None:
            pool = HTTPConnectionPool(reactor, persistent=False)
        # httpchart's pool is a drop-in for Twisted's, not a subclass of it.
        super().__init__(reactor, pool)  # type: ignore[arg-type]
        self.proxy = proxy if isinstance(proxy, Proxy) else Proxy.parse(proxy)
        self._policy = contextFactory or BrowserLikePolicyForHTTPS()
        self._setup_timeout = DEFAULT_SETUP_TIMEOUT if connectTimeout is None else connectTimeout
        self._proxy_endpoint = HostnameEndpoint(
            reactor, self.proxy.host, self.proxy.port, timeout=self._setup_timeout
        )
        self._tunnelling = _TunnellingAgent(self, reactor, pool)

    def __repr__(self) -> str:
        return f"ProxyAgent({self.proxy!r})"

    def request(
        self,
        method: bytes,
        uri: bytes,
        headers: Headers | None = None,
        bodyProducer: IBodyProducer | None = None,
    ) -> Deferred[IResponse]:
        """
        Issue a request through the proxy.

        @see: L{twisted.web.iweb.IAgent.request}
        """
        uri = _ensureValidURI(uri.strip())
        parsed = URI.fromBytes(uri)
        if parsed.scheme == b"http":
            key: Any = ("httpchart-forward", self.proxy)
            return self._requestWithEndpoint(
                key,
                self._proxy_endpoint,
                method,
                parsed,
                self._authorized(headers),
                bodyProducer,
                uri,
            )
        if parsed.scheme == b"https":
            return self._tunnelling.request(method, uri, headers, bodyProducer)
        return fail(Failure(SchemeNotSupported(f"Unsupported scheme: {parsed.scheme!r}")))

    def tunnel_endpoint(self, host: bytes, port: int) -> TunnelEndpoint:
        """
        A new endpoint of tunnels to C{host}:C{port} through the proxy.  The
        tunnelling agent keeps those of the targets it used last (its
        bounded cache, L{Agent.max_cached_targets}), so that a client
        visiting many hosts through the proxy does not keep one for each.
        """
        creator = self._policy.creatorForNetloc(host, port)
        return TunnelEndpoint(
            self._reactor,
            self._proxy_endpoint,
            self.proxy,
            host,
            port,
            creator,
            self._setup_timeout,
        )

    def _authorized(self, headers: Headers | None) -> Headers | None:
        authorization = self.proxy.authorization
        if authorization is None:
            return headers
        headers = Headers() if headers is None else headers.copy()
        if not headers.hasHeader(b"proxy-authorization"):
            headers.addRawHeader(b"Proxy-Authorization", authorization)
        return headers


class _TunnellingAgent(Agent):
    """
    httpchart's L{Agent}, with its remembered URIs, heads and endpoints, for
    the C{https://} requests of a L{ProxyAgent}: its endpoints open tunnels
    through the proxy, and its pool keys are the tunnels'.
    """

    def __init__(
        self,
        proxying: ProxyAgent,
        reactor: Any,
        pool: HTTPConnectionPool | client.HTTPConnectionPool,
    ) -> None:
        super().__init__(reactor, pool=pool)
        self._proxying = proxying

    def _key(self, parsed: URI) -> Any:
        # The policy is part of the key: a tunnel verified under one agent's
        # policy is not handed to an agent with another.
        proxying = self._proxying
        return ("httpchart-tunnel", proxying.proxy, parsed.host, parsed.port, proxying._policy)

    def _getEndpoint(self, uri: URI) -> TunnelEndpoint:
        return self._proxying.tunnel_endpoint(uri.host, uri.port)
