"""
The Twisted side of httpchart: L{HTTP11ClientProtocol}, a drop-in for
Twisted's class of the same name, driven by the declared connection lifecycle.
"""

from .client import ClientRequest, HTTP11ClientProtocol, Observer
from .parser import ParserFactory, ResponseParser, TwistedParser

__all__ = [
    "ClientRequest",
    "HTTP11ClientProtocol",
    "Observer",
    "ParserFactory",
    "ResponseParser",
    "TwistedParser",
]
