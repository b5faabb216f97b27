"""
The Twisted side of httpchart: L{HTTP11ClientProtocol}, a drop-in for
Twisted's class of the same name, driven by the declared connection lifecycle,
and L{HTTPConnectionPool}, which puts it under Twisted's L{Agent} and treq,
with limits, a queue (L{PoolWaitTimeout}, L{PoolClosed}) and L{PoolStats}.
"""

from .agent import Agent
from .client import ClientRequest, HTTP11ClientProtocol, Observer
from .llhttp import HeadTooLarge, LLHTTPParser, MalformedResponse
from .observe import ConnectionObserver, Trace, log_transition
from .parser import ParserFactory, ResponseParser, TwistedParser
from .pool import (
    HostStats,
    HTTP11ClientFactory,
    HTTPConnectionPool,
    PoolClosed,
    PoolStats,
    PoolWaitTimeout,
)
from .response import Response

__all__ = [
    "Agent",
    "ClientRequest",
    "ConnectionObserver",
    "HTTP11ClientFactory",
    "HTTP11ClientProtocol",
    "HTTPConnectionPool",
    "HeadTooLarge",
    "HostStats",
    "LLHTTPParser",
    "MalformedResponse",
    "Observer",
    "ParserFactory",
    "PoolClosed",
    "PoolStats",
    "PoolWaitTimeout",
    "Response",
    "ResponseParser",
    "Trace",
    "TwistedParser",
    "log_transition",
]
