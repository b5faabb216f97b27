"""
L{Response}: an HTTP response whose body is delivered by the declared
L{BodyDelivery} chart.

It is a drop-in for
L{twisted.web._newclient.Response <twisted.web.client.Response>}: the same
public interface (L{IResponse}), the same constructor, and the same two methods
a parser calls, C{_bodyDataReceived} and C{_bodyDataFinished}, so that either
parser can feed either response.  Its C{_state} holds Twisted's state names.
"""

from __future__ import annotations

from typing import Any, ClassVar

from twisted.internet.defer import CancelledError, Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseDone, ResponseFailed, _ClientRequestProxy
from twisted.web.http import PotentialDataLoss, _DataLoss
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
BODY_COMPLETE = Failure(ResponseDone("Response body fully received"))


class BodyDiscarded(CancelledError):
    """
    The application discarded the body (L{Response.discard}) while a
    protocol was receiving it: the protocol's C{connectionLost} gets
    C{ResponseFailed([BodyDiscarded, _DataLoss])}, so C{readBody} fails with
    it.  A L{CancelledError <twisted.internet.defer.CancelledError>}, since
    discarding is the application cancelling the body.
    """


@implementer(IResponse)
class Response(Charted):
    """
    An HTTP response: status, headers, and a body delivered to the protocol
    given to L{deliverBody}.

    An httpchart response also has C{trailers}: the trailer fields of a
    chunked response, once its body has been read; empty otherwise; and
    L{discard}, for a body nobody wants.

    @cvar drain_limit: The most bytes of body L{discard} reads and drops to
        keep the connection; with more left, or an unknown amount, it aborts
        the connection instead.
    """

    drain_limit: ClassVar[int] = 65536

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
    _received = 0
    _aborted = False
    _discarders: list[Deferred[bool]] | None = None

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
            concern the connection; C{None} when a parser gives the raw fields
            instead (as C{_fields}, with C{_keeps_length} true in the response
            to HEAD), to be made into
            L{Headers <twisted.web.http_headers.Headers>} only if someone reads
            them.
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
        The request this is the response to (an
        L{IClientRequest <twisted.web.iweb.IClientRequest>}), or C{None}.
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
        L{ResponseDone <twisted.web.client.ResponseDone>} or the reason the
        body was cut short.

        @raise LifecycleError: (a C{RuntimeError}) if a protocol was given
            already.
        """
        self._fire.deliver(self, protocol)

    def discard(self) -> Deferred[bool]:
        """
        Say that nobody wants the body, so that it costs as little as
        possible.  What was buffered is dropped.  If the body's length is
        known (Content-Length) and at most L{drain_limit} bytes of it are
        still to come, they are read and dropped, and the connection goes
        back to its pool; otherwise the connection is aborted (a chunked
        body, or one that runs until the close, has no known rest).  A
        protocol given to L{deliverBody} before is told the body was
        discarded: its C{connectionLost} gets C{ResponseFailed([}
        L{BodyDiscarded}C{, _DataLoss])}.

        Discarding a body that is already over (including the empty body of
        a response to HEAD, or a 204 or 304) only drops what was buffered,
        and discarding again is harmless.  L{deliverBody} after L{discard}
        raises L{LifecycleError}.

        @return: A Deferred that fires once the body is over: with C{True}
            if it was read to its end (drained, or in already), C{False} if
            discarding aborted the connection or the body was cut short
            otherwise.  It never fails.
        """
        deferred: Deferred[bool] = Deferred()
        self._fire.discard(self, deferred)
        return deferred

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
        self._fire.finished(self, BODY_COMPLETE if reason is None else reason)

    # Guards

    def _small_rest(self) -> bool:
        length = self.length
        return isinstance(length, int) and length - self._received <= self.drain_limit

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
        self._received += len(data)
        self._bodyBuffer.append(data)  # type: ignore[union-attr]

    def _pass_on(self, data: bytes) -> None:
        self._received += len(data)
        self._bodyProtocol.dataReceived(data)

    def _keep_reason(self, reason: Failure) -> None:
        self._reason = reason

    def _close_protocol(self) -> None:
        protocol, self._bodyProtocol = self._bodyProtocol, None
        try:
            protocol.connectionLost(self._reason)
        except Exception:
            self._log.failure("response body consumer failed in connectionLost")

    def _await_end(self, deferred: Deferred[bool]) -> None:
        if self._discarders is None:
            self._discarders = []
        self._discarders.append(deferred)

    def _drop_buffer(self) -> None:
        self._bodyBuffer = None

    def _end_consumer(self) -> None:
        protocol, self._bodyProtocol = self._bodyProtocol, None
        reason = Failure(ResponseFailed([Failure(BodyDiscarded()), Failure(_DataLoss())], self))
        try:
            protocol.connectionLost(reason)
        except Exception:
            self._log.failure("response body consumer failed in connectionLost")

    def _abort_transport(self) -> None:
        self._aborted = True
        transport = self._transport
        abort = getattr(transport, "abortConnection", None)
        if abort is None:
            # Twisted's own proxy cannot abort; stopping it closes the
            # connection.
            abort = transport.stopProducing
        abort()

    def _report_discarded(self) -> None:
        # A body that runs until the close ends with PotentialDataLoss even
        # when the abort cut it, so the abort itself is what says it was not
        # read to its end.
        whole = not self._aborted and self._reason.check(ResponseDone, PotentialDataLoss)
        discarders, self._discarders = self._discarders or [], None
        for deferred in discarders:
            deferred.callback(bool(whole))
