"""
The Twisted side of httpchart: L{HTTP11ClientProtocol}, a drop-in for
Twisted's class of the same name, driven by the declared connection lifecycle.
"""

from .client import ClientRequest, HTTP11ClientProtocol, Observer
from .llhttp import LLHTTPParser, MalformedResponse
from .parser import ParserFactory, ResponseParser, TwistedParser
from .response import Response

__all__ = [
    "ClientRequest",
    "HTTP11ClientProtocol",
    "LLHTTPParser",
    "MalformedResponse",
    "Observer",
    "ParserFactory",
    "Response",
    "ResponseParser",
    "TwistedParser",
]
