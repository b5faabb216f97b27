"""
The seam between a connection and the parser that reads its responses.

A connection opens one parser per request (L{ParserFactory}), feeds it the
bytes it receives, and disconnects it when the exchange ends.  The parser
reports a complete response through the finisher it was opened with and the
L{Response} through the Deferred it returns.  This module holds that contract
and its first implementation, Twisted's own
L{HTTPClientParser <twisted.web._newclient.HTTPClientParser>}.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure
from twisted.web._newclient import HTTPClientParser
from twisted.web.iweb import IResponse

Finisher = Callable[[bytes], None]


class ResponseParser(Protocol):
    """
    What a connection asks of the parser of one response.
    """

    def dataReceived(self, data: bytes) -> None:
        """
        Parse more bytes of the response.  May raise: the connection treats
        any exception as a broken response.
        """

    def connectionLost(self, reason: Failure) -> None:
        """
        No more bytes will come, for C{reason}.  Finishes or fails the
        response and its body accordingly.
        """

    def keeps_alive(self) -> bool:
        """
        Whether the complete response lets the connection be reused: HTTP/1.1
        without C{Connection: close}, or HTTP/1.0 with C{Connection:
        keep-alive}.
        """

    def keep_alive_values(self) -> Sequence[bytes]:
        """
        The values of the response's C{Keep-Alive} header fields (RFC 2068
        19.7.1.1), which a connection pool reads for the server's idle
        timeout and request cap.
        """


class ParserFactory(Protocol):
    """
    Opens the parser for one request's response.
    """

    def __call__(
        self, request: Any, finisher: Finisher, transport: Any
    ) -> tuple[ResponseParser, Deferred[IResponse]]:
        """
        @param request: The request whose response will be parsed.
        @param finisher: Called with any bytes following the response once
            the response is complete.
        @param transport: The producer the parser may pause and resume.
        @return: The parser, and a Deferred that fires with the response once
            its headers are in (or fails if they never arrive).
        """


class TwistedParser(HTTPClientParser):
    """
    Twisted's L{HTTPClientParser <twisted.web._newclient.HTTPClientParser>},
    plus the keep-alive question.

    Twisted's own connection only looks for an exact C{close} token; this
    parser also honours the token in any case, and treats an HTTP/1.0
    response as ending the connection unless it asks for keep-alive.
    """

    @classmethod
    def open(
        cls, request: Any, finisher: Finisher, transport: Any
    ) -> tuple[ResponseParser, Deferred[IResponse]]:
        """
        A L{ParserFactory} making Twisted parsers.
        """
        parser = cls(request, finisher)
        HTTPClientParser.makeConnection(parser, transport)
        response: Deferred[IResponse] = parser._responseDeferred
        return parser, response

    def keep_alive_values(self) -> Sequence[bytes]:
        return self.connHeaders.getRawHeaders(b"keep-alive") or ()

    def keeps_alive(self) -> bool:
        version: tuple[bytes, int, int] = self.response.version
        values = self.connHeaders.getRawHeaders(b"connection")
        if not values:
            return version[1:] >= (1, 1)
        tokens = {token.strip().lower() for value in values for token in value.split(b",")}
        if b"close" in tokens:
            return False
        return version[1:] >= (1, 1) or b"keep-alive" in tokens
