"""
HTTPS through an HTTP proxy: L{TunnelEndpoint} opens a tunnel with
C{CONNECT}, starts TLS with the origin on it, and hands the result to an
ordinary HTTP/1.1 connection, as a connection made directly would be.

L{Tunnel} is the protocol on the connection to the proxy and the model of
the declared L{TunnelSetup} chart: it turns what happens (the connection
made, bytes, the TLS handshake done, the loss, the timer, a cancellation)
into events and implements the effects the chart names.  Once the tunnel is
open it stays the transport's protocol (under TLS, which Twisted's
C{startTLS} puts between the two) and passes plaintext and the connection's
end to the HTTP/1.1 connection, whose transport is the TLS transport itself.

The endpoint's Deferred fires only once TLS with the origin has finished,
with the HTTP/1.1 connection; every failure before that fails it with one of
the exceptions of L{httpchart.protocol.proxy_errors}, after closing the
connection to the proxy, so a pool never holds a tunnel that is not ready.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import (
    IHandshakeListener,
    IProtocolFactory,
    IStreamClientEndpoint,
)
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.python.failure import Failure
from zope.interface import implementer

from httpchart.statechart import Charted, TunnelSetup

from .events import TunnelEvents
from .proxy_errors import (
    OriginTLSFailed,
    ProxyAuthenticationRequired,
    ProxyReplyMalformed,
    ProxyUnreachable,
    TunnelLost,
    TunnelRefused,
    TunnelTimeout,
)
from .proxy_url import Proxy

_STATUS = re.compile(rb"HTTP/1\.[01] ([0-9]{3})(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?")
_FIELD = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*?)[ \t]*")
_END = re.compile(rb"\r?\n\r?\n")


class ReplyHead(NamedTuple):
    """
    The head of the proxy's reply to CONNECT.

    @ivar headers: (name, value) pairs, names in lower case.
    @ivar length: The body's declared length, or C{None} (until the close).
    @ivar rest: The bytes that followed the head in the same read.
    """

    status: int
    reason: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    length: int | None
    rest: bytes


class ReplyReader:
    """
    Reads the head of the proxy's reply, strictly: a status line, header
    fields without folding or control characters, at most C{limit} bytes.
    Interim (1xx) replies are skipped.
    """

    limit = 65536

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> ReplyHead | None:
        """
        Add C{data}; the head once it is complete, else C{None}.

        @raise ValueError: The reply is not a valid head; the message says why.
        """
        self._buffer += data
        while True:
            end = _END.search(self._buffer)
            if end is None:
                if len(self._buffer) > self.limit:
                    raise ValueError(f"the reply's head exceeds {self.limit} bytes")
                return None
            if end.start() > self.limit:
                raise ValueError(f"the reply's head exceeds {self.limit} bytes")
            head = _parse(self._buffer[: end.start()], self._buffer[end.end() :])
            if not 100 <= head.status < 200:
                self._buffer = b""
                return head
            self._buffer = head.rest


def _parse(head: bytes, rest: bytes) -> ReplyHead:
    status_line, *lines = re.split(rb"\r?\n", head)
    status = _STATUS.fullmatch(status_line)
    if status is None:
        raise ValueError(f"not an HTTP status line: {status_line[:80]!r}")
    fields = []
    for line in lines:
        found = _FIELD.fullmatch(line)
        if found is None:
            raise ValueError(f"not a header field: {line[:80]!r}")
        fields.append((found.group(1).lower(), found.group(2)))
    lengths = {value for name, value in fields if name == b"content-length"}
    length = None
    if lengths:
        if len(lengths) > 1 or not all(value.isdigit() for value in lengths):
            raise ValueError(f"bad Content-Length: {sorted(lengths)!r}")
        length = int(lengths.pop())
    if any(name == b"transfer-encoding" for name, _ in fields):
        length = None
    return ReplyHead(int(status.group(1)), status.group(2) or b"", tuple(fields), length, rest)


@implementer(IStreamClientEndpoint)
class TunnelEndpoint:
    """
    Connects to C{host}:C{port} over TLS through a tunnel the proxy opens.

    @param proxy_endpoint: Connects to the proxy.
    @param creator: The TLS connection creator for the origin (from the
        agent's policy: C{creatorForNetloc(host, port)}).
    @param timeout: Seconds the whole set-up may take, connecting to the
        proxy included.
    """

    def __init__(
        self,
        reactor: Any,
        proxy_endpoint: IStreamClientEndpoint,
        proxy: Proxy,
        host: bytes,
        port: int,
        creator: Any,
        timeout: float,
    ) -> None:
        self.reactor = reactor
        self.proxy_endpoint = proxy_endpoint
        self.proxy = proxy
        self.host = host
        self.port = port
        self.creator = creator
        self.timeout = timeout
        shown = host.decode("ascii")
        self.origin = f"[{shown}]:{port}" if ":" in shown else f"{shown}:{port}"

    def __repr__(self) -> str:
        return f"TunnelEndpoint({self.proxy!r}, {self.origin!r})"

    def connect(self, protocolFactory: IProtocolFactory) -> Deferred[Any]:
        """
        Open the tunnel; fires with C{protocolFactory}'s protocol, connected
        over TLS with the origin, or fails with a L{ProxyError}.
        """
        tunnel = Tunnel(self, protocolFactory)
        tunnel.start()
        return tunnel.ready


class _Once(Factory[Protocol]):
    def __init__(self, protocol: Protocol) -> None:
        self._protocol = protocol

    def buildProtocol(self, addr: Any) -> Protocol:
        return self._protocol


@implementer(IHandshakeListener)
class Tunnel(Protocol, Charted):
    """
    One tunnel's set-up, then its plumbing: the model of L{TunnelSetup}.

    @ivar ready: Fires with the HTTP/1.1 connection once the tunnel is ready,
        or fails with the reason it is not.
    """

    chart = TunnelSetup
    _fire: TunnelEvents
    _state = "CONNECTING"

    def __init__(self, endpoint: TunnelEndpoint, factory: IProtocolFactory) -> None:
        self._endpoint = endpoint
        self._factory = factory
        self.ready: Deferred[Any] = Deferred(lambda _: self._fire.cancel(self))
        self._connecting: Deferred[Any] | None = None
        self._timer: Any = None
        self._reader = ReplyReader()
        self._refusal: ReplyHead | None = None
        self._body = b""
        self._received = 0
        self._inner: Any = None
        self._outcome: Any = None

    @property
    def state(self) -> str:
        """
        The chart's state.
        """
        return self._state

    def start(self) -> None:
        """
        Start the timer and connect to the proxy.
        """
        endpoint = self._endpoint
        self._timer = endpoint.reactor.callLater(endpoint.timeout, self._fire.timeout, self)
        self._connecting = endpoint.proxy_endpoint.connect(_Once(self))
        self._connecting.addErrback(lambda reason: self._fire.unreachable(self, reason))

    # Twisted's calls, as events.

    def connectionMade(self) -> None:
        self._fire.connected(self)

    def dataReceived(self, data: bytes) -> None:
        self._fire.data(self, data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._fire.connection_lost(self, reason)

    def handshakeCompleted(self) -> None:
        self._fire.handshake_done(self)

    # Guards.

    def _accepted(self, head: ReplyHead) -> bool:
        return 200 <= head.status < 300

    def _overrun(self, head: ReplyHead) -> bool:
        return bool(head.rest)

    def _challenged(self) -> bool:
        return self._refusal is not None and self._refusal.status in (401, 407)

    def _tls_refused(self, reason: Failure) -> bool:
        from OpenSSL import SSL
        from service_identity import VerificationError

        return reason.check(SSL.Error, VerificationError) is not None

    # Effects.

    def _send_connect(self) -> None:
        authority = self._endpoint.origin.encode("ascii")
        lines = [b"CONNECT " + authority + b" HTTP/1.1", b"Host: " + authority]
        authorization = self._endpoint.proxy.authorization
        if authorization is not None:
            lines.append(b"Proxy-Authorization: " + authorization)
        self.transport.write(b"\r\n".join(lines) + b"\r\n\r\n")  # type: ignore[union-attr]

    def _read_reply(self, data: bytes) -> None:
        try:
            head = self._reader.feed(data)
        except ValueError as malformed:
            self._fire.bad_reply(self, Failure(malformed))
            return
        if head is not None:
            self._fire.reply(self, head)

    def _start_tls(self) -> None:
        self.transport.startTLS(self._endpoint.creator)  # type: ignore[union-attr]

    def _keep_refusal(self, head: ReplyHead) -> None:
        self._refusal = head
        self._take_body(head.rest)

    def _keep_refusal_body(self, data: bytes) -> None:
        self._take_body(data)

    def _take_body(self, data: bytes) -> None:
        self._received += len(data)
        self._body = (self._body + data)[: TunnelRefused.kept]
        length = self._refusal.length if self._refusal is not None else None
        complete = length is not None and self._received >= length
        if complete or len(self._body) >= TunnelRefused.kept:
            self._fire.refusal_read(self)

    def _hand_over(self) -> None:
        self._stop_timer()
        self._inner = self._factory.buildProtocol(self.transport.getPeer())  # type: ignore[union-attr]
        self._inner.makeConnection(self.transport)
        self._settle_with(self._inner)

    def _pass_on(self, data: bytes) -> None:
        self._inner.dataReceived(data)

    def _pass_loss(self, reason: Failure) -> None:
        self._inner.connectionLost(reason)

    def _abort_transport(self) -> None:
        self.transport.abortConnection()  # type: ignore[union-attr]

    def _stop_connecting(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()

    def _fail_unreachable(self, reason: Failure) -> None:
        self._fail(ProxyUnreachable(reason, **self._where()))

    def _fail_bad_reply(self, reason: Failure) -> None:
        self._fail(self._malformed(reason.getErrorMessage()))

    def _fail_overrun(self) -> None:
        self._fail(self._malformed("bytes followed its 2xx head before TLS began"))

    def _malformed(self, why: str) -> ProxyReplyMalformed:
        return ProxyReplyMalformed(
            f"the proxy {self._endpoint.proxy.where} sent a bad reply to CONNECT: {why}",
            **self._where(),
        )

    def _fail_authentication(self) -> None:
        assert self._refusal is not None
        self._fail(
            ProxyAuthenticationRequired(
                status=self._refusal.status,
                reason=self._refusal.reason,
                headers=self._refusal.headers,
                body=self._body,
                credentials_sent=self._endpoint.proxy.authorization is not None,
                **self._where(),
            )
        )

    def _fail_refused(self) -> None:
        assert self._refusal is not None
        self._fail(
            TunnelRefused(
                status=self._refusal.status,
                reason=self._refusal.reason,
                headers=self._refusal.headers,
                body=self._body,
                **self._where(),
            )
        )

    def _fail_no_reply(self, reason: Failure) -> None:
        what = "the proxy closed the connection before replying to CONNECT"
        self._fail(TunnelLost(what, reason, **self._where()))

    def _fail_lost(self, reason: Failure) -> None:
        what = "the tunnel was lost before TLS with the origin finished"
        self._fail(TunnelLost(what, reason, **self._where()))

    def _fail_tls(self, reason: Failure) -> None:
        self._fail(OriginTLSFailed(reason, **self._where()))

    def _fail_timeout(self) -> None:
        self._fail(
            TunnelTimeout(
                f"no tunnel to {self._endpoint.origin} through the proxy "
                f"{self._endpoint.proxy.where} within {self._endpoint.timeout:g} seconds",
                **self._where(),
            )
        )

    def _fail_cancelled(self) -> None:
        self._fail(CancelledError())

    # Helpers.

    def _where(self) -> dict[str, str]:
        return {"proxy": self._endpoint.proxy.where, "origin": self._endpoint.origin}

    def _fail(self, error: BaseException) -> None:
        self._stop_timer()
        self._settle_with(Failure(error))

    def _stop_timer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _settle_with(self, outcome: Any) -> None:
        # The Deferred fires once the step is over, so whatever its callbacks
        # do (send a request, cancel) sees the tunnel as the step left it.
        self._outcome = outcome
        self._when_step_ends()

    def _step_ended(self) -> None:
        outcome, self._outcome = self._outcome, None
        if isinstance(outcome, Failure):
            self.ready.errback(outcome)
        else:
            self.ready.callback(outcome)
