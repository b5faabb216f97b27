"""
The Twisted side of httpchart: L{HTTP11ClientProtocol}, a drop-in for
Twisted's class of the same name, driven by the declared connection lifecycle,
and L{HTTPConnectionPool}, which puts it under Twisted's L{Agent} and treq,
with limits, a queue (L{PoolWaitTimeout}, L{PoolClosed}) and L{PoolStats};
L{ProxyAgent} and L{environment_agent} go through HTTP proxies; L{read_body}
reads a whole body.
"""

from .agent import DEFAULT_MAX_CACHED_TARGETS, Agent
from .body import read_body
from .client import ClientRequest, HTTP11ClientProtocol, Observer
from .environment import EnvironmentAgent, ProxySettings, environment_agent
from .llhttp import BodyTooLarge, HeadTooLarge, LLHTTPParser, MalformedResponse
from .observe import ConnectionObserver, Trace, log_transition
from .parser import ParserFactory, ResponseParser, TwistedParser
from .pool import (
    POOL_TIMEOUTS,
    HostStats,
    HTTP11ClientFactory,
    HTTPConnectionPool,
    PoolClosed,
    PoolStats,
    PoolWaitTimeout,
)
from .proxy import ProxyAgent
from .proxy_errors import (
    OriginTLSFailed,
    ProxyAuthenticationRequired,
    ProxyError,
    ProxyReplyMalformed,
    ProxyUnreachable,
    TunnelLost,
    TunnelRefused,
    TunnelTimeout,
)
from .proxy_url import Proxy, ProxyURLError
from .response import BodyDiscarded, Response
from .timeouts import TimedOut, Timeouts

__all__ = [
    "DEFAULT_MAX_CACHED_TARGETS",
    "POOL_TIMEOUTS",
    "Agent",
    "BodyDiscarded",
    "BodyTooLarge",
    "ClientRequest",
    "ConnectionObserver",
    "EnvironmentAgent",
    "HTTP11ClientFactory",
    "HTTP11ClientProtocol",
    "HTTPConnectionPool",
    "HeadTooLarge",
    "HostStats",
    "LLHTTPParser",
    "MalformedResponse",
    "Observer",
    "OriginTLSFailed",
    "ParserFactory",
    "PoolClosed",
    "PoolStats",
    "PoolWaitTimeout",
    "Proxy",
    "ProxyAgent",
    "ProxyAuthenticationRequired",
    "ProxyError",
    "ProxyReplyMalformed",
    "ProxySettings",
    "ProxyURLError",
    "ProxyUnreachable",
    "Response",
    "ResponseParser",
    "TimedOut",
    "Timeouts",
    "Trace",
    "TunnelLost",
    "TunnelRefused",
    "TunnelTimeout",
    "TwistedParser",
    "environment_agent",
    "log_transition",
    "read_body",
]
