"""
The floor of the in-memory exchange: a protocol that writes the request,
parses the response with httptools and hands the body to its reader, with
no lifecycle at all.  It does not survive a single error or a second
request; it only shows how much of an exchange is left once every state is
gone (Twisted's Request, readBody and Deferreds remain, as for everyone).
"""

from __future__ import annotations

from typing import Any

import httptools
from twisted.internet.defer import Deferred
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseDone

_DONE = Failure(ResponseDone())


class _Response:
    """
    Just enough of an IResponse for readBody: a status and a body that is
    buffered until a reader comes.
    """

    phrase = b"OK"

    def __init__(self, code: int) -> None:
        self.code = code
        self.buffered: list[bytes] = []
        self.reader: Any = None
        self.complete = False

    def deliverBody(self, reader: Any) -> None:
        self.reader = reader
        reader.makeConnection(None)
        for data in self.buffered:
            reader.dataReceived(data)
        if self.complete:
            reader.connectionLost(_DONE)


class Floor(Protocol):
    """
    One request, one response, nothing checked.
    """

    def request(self, request: Any) -> Deferred[Any]:
        request.writeTo(self.transport)
        self.response: _Response | None = None
        self.answered: Deferred[Any] = Deferred()
        self.parser = httptools.HttpResponseParser(self)
        return self.answered

    def dataReceived(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_headers_complete(self) -> None:
        self.response = _Response(self.parser.get_status_code())
        self.answered.callback(self.response)

    def on_body(self, data: bytes) -> None:
        response = self.response
        assert response is not None
        if response.reader is None:
            response.buffered.append(data)
        else:
            response.reader.dataReceived(data)

    def on_message_complete(self) -> None:
        response = self.response
        assert response is not None
        if response.reader is None:
            response.complete = True
        else:
            response.reader.connectionLost(_DONE)
