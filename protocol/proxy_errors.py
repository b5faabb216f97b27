"""
The ways going through a proxy can fail, each an exception that says what
happened and keeps what the caller may want to look at.

All of them are L{twisted.internet.error.ConnectError}s, as a failure to
connect directly is: they come out of the Deferred of the connection the
agent asked its pool for, so the request's Deferred fails with them
unwrapped, before any byte of the request was sent.  None of them names the
proxy's credentials: the proxy is shown by L{Proxy.where}, which leaves them
out.
"""

from __future__ import annotations

from collections.abc import Sequence

from twisted.internet.error import ConnectError, ConnectionRefusedError
from twisted.python.failure import Failure


class ProxyError(ConnectError):
    """
    Reaching the origin through a proxy failed; the message says how.

    @ivar proxy: Where the proxy is, C{host:port}.
    @ivar origin: Where the request was going, C{host:port}.
    """

    def __init__(self, message: str, *, proxy: str, origin: str) -> None:
        super().__init__(string=message)  # type: ignore[no-untyped-call]
        self.message = message
        self.proxy = proxy
        self.origin = origin

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ProxyUnreachable(ProxyError):
    """
    The proxy could not be connected to: it refused the connection, its name
    did not resolve, or it did not answer in time.

    @ivar reason: Why, as the connection attempt reported it.
    """

    def __init__(self, reason: Failure, *, proxy: str, origin: str) -> None:
        refused = "refused the connection" if _refused(reason) else "cannot be reached"
        super().__init__(
            f"the proxy {proxy} {refused} ({reason.getErrorMessage()})",
            proxy=proxy,
            origin=origin,
        )
        self.reason = reason


def _refused(reason: Failure) -> bool:
    return reason.check(ConnectionRefusedError) is not None


class ProxyReplyMalformed(ProxyError):
    """
    The proxy's reply to CONNECT is not a valid HTTP head (or too large, or
    followed by bytes that cannot be the origin's).
    """


class TunnelRefused(ProxyError):
    """
    The proxy answered CONNECT with a status other than 2xx.

    @ivar status: The status code.
    @ivar reason: The reason phrase, as sent.
    @ivar headers: The reply's header fields, as (name, value) pairs with
        lower-case names.
    @ivar body: The start of the reply's body (at most
        L{TunnelRefused.kept} bytes).
    """

    kept = 1024

    def __init__(
        self,
        *,
        proxy: str,
        origin: str,
        status: int,
        reason: bytes,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes,
        message: str | None = None,
    ) -> None:
        if message is None:
            message = (
                f"the proxy {proxy} refused a tunnel to {origin}: "
                f"{status} {_text(reason)}{_shown(body)}"
            )
        super().__init__(message, proxy=proxy, origin=origin)
        self.status = status
        self.reason = reason
        self.headers = tuple(headers)
        self.body = body


class ProxyAuthenticationRequired(TunnelRefused):
    """
    The proxy answered CONNECT with 407: it wants credentials, or other ones.
    A 401 counts too: tinyproxy, for one, answers wrong credentials with it.

    @ivar challenge: The values of the reply's C{Proxy-Authenticate} fields.
    @ivar credentials_sent: Whether the request carried credentials (the
        proxy's URL had them).
    """

    def __init__(
        self,
        *,
        proxy: str,
        origin: str,
        status: int,
        reason: bytes,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes,
        credentials_sent: bool,
    ) -> None:
        self.challenge = tuple(v for n, v in headers if n == b"proxy-authenticate")
        said = "refused the credentials given" if credentials_sent else "requires credentials"
        challenge = "; ".join(_text(value) for value in self.challenge) or "none"
        super().__init__(
            proxy=proxy,
            origin=origin,
            status=status,
            reason=reason,
            headers=headers,
            body=body,
            message=f"the proxy {proxy} {said} for a tunnel to {origin}: {status} "
            f"{_text(reason)} (Proxy-Authenticate: {challenge})",
        )
        self.credentials_sent = credentials_sent


class TunnelLost(ProxyError):
    """
    The connection to the proxy was lost before the tunnel was ready: before
    the proxy replied, or before TLS with the origin finished.

    @ivar reason: The loss, as the transport reported it.
    """

    def __init__(self, message: str, reason: Failure, *, proxy: str, origin: str) -> None:
        super().__init__(
            f"{message} ({reason.getErrorMessage()})",
            proxy=proxy,
            origin=origin,
        )
        self.reason = reason


class OriginTLSFailed(ProxyError):
    """
    TLS with the origin, through the tunnel, failed: its certificate was not
    trusted or does not name it, or the handshake itself failed.

    @ivar reason: The TLS error (an C{OpenSSL.SSL.Error}, or
        C{service_identity}'s C{VerificationError}).
    """

    def __init__(self, reason: Failure, *, proxy: str, origin: str) -> None:
        super().__init__(
            f"TLS with {origin} through the proxy {proxy} failed: {_tls_text(reason)}",
            proxy=proxy,
            origin=origin,
        )
        self.reason = reason


class TunnelTimeout(ProxyError):
    """
    The tunnel was not ready within the time allowed for its set-up.
    """


def _text(data: bytes) -> str:
    return data.decode("latin-1")


def _shown(body: bytes, limit: int = 200) -> str:
    words = " ".join(body.decode("utf-8", "replace").split())
    if not words:
        return ""
    return f": {words[:limit]}{'…' if len(words) > limit else ''}"


def _tls_text(reason: Failure) -> str:
    value = reason.value
    details = value.args[0] if value is not None and value.args else None
    if isinstance(details, list) and details and isinstance(details[0], tuple):
        return "; ".join(str(entry[-1]) for entry in details)
    return reason.getErrorMessage() or type(value).__name__
