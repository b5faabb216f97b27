"""
L{Response}: an HTTP response whose body is delivered by the declared
L{BodyDelivery} chart.

It is a drop-in for L{twisted.web._newclient.Response}: the same public
interface (L{IResponse}), the same constructor, and the same two methods a
parser calls, C{_bodyDataReceived} and C{_bodyDataFinished}, so that either
parser can feed either response.  Its C{_state} holds Twisted's state names.
"""

from __future__ import annotations

from typing import Any, ClassVar

from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseDone, _ClientRequestProxy
from twisted.web.http_headers import Headers
from twisted.web.iweb import UNKNOWN_LENGTH, IResponse
from zope.interface import implementer

from httpchart.statechart import BodyDelivery, Charted

from .events import BodyEvents

# Headers that describe the connection rather than the response; a response's
# headers leave them out (except Content-Length in the response to HEAD).
CONNECTION_CONTROL = frozenset(
    {
        b"content-length",
        b"connection",
        b"keep-alive",
        b"te",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
        b"proxy-connection",
    }
)

# The reason given to a body's consumer when the whole body arrived.  It
# carries no traceback and is never changed, so every response shares it.
_BODY_COMPLETE = Failure(ResponseDone("Response body fully received"))


@implementer(IResponse)
class Response(Charted):
    """
    An HTTP response: status, headers, and a body delivered to the protocol
    given to L{deliverBody}.

    An httpchart response also has C{trailers}: the trailer fields of a
    chunked response, once its body has been read; empty otherwise.
    """

    chart = BodyDelivery
    _fire: BodyEvents
    _log: ClassVar[Logger] = Logger()

    length: int | object = UNKNOWN_LENGTH
    previousResponse: IResponse | None = None
    _trailers: Headers | None = None
    _headers: Headers | None = None
    _fields: list[tuple[bytes, bytes]] | None = None
    _keeps_length = False
    _request: Any = None
    _request_proxy: Any = None

    _state: str = "INITIAL"
    _bodyProtocol: Any = None
    _bodyBuffer: list[bytes] | None
    _reason: Failure

    def __init__(
        self,
        version: tuple[bytes, int, int],
        code: int,
        phrase: bytes,
        headers: Headers | None,
        _transport: Any,
    ) -> None:
        """
        @param version: The protocol and its version, as C{(b"HTTP", 1, 1)}.
        @param code: The status code.
        @param phrase: The reason phrase.
        @param headers: The response's headers, without the ones that only
            concern the connection; C{None} when a parser gives the raw
            fields instead (as C{_fields}, with C{_keeps_length} true in the
            response to HEAD), to be made into L{Headers} only if someone
            reads them.
        @param _transport: What the body's consumer may pause and resume.
        """
        self.version = version
        self.code = code
        self.phrase = phrase
        self._headers = headers
        self._transport = _transport
        self._bodyBuffer = []

    @classmethod
    def _construct(
        cls,
        version: tuple[bytes, int, int],
        code: int,
        phrase: bytes,
        headers: Headers | None,
        _transport: Any,
        request: Any,
    ) -> Response:
        """
        Build the response to C{request}, as a parser does.
        """
        response = cls(version, code, phrase, headers, _transport)
        response._request = request
        return response

    @property
    def headers(self) -> Headers:
        """
        The response's headers, without the ones that only concern the
        connection.
        """
        if self._headers is None:
            headers = self._headers = Headers()
            for name, value in self._fields or ():
                lowered = name.lower()
                if lowered not in CONNECTION_CONTROL or (
                    self._keeps_length and lowered == b"content-length"
                ):
                    headers.addRawHeader(lowered, value.rstrip(b" \t"))
            self._fields = None
        return self._headers

    @headers.setter
    def headers(self, headers: Headers) -> None:
        self._headers, self._fields = headers, None

    @property
    def request(self) -> Any:
        """
        The request this is the response to (an L{IClientRequest}), or
        C{None}.
        """
        if self._request_proxy is None and self._request is not None:
            self._request_proxy = _ClientRequestProxy(self._request)
        return self._request_proxy

    @request.setter
    def request(self, request: Any) -> None:
        self._request, self._request_proxy = None, request

    @property
    def trailers(self) -> Headers:
        """
        The trailer fields that followed a chunked body; empty when there were
        none (or the body has not been read yet).
        """
        return self._trailers if self._trailers is not None else Headers()

    def setPreviousResponse(self, previousResponse: IResponse) -> None:
        self.previousResponse = previousResponse

    def deliverBody(self, protocol: Any) -> None:
        """
        Deliver the body to C{protocol}: C{makeConnection}, then
        C{dataReceived} for each part, then C{connectionLost} with
        L{ResponseDone} or the reason the body was cut short.

        @raise LifecycleError: (a L{RuntimeError}) if a protocol was given
            already.
        """
        self._fire.deliver(self, protocol)

    def _bodyDataReceived(self, data: bytes) -> None:
        """
        The parser has bytes of the body.
        """
        self._fire.data(self, data)

    def _bodyDataFinished(self, reason: Failure | None = None) -> None:
        """
        The parser has no more of the body: it is complete, or C{reason} says
        why it ended.
        """
        self._fire.finished(self, _BODY_COMPLETE if reason is None else reason)

    # Effects

    def _attach(self, protocol: Any) -> None:
        protocol.makeConnection(self._transport)
        self._bodyProtocol = protocol

    def _flush(self) -> None:
        buffered, self._bodyBuffer = self._bodyBuffer or [], None
        for data in buffered:
            self._bodyProtocol.dataReceived(data)

    def _resume_transport(self) -> None:
        self._transport.resumeProducing()

    def _buffer(self, data: bytes) -> None:
        self._bodyBuffer.append(data)  # type: ignore[union-attr]

    def _pass_on(self, data: bytes) -> None:
        self._bodyProtocol.dataReceived(data)

    def _keep_reason(self, reason: Failure) -> None:
        self._reason = reason

    def _close_protocol(self) -> None:
        protocol, self._bodyProtocol = self._bodyProtocol, None
        try:
            protocol.connectionLost(self._reason)
        except Exception:
            self._log.failure("response body consumer failed in connectionLost")
