"""
The proxy settings of the environment, read as curl reads them, and
L{environment_agent}, which sends each request directly or through the
proxy they name.

The variables, each in lower or upper case (the lower-case one wins):

  - C{http_proxy}: the proxy for C{http://} URLs.  The upper-case
    C{HTTP_PROXY} is ignored when C{REQUEST_METHOD} is set: in a CGI
    program a client's C{Proxy:} header arrives as C{HTTP_PROXY} ("httpoxy").
  - C{https_proxy}: the proxy for C{https://} URLs.
  - C{all_proxy}: the proxy for URLs of a scheme that has none of its own.
  - C{no_proxy}: hosts reached directly, separated by commas: C{*} for all
    of them; a name, which also covers its subdomains (C{example.com} and
    C{.example.com} both cover C{example.com} and C{www.example.com}); an
    IP address, or a network in CIDR form (C{10.0.0.0/8}, C{fd00::/8});
    any of these followed by C{:port} to cover that port only (IPv6 in
    brackets: C{[::1]:8080}).  Names compare without case and without a
    trailing dot.

An empty variable counts as unset.  A proxy is an C{http://} URL (the scheme
may be left out, the port defaults to 1080 as for curl); a variable naming
another kind of proxy (C{socks5://}, C{https://}) fails the requests that
would use it with L{ProxyURLError}, and leaves the others alone.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from twisted.internet.defer import Deferred, fail
from twisted.python.failure import Failure
from twisted.web import client
from twisted.web._newclient import _ensureValidURI
from twisted.web.client import URI, BrowserLikePolicyForHTTPS
from twisted.web.http_headers import Headers
from twisted.web.iweb import IAgent, IBodyProducer, IPolicyForHTTPS, IResponse
from zope.interface import implementer

from .agent import Agent
from .pool import HTTPConnectionPool
from .proxy import ProxyAgent
from .proxy_url import Proxy, ProxyURLError

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Bypass:
    """
    One entry of C{no_proxy}.

    @ivar name: A host name (lower case, no leading or trailing dot), or
        C{None} for an address entry.
    @ivar network: The addresses it covers, or C{None} for a name entry.
    @ivar port: The only port it covers, or C{None} for all.
    """

    name: str | None
    network: _Network | None
    port: int | None

    @classmethod
    def parse(cls, entry: str) -> Bypass | None:
        """
        One C{no_proxy} entry, or C{None} if it is empty or unusable.
        """
        entry = entry.strip().lower()
        if entry in ("", "*"):
            return None
        port = None
        if entry.startswith("["):
            address, _, after = entry[1:].partition("]")
            if after.startswith(":") and after[1:].isdigit():
                port = int(after[1:])
            entry = address
        elif entry.count(":") == 1:
            entry, _, digits = entry.partition(":")
            if not digits.isdigit():
                return None
            port = int(digits)
        try:
            return cls(None, ipaddress.ip_network(entry, strict=False), port)
        except ValueError:
            pass
        name = entry.strip(".")
        return cls(name, None, port) if name else None

    def covers(self, host: str, port: int) -> bool:
        """
        Whether this entry sends C{host}:C{port} directly.
        """
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            try:
                return ipaddress.ip_address(host) in self.network
            except ValueError:
                return False
        assert self.name is not None
        return host == self.name or host.endswith("." + self.name)


@dataclass(frozen=True)
class ProxySettings:
    """
    Which proxy, if any, each URL goes through.

    @ivar proxies: The proxy URL per scheme (C{"http"}, C{"https"}) and
        C{"all"} for the others, as the environment gives them.
    @ivar everything_direct: C{no_proxy} is C{*}.
    @ivar bypass: The other C{no_proxy} entries.
    """

    proxies: Mapping[str, str]
    everything_direct: bool
    bypass: tuple[Bypass, ...]

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ProxySettings:
        """
        The settings C{environ} (by default C{os.environ}) holds.
        """
        environ = os.environ if environ is None else environ

        def read(name: str, *, upper: bool = True) -> str:
            value = environ.get(name.lower(), "")
            if not value and upper:
                value = environ.get(name.upper(), "")
            return value.strip()

        proxies = {
            "http": read("http_proxy", upper="REQUEST_METHOD" not in environ),
            "https": read("https_proxy"),
            "all": read("all_proxy"),
        }
        entries = [entry.strip() for entry in read("no_proxy").split(",")]
        bypass = tuple(b for b in map(Bypass.parse, entries) if b is not None)
        return cls(
            {scheme: url for scheme, url in proxies.items() if url},
            "*" in entries,
            bypass,
        )

    def proxy_for(self, scheme: bytes, host: bytes, port: int) -> Proxy | None:
        """
        The proxy a request to C{scheme://host:port} goes through, or
        C{None} to send it directly.

        @raise ProxyURLError: The variable that applies names a proxy that
            cannot be used.
        """
        name = scheme.decode("ascii").lower()
        url = self.proxies.get(name) or self.proxies.get("all")
        if url is None or self.direct(host, port):
            return None
        try:
            return Proxy.parse(url)
        except ProxyURLError as error:
            variable = f"{name}_proxy" if name in self.proxies else "all_proxy"
            raise ProxyURLError(f"{variable}: {error}") from None

    def direct(self, host: bytes, port: int) -> bool:
        """
        Whether C{no_proxy} sends requests to C{host}:C{port} directly.
        """
        if self.everything_direct:
            return True
        name = host.decode("ascii", "replace").lower().strip("[]").rstrip(".")
        return any(entry.covers(name, port) for entry in self.bypass)


@implementer(IAgent)
class EnvironmentAgent:
    """
    Sends each request directly (with httpchart's L{Agent}) or through the
    proxy the environment names for it (with a L{ProxyAgent}), all on one
    pool.  Made by L{environment_agent}.

    @ivar settings: The settings read when the agent was made.
    """

    def __init__(
        self,
        reactor: Any,
        settings: ProxySettings,
        *,
        pool: HTTPConnectionPool | client.HTTPConnectionPool | None = None,
        contextFactory: IPolicyForHTTPS | None = None,
        connectTimeout: float | None = None,
    ) -> None:
        self.settings = settings
        self._reactor = reactor
        self._pool = HTTPConnectionPool(reactor, persistent=False) if pool is None else pool
        self._policy = contextFactory or BrowserLikePolicyForHTTPS()
        self._connect_timeout = connectTimeout
        self._direct = Agent(
            reactor,
            contextFactory=self._policy,
            connectTimeout=connectTimeout,
            pool=self._pool,
        )
        self._through: dict[Proxy, ProxyAgent] = {}

    def request(
        self,
        method: bytes,
        uri: bytes,
        headers: Headers | None = None,
        bodyProducer: IBodyProducer | None = None,
    ) -> Deferred[IResponse]:
        """
        Issue a request, directly or through the proxy the settings name.

        @see: L{twisted.web.iweb.IAgent.request}
        """
        parsed = URI.fromBytes(_ensureValidURI(uri.strip()))
        try:
            proxy = self.settings.proxy_for(parsed.scheme, parsed.host, parsed.port)
        except ProxyURLError:
            return fail(Failure())
        if proxy is None:
            return self._direct.request(method, uri, headers, bodyProducer)
        return self.through(proxy).request(method, uri, headers, bodyProducer)

    def through(self, proxy: Proxy) -> ProxyAgent:
        """
        The agent of requests through C{proxy}.
        """
        agent = self._through.get(proxy)
        if agent is None:
            agent = self._through[proxy] = ProxyAgent(
                self._reactor,
                proxy,
                pool=self._pool,
                contextFactory=self._policy,
                connectTimeout=self._connect_timeout,
            )
        return agent


def environment_agent(
    reactor: Any,
    *,
    pool: HTTPConnectionPool | client.HTTPConnectionPool | None = None,
    contextFactory: IPolicyForHTTPS | None = None,
    connectTimeout: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> EnvironmentAgent:
    """
    An L{IAgent <twisted.web.iweb.IAgent>} that follows the environment's
    proxy settings (see the module's documentation): each request goes
    directly or through the proxy C{http_proxy}, C{https_proxy} or
    C{all_proxy} names, unless
    C{no_proxy} covers its host.

    @param environ: Where to read the settings; C{os.environ} by default.
        They are read once, now.
    @param pool: Shared by direct and proxied connections, under different
        keys.
    """
    return EnvironmentAgent(
        reactor,
        ProxySettings.from_environment(environ),
        pool=pool,
        contextFactory=contextFactory,
        connectTimeout=connectTimeout,
    )
