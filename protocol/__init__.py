"""
The Twisted side of httpchart: L{HTTP11ClientProtocol}, a drop-in for
Twisted's class of the same name, driven by the declared connection lifecycle,
and L{HTTPConnectionPool}, which puts it under Twisted's L{Agent} and treq.
"""

from .agent import Agent
from .client import ClientRequest, HTTP11ClientProtocol, Observer
from .llhttp import BodyTooLarge, HeadTooLarge, LLHTTPParser, MalformedResponse
from .observe import ConnectionObserver, Trace, log_transition
from .parser import ParserFactory, ResponseParser, TwistedParser
from .pool import HTTP11ClientFactory, HTTPConnectionPool
from .response import BodyDiscarded, Response

__all__ = [
    "Agent",
    "BodyDiscarded",
    "BodyTooLarge",
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
    "Trace",
    "TwistedParser",
    "log_transition",
]
