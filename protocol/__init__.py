"""
The Twisted side of httpchart: L{HTTP11ClientProtocol}, a drop-in for
Twisted's class of the same name, driven by the declared connection lifecycle,
and L{HTTPConnectionPool}, which puts it under Twisted's L{Agent} and treq.
"""

from .agent import Agent
from .client import ClientRequest, HTTP11ClientProtocol, Observer
from .llhttp import HeadTooLarge, LLHTTPParser, MalformedResponse
from .observe import ConnectionObserver, Trace, log_transition
from .parser import ParserFactory, ResponseParser, TwistedParser
from .pool import POOL_TIMEOUTS, HTTP11ClientFactory, HTTPConnectionPool
from .response import Response
from .timeouts import TimedOut, Timeouts

__all__ = [
    "POOL_TIMEOUTS",
    "Agent",
    "ClientRequest",
    "ConnectionObserver",
    "HTTP11ClientFactory",
    "HTTP11ClientProtocol",
    "HTTPConnectionPool",
    "HeadTooLarge",
    "LLHTTPParser",
    "MalformedResponse",
    "Observer",
    "ParserFactory",
    "Response",
    "ResponseParser",
    "TimedOut",
    "Timeouts",
    "Trace",
    "TwistedParser",
    "log_transition",
]
