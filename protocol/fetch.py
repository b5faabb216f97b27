"""
C{httpchart get}: one request through Twisted's L{Agent} on httpchart's
L{HTTPConnectionPool}, its response written out as it streams in.  The
request goes through the proxy C{--proxy} names, or else as the
environment's proxy settings say (L{environment_agent}).

Everything that can go wrong before a response is complete (a bad URL, a
refused connection, a name that does not resolve, a broken response, no
answer in time) ends as a L{FetchError} carrying one line that says what
happened; the command line prints it instead of a traceback.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import IO, Any, BinaryIO
from urllib.parse import urlsplit

from twisted.internet.defer import CancelledError, Deferred, TimeoutError
from twisted.internet.error import (
    ConnectError,
    ConnectingCancelledError,
    ConnectionClosed,
    ConnectionRefusedError,
    DNSLookupError,
)
from twisted.internet.protocol import Protocol, connectionDone
from twisted.python.failure import Failure
from twisted.web._newclient import ParseError, _WrapperException
from twisted.web.client import BrowserLikePolicyForHTTPS, FileBodyProducer, ResponseDone
from twisted.web.http import PotentialDataLoss, _DataLoss
from twisted.web.http_headers import Headers
from twisted.web.iweb import UNKNOWN_LENGTH, IAgent, IResponse

from .environment import environment_agent
from .observe import ConnectionObserver
from .pool import HTTPConnectionPool
from .proxy import ProxyAgent
from .proxy_errors import ProxyError
from .proxy_url import ProxyURLError

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class FetchError(Exception):
    """
    The request failed; the message says why, in one line.
    """


@dataclass(frozen=True)
class Fetch:
    """
    What to request and where the response goes.

    @ivar data: The request body: bytes, or C{@path} for a file's contents.
    @ivar output: Write the body to this file instead of standard output.
    @ivar cacert: Trust the certificate authority in this PEM file instead of
        the platform's.
    @ivar proxy: Send the request through this proxy (C{http://[user:password@]host:port});
        without it, the environment's proxy settings apply.
    """

    url: str
    method: str | None = None
    headers: Sequence[str] = ()
    data: bytes | None = None
    output: Path | None = None
    cacert: Path | None = None
    timeout: float = 30.0
    proxy: str | None = None
    observer: ConnectionObserver | None = field(default=None, compare=False)


def parse_url(url: str) -> bytes:
    """
    C{url} as bytes, once it is known to be an absolute HTTP(S) URL with a
    host and a valid port.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as invalid:
        raise FetchError(f"bad URL {url!r}: {invalid}") from None
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"bad URL {url!r}: the scheme must be http or https")
    if not parts.hostname:
        raise FetchError(f"bad URL {url!r}: no host")
    if port == 0:
        raise FetchError(f"bad URL {url!r}: port 0")
    try:
        return url.encode("ascii")
    except UnicodeEncodeError:
        raise FetchError(f"bad URL {url!r}: only ASCII is allowed") from None


def parse_headers(lines: Sequence[str]) -> Headers:
    """
    C{Name: value} lines as L{Headers}: the name an HTTP token, the value
    Latin-1 text on one line.
    """
    headers = Headers()
    for line in lines:
        name, colon, value = line.partition(":")
        value = value.strip()
        if not colon or not _TOKEN.fullmatch(name):
            raise FetchError(f"bad header {line!r}: expected 'Name: value'")
        try:
            encoded = value.encode("latin-1")
        except UnicodeEncodeError:
            raise FetchError(f"bad header {line!r}: the value must be Latin-1 text") from None
        if any((byte < 0x20 and byte != 0x09) or byte == 0x7F for byte in encoded):
            raise FetchError(f"bad header {line!r}: control characters in the value")
        headers.addRawHeader(name.encode("ascii"), encoded)
    return headers


def _source(data: bytes | None) -> BinaryIO | None:
    """
    The request body as a file to read: C{data}, or the file that C{@path}
    names.
    """
    if data is None:
        return None
    if data.startswith(b"@"):
        path = data[1:].decode()
        try:
            return Path(path).open("rb")
        except OSError as error:
            raise FetchError(f"cannot read {path}: {error.strerror}") from None
    return BytesIO(data)


def _agent(reactor: Any, fetch: Fetch, pool: HTTPConnectionPool) -> IAgent:
    policy = BrowserLikePolicyForHTTPS() if fetch.cacert is None else _trusting(fetch.cacert)
    if fetch.proxy is None:
        return environment_agent(reactor, pool=pool, contextFactory=policy)
    try:
        return ProxyAgent(reactor, fetch.proxy, pool=pool, contextFactory=policy)
    except ProxyURLError as error:
        raise FetchError(f"bad --proxy: {error}") from None


def _trusting(cacert: Path) -> BrowserLikePolicyForHTTPS:
    try:
        from twisted.internet.ssl import Certificate
    except ImportError:
        raise FetchError("--cacert needs TLS support: pip install 'twisted[tls]'") from None
    try:
        trust = Certificate.loadPEM(cacert.read_bytes())
    except OSError as error:
        raise FetchError(f"cannot read {cacert}: {error.strerror}") from None
    except Exception:
        raise FetchError(f"{cacert} holds no PEM certificate") from None
    return BrowserLikePolicyForHTTPS(trustRoot=trust)


def _leaves(reason: Failure) -> list[Failure]:
    """
    The failures at the bottom of Twisted's wrapper exceptions.
    """
    if isinstance(reason.value, _WrapperException):
        return [leaf for inner in reason.value.reasons for leaf in _leaves(inner)]
    return [reason]


def describe(reason: Failure, url: str, timeout: float) -> str:
    """
    One line saying why the request for C{url} failed.
    """
    leaves = _leaves(reason)
    where = urlsplit(url).netloc

    def first(*kinds: type[BaseException]) -> Failure | None:
        return next((leaf for leaf in leaves if leaf.check(*kinds)), None)

    if proxied := first(ProxyError, ProxyURLError):
        return str(proxied.value)
    if first(TimeoutError, CancelledError, ConnectingCancelledError):
        return f"no complete response from {where} within {timeout:g} seconds"
    if first(DNSLookupError):
        return f"cannot resolve the host {urlsplit(url).hostname!r}"
    if first(ConnectionRefusedError):
        return f"connection refused by {where}"
    if malformed := first(ParseError):
        return f"malformed response from {where}: {_parse_error(malformed.value)}"
    if tls := _tls_failure(leaves):
        return f"TLS handshake with {where} failed: {tls}"
    if first(_DataLoss):
        return f"{where} closed the connection before the body was complete"
    if first(ConnectionClosed):
        return f"{where} closed the connection without a complete response"
    if connect := first(ConnectError):
        return f"cannot connect to {where}: {connect.value}"
    leaf = leaves[0]
    kind = type(leaf.value).__name__
    return f"request to {where} failed: {kind}: {leaf.getErrorMessage()}"


def _parse_error(error: BaseException | None) -> str:
    reason, *data = error.args if error is not None else ("",)
    return f"{reason} {data[0]!r}" if data else str(reason)


def _tls_failure(leaves: list[Failure]) -> str | None:
    try:
        from OpenSSL import SSL
    except ImportError:
        return None
    for leaf in leaves:
        if isinstance(leaf.value, SSL.Error):
            details = leaf.value.args[0] if leaf.value.args else []
            if isinstance(details, list) and details and isinstance(details[0], tuple):
                return "; ".join(str(entry[-1]) for entry in details)
            return str(leaf.value) or "certificate verification failed"
    return None


def head_text(response: IResponse) -> bytes:
    """
    The status line and headers of C{response}, as text.  Twisted keeps the
    connection's own headers apart; of those, the body's length is shown.
    """
    version = b"%s/%d.%d" % response.version
    lines = [b"%s %d %s" % (version, response.code, response.phrase)]
    for name, values in response.headers.getAllRawHeaders():
        lines.extend(name + b": " + value for value in values)
    if response.length is not UNKNOWN_LENGTH:
        lines.append(b"Content-Length: %d" % response.length)
    return b"\n".join(lines) + b"\n\n"


class Progress:
    """
    A progress line (bytes so far and the average rate), rewritten in place
    at most ten times a second.
    """

    def __init__(self, out: IO[str], clock: Callable[[], float] = time.monotonic) -> None:
        self._out = out
        self._clock = clock
        self._started = self._shown = clock()
        self._size = 0

    def update(self, size: int) -> None:
        self._size = size
        now = self._clock()
        if now - self._shown >= 0.1:
            self._shown = now
            self._show(now)

    def finish(self) -> None:
        self._show(self._clock())
        self._out.write("\n")
        self._out.flush()

    def _show(self, now: float) -> None:
        elapsed = max(now - self._started, 1e-6)
        rate = _amount(self._size / elapsed)
        self._out.write(f"\r{_amount(self._size)}  {rate}/s   ")
        self._out.flush()


def _amount(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


class _Sink(Protocol):
    """
    Writes a body to a file as it arrives.
    """

    def __init__(self, out: BinaryIO, progress: Progress | None) -> None:
        self._out = out
        self._progress = progress
        self._size = 0
        self.done: Deferred[None] = Deferred(self._cancel)

    def dataReceived(self, data: bytes) -> None:
        self._out.write(data)
        self._size += len(data)
        if self._progress is not None:
            self._progress.update(self._size)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self._progress is not None:
            self._progress.finish()
        self._out.flush()
        if self.done.called:
            return
        if reason.check(ResponseDone, PotentialDataLoss):
            self.done.callback(None)
        else:
            self.done.errback(reason)

    def _cancel(self, deferred: Deferred[None]) -> None:
        if self.transport is not None:
            self.transport.stopProducing()  # type: ignore[attr-defined]


async def _exchange(
    reactor: Any, fetch: Fetch, pool: HTTPConnectionPool, out: BinaryIO, err: IO[str]
) -> None:
    url = parse_url(fetch.url)
    headers = parse_headers(fetch.headers)
    source = _source(fetch.data)
    # FileBodyProducer closes the body's file once it has sent it all; this
    # closes it when the exchange ends any other way (no connection, a bad
    # --cacert, a timeout).
    with source if source is not None else nullcontext():
        body = None if source is None else FileBodyProducer(source)
        method = (fetch.method or ("GET" if body is None else "POST")).encode("ascii")
        agent = _agent(reactor, fetch, pool)
        response = await agent.request(method, url, headers, body)
        out.write(head_text(response))
        out.flush()
        progress = Progress(err) if fetch.output is not None and err.isatty() else None
        if fetch.output is None:
            sink = _Sink(out, progress)
            response.deliverBody(sink)
            await sink.done
            return
        try:
            target = fetch.output.open("wb")
        except OSError as error:
            raise FetchError(f"cannot write {fetch.output}: {error.strerror}") from None
        with target:
            sink = _Sink(target, progress)
            response.deliverBody(sink)
            await sink.done


async def run(reactor: Any, fetch: Fetch, out: BinaryIO, err: IO[str]) -> None:
    """
    Make the request of C{fetch} and write the response's status line and
    headers to C{out}, and its body to C{out} or C{fetch.output}.

    @raise FetchError: The request failed.
    """
    pool = HTTPConnectionPool(reactor, observer=fetch.observer)
    exchange = Deferred.fromCoroutine(_exchange(reactor, fetch, pool, out, err))
    exchange.addTimeout(fetch.timeout, reactor)
    try:
        await exchange
    except FetchError:
        raise
    except Exception:
        raise FetchError(describe(Failure(), fetch.url, fetch.timeout)) from None
    finally:
        await pool.closeCachedConnections()
