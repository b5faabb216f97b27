"""
L{LLHTTPParser}: httpchart's response parser.  llhttp, through httptools,
reads the bytes; the declared L{ResponseParsing} chart decides what they
mean for the response; the body goes to httpchart's L{Response}.

It keeps the observable behaviour of Twisted's L{HTTPClientParser}: the
response's Deferred fails with L{ResponseNeverReceived} or L{ResponseFailed}
when the head does not arrive, a body cut short ends with
C{ResponseFailed([reason, _DataLoss])}, a body delimited by the connection's
close ends with L{PotentialDataLoss}, informational 1xx responses are
skipped, the connection-control headers are kept apart from the response's
headers (Content-Length stays an ordinary header in the response to a HEAD
request), and the transport is paused from the end of the head until the
body has a consumer.

Like Twisted, it accepts lines that end with a bare LF.  It is deliberately
stricter than Twisted elsewhere: a response is malformed if it folds header
lines, repeats or lists Content-Length, carries both Content-Length and
Transfer-Encoding, uses a transfer coding other than chunked, switches
protocols without being asked, or sends a header line without a colon or
with control characters.  A malformed response fails with
L{MalformedResponse}, a L{ParseError}.

Limits keep a hostile server from growing memory without bound: a status or
header line longer than L{LLHTTPParser.max_line_length}, more than
L{LLHTTPParser.max_fields} header fields, or a head (everything before the
body, informational responses included) longer than
L{LLHTTPParser.max_head_size} fail the response with L{HeadTooLarge}, a
L{MalformedResponse}.  In a chunked body, a chunk size line (with its
extensions) is a line, and the trailers are a head: more than
C{max_line_length} bytes of chunk framing, or C{max_head_size} bytes of
trailers, without a byte of body between them fail the body the same way.
Lines are measured as they arrive, so an endless one is caught within one
read of its limit.  Twisted only drops the connection when a line is too
long, so the response fails with an unexplained ConnectionDone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from httptools import (
    HttpParserCallbackError,
    HttpParserError,
    HttpParserUpgrade,
    HttpResponseParser,
)
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web._newclient import ParseError, ResponseFailed, ResponseNeverReceived
from twisted.web.http import PotentialDataLoss, _DataLoss
from twisted.web.http_headers import Headers
from twisted.web.iweb import IResponse

from httpchart.statechart import Charted, ResponseParsing

from .parser import Finisher
from .response import CONNECTION_CONTROL, Response
from .timeouts import TimedOut

_CONTROL_LENGTHS = frozenset(len(name) for name in CONNECTION_CONTROL)
_BODILESS_STATUS = frozenset({204, 304})
_VERSIONS = {"1.1": (b"HTTP", 1, 1), "1.0": (b"HTTP", 1, 0)}
# The most bytes of the offending input a parse error carries.
_EXCERPT = 200


class MalformedResponse(ParseError):
    """
    The server's bytes are not an HTTP/1.1 response httpchart accepts; the
    message says what llhttp (or httpchart) found wrong.

    @ivar data: The first line of the read that was rejected (or the header
        name at fault).
    """

    def __init__(self, reason: str, data: bytes) -> None:
        ParseError.__init__(self, reason, data)


class HeadTooLarge(MalformedResponse):
    """
    The response's head exceeds one of the parser's limits.
    """


class _Halt(Exception):
    """
    Raised from an llhttp callback to stop parsing where the chart said so.
    """


class LLHTTPParser(Charted):
    """
    Reads one response, for one request, off a connection.

    @ivar request: The request being answered.
    @ivar transport: What the parser pauses, and the response's consumer may
        pause and resume: the connection's transport proxy.
    @ivar response: The L{Response}, once its head is in.
    @ivar response_deferred: Fires with the response once its head is in, or
        fails if it never arrives.

    @cvar max_line_length: The longest status or header line accepted, in
        bytes (Twisted's line limit).
    @cvar max_fields: The most header fields accepted in one head.
    @cvar max_head_size: The most bytes accepted before a head is complete.
    """

    max_line_length: ClassVar[int] = 16384
    max_fields: ClassVar[int] = 256
    max_head_size: ClassVar[int] = 65536

    chart = ResponseParsing
    _log: ClassVar[Logger] = Logger()

    _state: str = "HEAD"
    response: Response | None = None
    _any_bytes = False
    _halted = False
    _announced = False
    _stray = False
    _length: int | None = None
    _framing: bytes | None = None
    _trailers: list[tuple[bytes, bytes]] | None = None
    _code = 0
    _connection: Sequence[bytes] = ()
    _phrase = b""
    _heads = 0
    _head_bytes = 0
    _line_bytes = 0
    _line_start = b""
    _framing_bytes = 0
    _fed_body = False
    _in_trailers = False
    _last_read = b""
    continued: Callable[[], object] | None = None
    """Called when an interim C{100 Continue} response is read."""

    def __init__(self, request: Any, finisher: Finisher, transport: Any) -> None:
        self.request = request
        self.transport = transport
        self._finisher = finisher
        self._llhttp: HttpResponseParser | None = HttpResponseParser(self)
        self._llhttp.set_dangerous_leniencies(lenient_optional_cr_before_lf=True)
        self._fields: list[tuple[bytes, bytes]] = []
        self.response_deferred: Deferred[IResponse] = Deferred()

    @classmethod
    def open(
        cls, request: Any, finisher: Finisher, transport: Any
    ) -> tuple[LLHTTPParser, Deferred[IResponse]]:
        """
        A L{ParserFactory} making httpchart parsers.
        """
        parser = cls(request, finisher, transport)
        return parser, parser.response_deferred

    def dataReceived(self, data: bytes) -> None:
        """
        Parse more of the response.

        @raise MalformedResponse: The bytes are not a response httpchart
            accepts.
        @raise Exception: Whatever the response's consumer raised.
        """
        self._any_bytes = True
        self._heads = 0
        self._fed_body = False
        in_body = self.response is not None
        llhttp = self._llhttp
        if llhttp is None:
            raise MalformedResponse("bytes after the parser was disconnected", data)
        try:
            llhttp.feed_data(data)
        except HttpParserCallbackError as error:
            cause = error.__context__
            if not isinstance(cause, _Halt):
                raise cause from None  # type: ignore[misc]
        except HttpParserUpgrade:
            raise MalformedResponse("the server switched protocols unasked", _line(data)) from None
        except HttpParserError as error:
            raise MalformedResponse(str(error), _line(data)) from None
        finally:
            previous, self._last_read = self._last_read, data
        if self.response is None:
            self._head_bytes += len(data)
            self._measure_line(data)
            if self._head_bytes > self.max_head_size:
                raise HeadTooLarge(f"head longer than {self.max_head_size} bytes", _line(data))
        elif in_body and self._state == "CHUNKED":
            self._measure_framing(data)
        if self._announced:
            self._announced = False
            self._finisher(self._rest(data, previous))

    def _measure_line(self, data: bytes) -> None:
        """
        Fail if the head's last line, unfinished at the end of C{data}, is
        already longer than a line may be.  A line that starts with
        C{HTTP/} is a status line (a header name cannot hold a slash).
        """
        newline = data.rfind(b"\n")
        if newline >= 0:
            self._line_bytes, self._line_start = 0, b""
            data = data[newline + 1 :]
        self._line_bytes += len(data)
        if len(self._line_start) < 5:
            self._line_start += data[: 5 - len(self._line_start)]
        if self._line_bytes > self.max_line_length:
            kind = "status" if self._line_start == b"HTTP/" else "header"
            raise HeadTooLarge(f"{kind} line longer than {self.max_line_length} bytes", _line(data))

    def _measure_framing(self, data: bytes) -> None:
        """
        Count the bytes of a chunked body's read that carried no body: chunk
        size lines, extensions and trailers.  A read with body bytes starts
        the count again.
        """
        if self._fed_body:
            self._framing_bytes = 0
            return
        self._framing_bytes += len(data)
        if self._in_trailers:
            limit, what = self.max_head_size, "trailers"
        else:
            limit, what = self.max_line_length, "chunk size line"
        if self._framing_bytes > limit:
            raise HeadTooLarge(f"{what} longer than {limit} bytes", _line(data))

    def connectionLost(self, reason: Failure) -> None:
        """
        No more bytes will come: finish or fail the response for C{reason}.
        """
        self._llhttp = None
        self._fire.lost(self, reason)
        if self._announced:
            self._announced = False
            self._finisher(b"")

    def keeps_alive(self) -> bool:
        version = self.response.version if self.response is not None else (b"HTTP", 1, 1)
        if b"close" in self._connection:
            return False
        return version[1:] >= (1, 1) or b"keep-alive" in self._connection

    # llhttp's callbacks

    def on_message_begin(self) -> None:
        self._fire.begin(self)
        if self._halted:
            raise _Halt()

    def on_status(self, phrase: bytes) -> None:
        self._phrase += phrase
        if len(self._phrase) > self.max_line_length:
            raise HeadTooLarge(f"status line longer than {self.max_line_length} bytes", b"")

    def on_header(self, name: bytes, value: bytes) -> None:
        fields = self._fields if self._trailers is None else self._trailers
        if len(fields) >= self.max_fields:
            raise HeadTooLarge(f"more than {self.max_fields} header fields", name)
        fields.append((name, value))

    def on_headers_complete(self) -> None:
        self._heads += 1
        self._code = self._llhttp.get_status_code()  # type: ignore[union-attr]
        self._read_fields()
        if self._framing not in (None, b"chunked") and not self._informational():
            raise MalformedResponse("unsupported transfer coding", self._framing)
        self._fire.head_done(self)
        if self._halted:
            raise _Halt()

    def _read_fields(self) -> None:
        """
        Check the head's fields and find the ones the parser needs: the
        framing (Content-Length, Transfer-Encoding) and the Connection tokens.
        Only names as long as a connection-control header's are lowercased;
        the response normalises the rest if someone reads them.
        """
        limit = self.max_line_length
        connection: list[bytes] = []
        for name, value in self._fields:
            if len(name) + len(value) > limit:
                raise HeadTooLarge(f"header line longer than {limit} bytes", name)
            if len(name) not in _CONTROL_LENGTHS:
                continue
            lowered = name.lower()
            if lowered == b"content-length":
                self._length = int(value)
            elif lowered == b"transfer-encoding":
                self._framing = value.rsplit(b",", 1)[-1].strip().lower()
            elif lowered == b"connection":
                connection += (token.strip().lower() for token in value.split(b","))
        self._connection = connection

    def on_body(self, data: bytes) -> None:
        self._fed_body = True
        self._in_trailers = False
        self._fire.body(self, data)

    def on_chunk_header(self) -> None:
        # Until body bytes follow, this may be the last chunk's header, which
        # the trailers follow.
        self._in_trailers = True

    def on_message_complete(self) -> None:
        self._fire.complete(self)

    # Guards

    def _informational(self) -> bool:
        return 100 <= self._code < 200

    def _bodiless(self) -> bool:
        return self._code in _BODILESS_STATUS or self.request.method == b"HEAD"

    def _chunked(self) -> bool:
        return self._framing == b"chunked"

    def _sized(self) -> bool:
        return self._length is not None

    def _received(self) -> bool:
        return self._any_bytes

    def _timed_out(self, reason: Failure) -> bool:
        return reason.check(TimedOut) is not None

    # Effects

    def _skip_informational(self) -> None:
        if self._code == 100 and self.continued is not None:
            self.continued()
        self._log.info("Ignoring unexpected {code} response", code=self._code)
        self._fields = []
        self._connection = ()
        self._phrase = b""
        self._length = self._framing = None

    def _pause_transport(self) -> None:
        self.transport.pauseProducing()

    def _open_response(self) -> None:
        llhttp = self._llhttp
        assert llhttp is not None
        version = llhttp.get_http_version()
        response = Response._construct(
            _VERSIONS.get(version) or _version(version),
            self._code,
            self._phrase,
            None,
            self.transport,
            self.request,
        )
        response._fields = self._fields
        response._keeps_length = self.request.method == b"HEAD"
        if self._bodiless():
            response.length = 0
        elif self._length is not None and self._framing is None:
            response.length = self._length
        self.response = response
        self._trailers = []

    def _deliver_head(self) -> None:
        response = self.response
        assert response is not None
        self.response_deferred.callback(response)

    def _deliver_body(self, data: bytes) -> None:
        self.response._bodyDataReceived(data)  # type: ignore[union-attr]

    def _finish_body(self) -> None:
        response = self.response
        assert response is not None
        if self._trailers:
            trailers = Headers()
            for name, value in _normalized(self._trailers, self.max_line_length):
                trailers.addRawHeader(name, value)
            response._trailers = trailers
        response._bodyDataFinished()

    def _finish_body_uncertain(self) -> None:
        self.response._bodyDataFinished(Failure(PotentialDataLoss()))  # type: ignore[union-attr]

    def _fail_body(self, reason: Failure) -> None:
        response = self.response
        assert response is not None
        response._bodyDataFinished(
            Failure(ResponseFailed([reason, Failure(_DataLoss())], response))
        )

    def _fail_head(self, reason: Failure) -> None:
        self.response_deferred.errback(Failure(ResponseFailed([reason])))

    def _fail_unanswered(self, reason: Failure) -> None:
        self.response_deferred.errback(Failure(ResponseNeverReceived([reason])))

    def _announce_complete(self) -> None:
        self._announced = True

    def _note_stray(self) -> None:
        self._stray = True

    def _halt(self) -> None:
        self._halted = True

    # Where a response ended within the read that completed it

    def _rest(self, data: bytes, previous: bytes) -> bytes:
        """
        The bytes of C{data} that followed the response.  When llhttp was
        halted at the end of a head, that is after the head's blank line;
        when a new message began after a complete body, llhttp does not say
        where, so the whole read stands for them.
        """
        if self._stray:
            return data
        if not self._halted:
            return b""
        tail = previous[-3:]
        window = tail + data
        end = -1
        for _ in range(self._heads):
            end = _blank_line_end(window, max(end, 0), len(tail))
        return data[end - len(tail) :] if end >= 0 else b""


def _blank_line_end(window: bytes, start: int, floor: int) -> int:
    """
    The index just past the first blank line (CRLF or bare LF) that ends at
    or after C{floor}, searching from C{start}; -1 if there is none.
    """
    while True:
        ends = [
            found + len(pattern)
            for pattern in (b"\n\r\n", b"\n\n")
            if (found := window.find(pattern, start)) >= 0
        ]
        if not ends:
            return -1
        end = min(ends)
        if end > floor:
            return end
        start = end - 1


def _normalized(
    fields: list[tuple[bytes, bytes]], max_line_length: int
) -> list[tuple[bytes, bytes]]:
    """
    C{fields} with lowercase names and values without trailing whitespace.

    @raise HeadTooLarge: A field is longer than C{max_line_length}.
    """
    normalized = []
    for name, value in fields:
        if len(name) + len(value) > max_line_length:
            raise HeadTooLarge(f"header line longer than {max_line_length} bytes", name)
        normalized.append((name.lower(), value.rstrip(b" \t")))
    return normalized


def _line(data: bytes) -> bytes:
    """
    The first line of C{data}, at most L{_EXCERPT} bytes of it, which a
    L{ParseError} reports.
    """
    return data.split(b"\n", 1)[0].rstrip(b"\r")[:_EXCERPT]


def _version(text: str) -> tuple[bytes, int, int]:
    major, minor = text.split(".")
    return (b"HTTP", int(major), int(minor))
