"""
L{read_body}: a response's whole body as bytes, as Twisted's
L{readBody <twisted.web.client.readBody>} gives it, for less.

C{readBody} makes two closures per call, looks for a way to abort the
transport twice, and tells a complete body from a cut one with
L{Failure.check <twisted.python.failure.Failure.check>}, which formats the
qualified name of each type it is given.  L{read_body} gives the same results
and failures with one small object per call.  It works on any
L{IResponse <twisted.web.iweb.IResponse>}: httpchart's, Twisted's, or a
test's.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseDone
from twisted.web.client import PartialDownloadError
from twisted.web.http import PotentialDataLoss
from twisted.web.iweb import IResponse


def read_body(response: IResponse) -> Deferred[bytes]:
    """
    Read the whole body of C{response}.

    @return: A Deferred that fires with the body once it is complete.  As
        with Twisted's C{readBody}, it fails with
        L{PartialDownloadError <twisted.web.client.PartialDownloadError>}
        (the status, the phrase and the body read, as its C{response}) when
        the body ended with
        L{PotentialDataLoss <twisted.web.http.PotentialDataLoss>} (it ran
        until the connection closed, so it cannot be known to be whole), and
        with the reason the body ended otherwise (most often
        L{ResponseFailed <twisted.web.client.ResponseFailed>}).  Cancelling it
        aborts the connection (with httpchart's responses, the Deferred then
        fails with the reason the abort gives the body); a transport that
        cannot abort is stopped instead, where Twisted's C{readBody} only
        warns.  A body that ends after the Deferred was cancelled is dropped.
    """
    reader = _BodyReader(response)
    response.deliverBody(reader)
    return reader.deferred


class _BodyReader:
    """
    The protocol that collects a body for L{read_body}, and cancels it.
    """

    __slots__ = ("_parts", "_response", "_transport", "deferred")

    def __init__(self, response: IResponse) -> None:
        self._response = response
        self._parts: list[bytes] = []
        self._transport: Any = None
        self.deferred: Deferred[bytes] = Deferred(self._cancel)

    def makeConnection(self, transport: Any) -> None:
        self._transport = transport

    def dataReceived(self, data: bytes) -> None:
        self._parts.append(data)

    def connectionLost(self, reason: Failure) -> None:
        """
        The body ended: fire the Deferred, unless it was cancelled.
        """
        deferred = self.deferred
        if deferred.called:
            return
        value = reason.value
        if isinstance(value, ResponseDone):
            deferred.callback(b"".join(self._parts))
        elif isinstance(value, PotentialDataLoss):
            response = self._response
            deferred.errback(
                PartialDownloadError(response.code, response.phrase, b"".join(self._parts))
            )
        else:
            deferred.errback(reason)

    def _cancel(self, deferred: Deferred[bytes]) -> None:
        transport = self._transport
        stop = getattr(transport, "abortConnection", None) or getattr(
            transport, "stopProducing", None
        )
        if stop is not None:
            stop()
