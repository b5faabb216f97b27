"""
L{LLHTTPParser}: httpchart's response parser.  llhttp, through httptools,
reads the bytes; the declared L{ResponseParsing} chart decides what they
mean for the response; the body goes to httpchart's L{Response}.

It keeps the observable behaviour of Twisted's
L{HTTPClientParser <twisted.web._newclient.HTTPClientParser>}: the response's
Deferred fails with
L{ResponseNeverReceived <twisted.web.client.ResponseNeverReceived>} or
L{ResponseFailed <twisted.web.client.ResponseFailed>} when the head does not
arrive, a body cut short ends with C{ResponseFailed([reason, _DataLoss])}, a
body delimited by the connection's close ends with L{PotentialDataLoss},
informational 1xx responses are skipped, the connection-control headers are
kept apart from the response's headers (Content-Length stays an ordinary header
in the response to a HEAD request), and the transport is paused from the end of
the head until the body has a consumer.

Like Twisted, it accepts lines that end with a bare LF.  It is deliberately
stricter than Twisted elsewhere: a response is malformed if it folds header
lines, repeats or lists Content-Length, carries both Content-Length and
Transfer-Encoding, uses any transfer coding list other than a single
C{chunked} (on one line or several), switches
protocols without being asked, or sends a header line without a colon or
with control characters.  A malformed response fails with
L{MalformedResponse}, a L{ParseError}.

Limits keep a hostile server from growing memory without bound: a status or
header line longer than L{LLHTTPParser.max_line_length}, more than
L{LLHTTPParser.max_fields} header fields, or a head (everything before the
body, informational responses included) longer than
L{LLHTTPParser.max_head_size} fail the response with L{HeadTooLarge}, a
L{MalformedResponse}.  In a chunked body, a chunk size line (with its
extensions, up to its line feed) is a line, and the trailers are a head: a
chunk size line or a trailer line longer than C{max_line_length}, or
trailers longer than C{max_head_size} (each field counted as the line
C{name: value} CRLF) fail the body the same way, however the bytes are
split into reads.  Lines are measured as they arrive, so an endless one is
caught within one read of its limit.  Twisted only drops the connection when
a line is too long, so the response fails with an unexplained
ConnectionDone.

An optional cap on the body, L{LLHTTPParser.max_body_size}, fails a response
whose Content-Length exceeds it at the head, and a body that grows past it
as soon as the read that crosses it is parsed, with L{BodyTooLarge}.
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
from twisted.web._newclient import (
    ConnectionAborted,
    ParseError,
    ResponseFailed,
    ResponseNeverReceived,
)
from twisted.web.http import PotentialDataLoss, _DataLoss
from twisted.web.http_headers import Headers
from twisted.web.iweb import IResponse

from httpchart.statechart import Charted, ResponseParsing

from .events import ParsingEvents
from .parser import Finisher
from .response import BODY_COMPLETE, CONNECTION_CONTROL, Response
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


class BodyTooLarge(ConnectionAborted):
    """
    The response's body is longer than the parser's C{max_body_size}: its
    Content-Length says so, or more bytes than that arrived.  The client
    gives the connection up because of it, which is why this is a
    L{ConnectionAborted <twisted.web._newclient.ConnectionAborted>}.

    @ivar limit: The C{max_body_size} that was exceeded.
    @ivar length: The body's Content-Length, when that is what exceeded
        the limit; C{None} when the bytes themselves did.
    """

    def __init__(self, limit: int, length: int | None = None) -> None:
        if length is None:
            message = f"body longer than {limit} bytes"
        else:
            message = f"Content-Length {length} exceeds the body limit of {limit} bytes"
        ConnectionAborted.__init__(self, message)
        self.limit = limit
        self.length = length


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
    @cvar max_head_size: The most bytes accepted before a head is complete,
        and the most bytes of trailers.
    @ivar max_body_size: The most bytes of body accepted, or C{None} (the
        default) for no limit.  A class attribute, which a connection given
        a C{max_body_size} overrides on each parser it opens.
    """

    _fire: ParsingEvents

    max_line_length: ClassVar[int] = 16384
    max_fields: ClassVar[int] = 256
    max_head_size: ClassVar[int] = 65536
    max_body_size: int | None = None

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
    _codings: tuple[bytes, ...] = ()
    _body_bytes = 0
    _trailer_bytes = 0
    _trailer_line = 0
    _trailers: list[tuple[bytes, bytes]] | None = None
    _code = 0
    _connection: Sequence[bytes] = ()
    _keep_alive: Sequence[bytes] = ()
    _phrase = b""
    _heads = 0
    _head_bytes = 0
    _line_bytes = 0
    _line_start = b""
    _read = b""
    _cursor = 0
    _size_line: int | None = None
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
        self._read, self._cursor = data, 0
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
        elif self._state == "CHUNKED":
            self._measure_framing(data)
        if self._announced:
            self._announced = False
            self._finisher(self._rest(data, previous) if self._stray or self._halted else b"")

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
        Fail if the chunked body's framing that ends C{data}, unfinished, is
        already longer than allowed.  In the trailers, that is the trailer
        fields so far and the unfinished line, against C{max_head_size}
        (complete fields are counted as they are reported, by
        L{_count_trailer}).  Before them, it is the chunk size line being
        read, with its extensions, against C{max_line_length} (complete
        ones are measured by L{on_chunk_header}).

        C{_cursor} is where llhttp's callbacks have got to in C{data}: the
        end of the last body bytes, or of the last chunk size line.
        C{_size_line} is the length so far of a chunk size line being read,
        or C{None} in a chunk's data (its line feed then starts the next
        chunk size line).
        """
        if self._in_trailers:
            newline = data.rfind(b"\n")
            if newline >= 0:
                self._trailer_line = len(data) - newline - 1
            else:
                self._trailer_line += len(data)
            if self._trailer_bytes + self._trailer_line > self.max_head_size:
                raise HeadTooLarge(f"trailers longer than {self.max_head_size} bytes", _line(data))
        else:
            size_line, cursor = self._size_line, self._cursor
            if size_line is None:
                newline = data.find(b"\n", cursor)
                if newline < 0:
                    return  # still in a chunk's data
                # The chunk's data is over; the next chunk size line began.
                size_line, cursor = 0, newline + 1
            self._size_line = size_line = size_line + len(data) - cursor
            if size_line > self.max_line_length:
                raise HeadTooLarge(
                    f"chunk size line longer than {self.max_line_length} bytes", _line(data)
                )

    def connectionLost(self, reason: Failure) -> None:
        """
        No more bytes will come: finish or fail the response for C{reason}.
        """
        self._llhttp = None
        self._fire.lost(self, reason)
        if self._announced:
            self._announced = False
            self._finisher(b"")

    def keep_alive_values(self) -> Sequence[bytes]:
        return self._keep_alive

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
        if self._trailers is not None:
            self._count_trailer(name, value)
        fields.append((name, value))

    def _count_trailer(self, name: bytes, value: bytes) -> None:
        """
        Add a complete trailer field to the trailers' size, counted as the
        line C{name: value} CRLF, whatever reads it arrived in.
        """
        line = len(name) + len(value)
        self._trailer_bytes += line + 4
        if self._trailer_bytes > self.max_head_size:
            raise HeadTooLarge(f"trailers longer than {self.max_head_size} bytes", name)
        if line > self.max_line_length:
            raise HeadTooLarge(f"trailer line longer than {self.max_line_length} bytes", name)

    def on_headers_complete(self) -> None:
        self._heads += 1
        self._code = self._llhttp.get_status_code()  # type: ignore[union-attr]
        self._read_fields()
        if (self._codings or self.max_body_size is not None) and not 100 <= self._code < 200:
            self._check_head()
        self._fire.head_done(self)
        if self._halted:
            raise _Halt()
        if self._state == "CHUNKED":
            # The first chunk size line starts where the head ends.
            start = self._end_of_heads(self._read, self._last_read)
            self._cursor, self._size_line = max(start, 0), 0

    def _read_fields(self) -> None:
        """
        Check the head's fields and find the ones the parser needs: the
        framing (Content-Length, Transfer-Encoding), the Connection tokens and
        the Keep-Alive values (a pool reads them).
        Only names as long as a connection-control header's are lowercased;
        the response normalises the rest if someone reads them.
        """
        limit = self.max_line_length
        connection: list[bytes] = []
        codings: list[bytes] = []
        keep_alive: list[bytes] = []
        for name, value in self._fields:
            if len(name) + len(value) > limit:
                raise HeadTooLarge(f"header line longer than {limit} bytes", name)
            if len(name) not in _CONTROL_LENGTHS:
                continue
            lowered = name.lower()
            if lowered == b"content-length":
                self._length = int(value)
            elif lowered == b"transfer-encoding":
                codings += (coding.strip().lower() for coding in value.split(b","))
            elif lowered == b"connection":
                connection += (token.strip().lower() for token in value.split(b","))
            elif lowered == b"keep-alive":
                keep_alive.append(value)
        self._connection = connection
        self._codings = tuple(codings)
        self._keep_alive = keep_alive

    def _check_head(self) -> None:
        """
        Check the framing of a final response's body before the chart reads
        it: the only transfer coding accepted is a single C{chunked}, and a
        Content-Length may not exceed L{max_body_size}.

        @raise MalformedResponse: Another transfer coding, or a list of them.
        @raise BodyTooLarge: The body would be longer than allowed.
        """
        codings = self._codings
        if codings:
            for coding in codings:
                if coding != b"chunked":
                    name = coding.decode("latin-1") or "(empty)"
                    raise MalformedResponse(f"unsupported transfer coding: {name}", coding)
            if len(codings) > 1:
                raise MalformedResponse(
                    "transfer coding chunked applied more than once", b"chunked"
                )
            self._framing = b"chunked"
        limit, length = self.max_body_size, self._length
        if limit is not None and length is not None and length > limit and not self._bodiless():
            raise BodyTooLarge(limit, length)

    def on_body(self, data: bytes) -> None:
        self._cursor += len(data)
        self._in_trailers = False
        limit = self.max_body_size
        if limit is not None:
            self._body_bytes += len(data)
            if self._body_bytes > limit:
                raise BodyTooLarge(limit)
        self._fire.body(self, data)

    def on_chunk_header(self) -> None:
        read, cursor, size_line = self._read, self._cursor, self._size_line
        if size_line is None:
            # The previous chunk's data ends at the cursor, then its line
            # feed (at the cursor, or after a CR), then this chunk size line.
            newline = read.find(b"\n", cursor + 2)
            if newline - cursor - 1 > self.max_line_length:
                size_line = newline - read.find(b"\n", cursor) - 1
        else:
            newline = read.find(b"\n", cursor)
            size_line += newline - cursor
        self._cursor, self._size_line = newline + 1, None
        if size_line is not None and size_line > self.max_line_length:
            raise HeadTooLarge(f"chunk size line longer than {self.max_line_length} bytes", b"")
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

    def _cut_short(self, reason: Failure) -> bool:
        return reason.check(BodyTooLarge, TimedOut) is not None

    # Effects

    def _skip_informational(self) -> None:
        if self._code == 100 and self.continued is not None:
            self.continued()
        self._log.info("Ignoring unexpected {code} response", code=self._code)
        self._fields = []
        self._connection = self._keep_alive = ()
        self._phrase = b""
        self._length = self._framing = None
        self._codings = ()

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
        head = response._keeps_length = self.request.method == b"HEAD"
        if head or self._code in _BODILESS_STATUS:
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
        response = self.response
        assert response is not None
        response._fire.data(response, data)

    def _finish_body(self) -> None:
        response = self.response
        assert response is not None
        if self._trailers:
            trailers = Headers()
            for name, value in _normalized(self._trailers):
                trailers.addRawHeader(name, value)
            response._trailers = trailers
        response._fire.finished(response, BODY_COMPLETE)

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
        The bytes of C{data} that followed a response after which llhttp
        was halted or a new message began (otherwise nothing followed it).
        When llhttp was halted at the end of a head, that is after the
        head's blank line; when a new message began after a complete body,
        llhttp does not say where, so the whole read stands for them.
        """
        if self._stray:
            return data
        end = self._end_of_heads(data, previous)
        return data[end:] if end >= 0 else b""

    def _end_of_heads(self, data: bytes, previous: bytes) -> int:
        """
        The index in C{data} just past the blank line of the last head that
        ended in it (the read before, C{previous}, may hold the start of
        that blank line); -1 if none is found.
        """
        tail = previous[-3:]
        window = tail + data
        end = -1
        for _ in range(self._heads):
            end = _blank_line_end(window, max(end, 0), len(tail))
        return end - len(tail) if end >= 0 else -1


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


def _normalized(fields: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """
    C{fields} with lowercase names and values without trailing whitespace.
    """
    return [(name.lower(), value.rstrip(b" \t")) for name, value in fields]


def _line(data: bytes) -> bytes:
    """
    The first line of C{data}, at most L{_EXCERPT} bytes of it, which a
    L{ParseError} reports.
    """
    return data.split(b"\n", 1)[0].rstrip(b"\r")[:_EXCERPT]


def _version(text: str) -> tuple[bytes, int, int]:
    major, minor = text.split(".")
    return (b"HTTP", int(major), int(minor))
