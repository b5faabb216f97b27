"""
The hostile-server corpus: what each misbehaving server does, as a script
for L{ScriptedServer}, and what the client makes of it, for httpchart and,
where it differs, for Twisted's own pool and class.

Every case is a test in L{tests.test_hostile} (run on both clients), and
the table in docs/hostile.md is rendered from this data
(L{tests.support.hostile_doc}), so what the documentation says is what the tests
prove.
"""

from __future__ import annotations

from dataclasses import dataclass

from .hostile_client import Answered, Exchange, Failed, Hangs, Outcome
from .scripted import (
    AwaitRequest,
    Close,
    Reset,
    Script,
    Send,
    Signal,
    Stall,
    Stream,
    Sync,
)

CRLF = b"\r\n"
KIB = 1024


def head(*lines: bytes, status: bytes = b"HTTP/1.1 200 OK") -> bytes:
    """
    A response head: the status line, the header lines, the blank line.
    """
    return b"".join(line + CRLF for line in (status, *lines)) + CRLF


def answer(*steps: object) -> tuple[Script, ...]:
    """
    One scripted connection that waits for the request, then plays C{steps}.
    """
    return ((AwaitRequest(), *steps),)  # type: ignore[arg-type]


def dribble(data: bytes) -> tuple[object, ...]:
    """
    Steps that send C{data} one byte per read.
    """
    return tuple(step for byte in data for step in (Send(bytes([byte])), Sync()))


HELLO = head(b"Content-Length: 5") + b"hello"
CHUNKED = b"Transfer-Encoding: chunked"
CONTINUE = head(status=b"HTTP/1.1 100 Continue")
GET = Exchange()
DONE = "ResponseDone"
CUT = "ResponseFailed(ConnectionDone, _DataLoss)"
RESET = "ResponseFailed(ConnectionLost, _DataLoss)"
MALFORMED = Failed("ResponseFailed(MalformedResponse)")
TOO_LARGE = Failed("ResponseFailed(HeadTooLarge)")
BROKEN_BODY = "ResponseFailed(MalformedResponse, _DataLoss)"
TWISTED_BROKEN_BODY = "ResponseFailed(_MalformedChunkedDataError, _DataLoss)"
OK = Answered(200, b"hello")


@dataclass(frozen=True)
class Twisted:
    """
    What Twisted's own pool and connection class make of a case, where it
    differs from httpchart.

    @ivar outcomes: Per exchange; C{None} when they are httpchart's.
    @ivar after: C{"kept"} or C{"closed"}; C{None} when it is httpchart's.
    @ivar logs: Twisted logs errors (an unhandled error in a Deferred, an
        exception out of C{connectionLost}).
    @ivar stuck: The states of the connections Twisted leaves open, neither
        idle nor closed, once the server waits on the client.
    """

    outcomes: tuple[Outcome, ...] | None = None
    after: str | None = None
    logs: bool = False
    stuck: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    """
    One hostile server behaviour.

    @ivar name: Words that name the behaviour; the test is C{test_} and the
        words joined by underscores.
    @ivar group: The section of docs/hostile.md it belongs to.
    @ivar server: What the server does, in a phrase.
    @ivar scripts: One per scripted connection (see L{ScriptedServer}).
    @ivar outcomes: What httpchart's client gets, per exchange.
    @ivar after: Whether a connection to the server is left idle and usable
        (C{"kept"}) or not (C{"closed"}) once the case is over.
    @ivar says: Words the failure's message contains.
    @ivar exchanges: The requests made, in turn.
    @ivar direct: Use one httpchart (or Twisted) connection directly instead
        of C{Agent} and a pool.
    @ivar twisted: How Twisted differs, if it does.
    @ivar why: Why httpchart behaves differently (required with C{twisted}).
    """

    name: str
    group: str
    server: str
    scripts: tuple[Script, ...]
    outcomes: tuple[Outcome, ...]
    after: str = "closed"
    says: str = ""
    exchanges: tuple[Exchange, ...] = (GET,)
    direct: bool = False
    twisted: Twisted | None = None
    why: str = ""

    @property
    def test_name(self) -> str:
        return "test_" + self.name.replace(" ", "_").replace("-", "_")


STRICT = (
    "httpchart is stricter than Twisted: llhttp rejects what RFC 9112 forbids, "
    "rather than guessing what the server meant."
)
SMUGGLING = (
    "A message whose length is ambiguous is the raw material of response "
    "smuggling: two readers may split the stream differently, so httpchart "
    "refuses it."
)
NOT_REUSED = (
    "The bytes that followed the response belong to no request; reusing the "
    "connection would hand them to the next one as its response."
)
CLEAR = (
    "The limit is reported as HeadTooLarge, saying which limit was hit; Twisted "
    "just drops the connection, and the caller sees an unexplained ConnectionDone."
)


CORPUS: tuple[Case, ...] = (
    # Status lines and versions
    Case(
        "garbage instead of a status line",
        "status line",
        "answers with a line that is not HTTP",
        answer(Send(b"this is not http\r\n\r\n"), Close()),
        (MALFORMED,),
        says="Expected HTTP/",
        twisted=Twisted((Failed("ResponseFailed(ParseError)"),)),
        why="Both fail with a ParseError; httpchart's is MalformedResponse, which says "
        "what llhttp found.",
    ),
    Case(
        "status code not a number",
        "status line",
        "sends `HTTP/1.1 OK 200`",
        answer(Send(b"HTTP/1.1 OK 200\r\nContent-Length: 0\r\n\r\n"), Close()),
        (MALFORMED,),
        says="Invalid status code",
        twisted=Twisted((Failed("ResponseFailed(ParseError)"),)),
        why="Both fail with a ParseError.",
    ),
    Case(
        "status code of two digits",
        "status line",
        "sends `HTTP/1.1 20 OK`",
        answer(Send(b"HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n"), Close()),
        (MALFORMED,),
        says="Invalid status code",
        twisted=Twisted((Answered(20),)),
        why=STRICT + " A status code has exactly three digits.",
    ),
    Case(
        "status code of four digits",
        "status line",
        "sends `HTTP/1.1 2000 OK`",
        answer(Send(b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n"), Close()),
        (MALFORMED,),
        says="Invalid response status",
        twisted=Twisted((Answered(2000),)),
        why=STRICT + " A status code has exactly three digits.",
    ),
    Case(
        "status line without a reason phrase",
        "status line",
        "sends `HTTP/1.1 200` and a body",
        answer(Send(b"HTTP/1.1 200\r\nContent-Length: 5\r\n\r\nhello")),
        (OK,),
        after="kept",
    ),
    Case(
        "status line of 100 KiB",
        "status line",
        "streams a reason phrase of 100 KiB",
        answer(Stream(b"x", 100 * KIB, head=b"HTTP/1.1 200 "), Close()),
        (TOO_LARGE,),
        says="status line longer than 16384 bytes",
        twisted=Twisted((Failed("ResponseFailed(ConnectionDone)"),)),
        why=CLEAR,
    ),
    Case(
        "nul in the reason phrase",
        "status line",
        "sends a reason phrase with a NUL byte",
        answer(Send(b"HTTP/1.1 200 O\x00K\r\nContent-Length: 5\r\n\r\nhello"), Close()),
        (OK,),
    ),
    Case(
        "lines ended by cr alone",
        "status line",
        "ends its lines with CR and no LF",
        answer(Send(b"HTTP/1.1 200 OK\rContent-Length: 5\r\r\rhello"), Close()),
        (MALFORMED,),
        says="Expected LF after CR",
        twisted=Twisted((Failed("ResponseFailed(ConnectionDone)"),)),
        why="Twisted waits for a line feed that never comes until the server closes; "
        "httpchart says at once what is wrong.",
    ),
    Case(
        "lines ended by lf alone",
        "status line",
        "ends its lines with LF and no CR",
        answer(Send(b"HTTP/1.1 200 OK\nContent-Length: 5\n\nhello")),
        (OK,),
        after="kept",
    ),
    Case(
        "version in lower case",
        "version",
        "sends `http/1.1 200 OK`",
        answer(Send(b"http/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), Close()),
        (MALFORMED,),
        says="Expected HTTP/",
        twisted=Twisted((OK,)),
        why=STRICT + " The protocol name is case-sensitive.",
    ),
    Case(
        "version not a number",
        "version",
        "sends `HTTP/one.one 200 OK`",
        answer(Send(b"HTTP/one.one 200 OK\r\nContent-Length: 0\r\n\r\n"), Close()),
        (MALFORMED,),
        says="Invalid major version",
        twisted=Twisted((Failed("ResponseFailed(BadResponseVersion)"),)),
        why="Both fail with a ParseError.",
    ),
    Case(
        "version 2.0 over http 1",
        "version",
        "answers with `HTTP/2.0 200 OK` and a body",
        answer(Send(b"HTTP/2.0 200 OK\r\nContent-Length: 5\r\n\r\nhello")),
        (OK,),
        after="kept",
    ),
    Case(
        "no status line at all",
        "version",
        "answers with a bare body, as HTTP/0.9 did, and closes",
        answer(Send(b"<html>no status line</html>"), Close()),
        (MALFORMED,),
        says="Expected HTTP/",
        twisted=Twisted((Failed("ResponseFailed(ConnectionDone)"),)),
        why="Twisted waits for the end of a status line until the server closes; "
        "httpchart says at once what is wrong.",
    ),
    Case(
        "banner before the request",
        "version",
        "greets the client with a line of its own as soon as it connects",
        ((Send(b"220 ready\r\n"), AwaitRequest(), Send(HELLO)),),
        (MALFORMED,),
        says="Expected HTTP/",
        twisted=Twisted((Failed("ResponseFailed(ParseError)"),)),
        why="Both fail with a ParseError.",
    ),
    # Headers
    Case(
        "header line without a colon",
        "headers",
        "sends a header line `Broken`",
        answer(Send(head(b"Broken", b"Content-Length: 5") + b"hello"), Close()),
        (MALFORMED,),
        says="Invalid header token",
        twisted=Twisted((Failed("ResponseFailed(ValueError)"),)),
        why="Twisted fails on an unpacking error inside its parser; httpchart names the fault.",
    ),
    Case(
        "folded header line",
        "headers",
        "continues a header value on the next line (obs-fold)",
        answer(Send(head(b"X-A: one", b"  two", b"Content-Length: 5") + b"hello"), Close()),
        (MALFORMED,),
        says="Unexpected whitespace after header value",
        twisted=Twisted((OK,)),
        why=STRICT + " RFC 9112 lets a client reject folding; folded lines are a "
        "classic way to hide a header from one reader and not another.",
    ),
    Case(
        "folded line before any header",
        "headers",
        "starts the first header line with a space",
        answer(Send(head(b" X-A: b", b"Content-Length: 5") + b"hello"), Close()),
        (MALFORMED,),
        says="Unexpected space after start line",
        twisted=Twisted((Failed("ResponseFailed(AttributeError)"),)),
        why="Twisted's parser crashes with an AttributeError; httpchart names the fault.",
    ),
    Case(
        "nul in a header value",
        "headers",
        "sends a header value with a NUL byte",
        answer(Send(head(b"X-A: a\x00b", b"Content-Length: 5") + b"hello"), Close()),
        (MALFORMED,),
        says="Invalid header value char",
        twisted=Twisted((OK,)),
        why=STRICT + " Control characters are not field content.",
    ),
    Case(
        "control byte in a header value",
        "headers",
        "sends a header value with a 0x01 byte",
        answer(Send(head(b"X-A: a\x01b", b"Content-Length: 5") + b"hello"), Close()),
        (MALFORMED,),
        says="Invalid header value char",
        twisted=Twisted((OK,)),
        why=STRICT + " Control characters are not field content.",
    ),
    Case(
        "non ascii header value",
        "headers",
        "sends UTF-8 and a 0xFF byte in a header value",
        answer(Send(head(b"X-A: caf\xc3\xa9 \xff", b"Content-Length: 5") + b"hello")),
        (OK,),
        after="kept",
    ),
    Case(
        "non ascii header name",
        "headers",
        "sends UTF-8 in a header name",
        answer(Send(head(b"X-\xc3\xa9: a", b"Content-Length: 5") + b"hello"), Close()),
        (MALFORMED,),
        says="Invalid header token",
        twisted=Twisted((Failed("ResponseFailed(InvalidHeaderName)"),)),
        why="Both refuse the name.",
    ),
    Case(
        "space before the colon",
        "headers",
        "sends `Content-Length : 5`",
        answer(Send(head(b"Content-Length : 5") + b"hello"), Close()),
        (MALFORMED,),
        says="Invalid header field char",
        twisted=Twisted((Failed("ResponseFailed(InvalidHeaderName)"),)),
        why="Both refuse the name.",
    ),
    Case(
        "header line of 100 KiB",
        "headers",
        "streams one header value of 100 KiB",
        answer(Stream(b"a", 100 * KIB, head=b"HTTP/1.1 200 OK\r\nX-Long: "), Close()),
        (TOO_LARGE,),
        says="header line longer than 16384 bytes",
        twisted=Twisted((Failed("ResponseFailed(ConnectionDone)"),)),
        why=CLEAR,
    ),
    Case(
        "five thousand headers",
        "headers",
        "sends 5,000 short header lines",
        answer(
            Send(head(*[b"X-H%d: v" % i for i in range(5000)], b"Content-Length: 5") + b"hello"),
            Close(),
        ),
        (TOO_LARGE,),
        says="more than 256 header fields",
        twisted=Twisted((OK,)),
        why="httpchart bounds the number of fields (LLHTTPParser.max_fields); Twisted "
        "keeps every one, so a server can make it hold as many as it likes.",
    ),
    Case(
        "repeated header fields",
        "headers",
        "sends `Set-Cookie` twice",
        answer(Send(head(b"Set-Cookie: a=1", b"Set-Cookie: b=2", b"Content-Length: 5") + b"hello")),
        (OK,),
        after="kept",
    ),
    # Chunked bodies
    Case(
        "chunk size not hexadecimal",
        "chunked body",
        "sends the chunk size `zz`",
        answer(Send(head(CHUNKED) + b"zz\r\nhello\r\n0\r\n\r\n"), Close()),
        (Answered(200, b"", BROKEN_BODY),),
        twisted=Twisted((Answered(200, b"", TWISTED_BROKEN_BODY),)),
        why="Both fail the body with a parse error.",
    ),
    Case(
        "negative chunk size",
        "chunked body",
        "sends the chunk size `-5`",
        answer(Send(head(CHUNKED) + b"-5\r\nhello\r\n0\r\n\r\n"), Close()),
        (Answered(200, b"", BROKEN_BODY),),
        twisted=Twisted((Answered(200, b"", TWISTED_BROKEN_BODY),)),
        why="Both fail the body with a parse error.",
    ),
    Case(
        "chunk size overflowing 64 bits",
        "chunked body",
        "sends the chunk size `fffffffffffffffff`",
        answer(Send(head(CHUNKED) + b"fffffffffffffffff\r\nhello\r\n0\r\n\r\n"), Close()),
        (Answered(200, b"", BROKEN_BODY),),
        twisted=Twisted((Answered(200, b"hello\r\n0\r\n\r\n", CUT),)),
        why="Twisted takes the size at face value and reads the rest of the stream as "
        "chunk data until the server closes; httpchart refuses the size.",
    ),
    Case(
        "chunk extensions",
        "chunked body",
        "sends `5;name=value;other` as a chunk size line",
        answer(Send(head(CHUNKED) + b"5;name=value;other\r\nhello\r\n0\r\n\r\n")),
        (OK,),
        after="kept",
    ),
    Case(
        "control byte in a chunk extension",
        "chunked body",
        "sends `5;\\x01` as a chunk size line",
        answer(Send(head(CHUNKED) + b"5;\x01\r\nhello\r\n0\r\n\r\n"), Close()),
        (Answered(200, b"", BROKEN_BODY),),
        twisted=Twisted((Answered(200, b"", TWISTED_BROKEN_BODY),)),
        why="Both fail the body with a parse error.",
    ),
    Case(
        "endless chunk extension",
        "chunked body",
        "streams a chunk extension of 1 MiB",
        answer(Stream(b"a", 1024 * KIB, head=head(CHUNKED) + b"5;ext="), Close()),
        (Answered(200, b"", "ResponseFailed(HeadTooLarge, _DataLoss)"),),
        says="chunk size line longer than 16384 bytes",
        twisted=Twisted((Answered(200, b"", TWISTED_BROKEN_BODY),)),
        why="Both bound the line; httpchart's error says which limit was hit.",
    ),
    Case(
        "chunk shorter than its size",
        "chunked body",
        "sends 3 bytes in a chunk of 5",
        answer(Send(head(CHUNKED) + b"5\r\nhel\r\n0\r\n\r\n"), Close()),
        (Answered(200, b"hel\r\n", BROKEN_BODY),),
        twisted=Twisted((Answered(200, b"hel\r\n", TWISTED_BROKEN_BODY),)),
        why="Both fail the body with a parse error.",
    ),
    Case(
        "chunk without its crlf",
        "chunked body",
        "follows a chunk's data with other bytes than CRLF",
        answer(Send(head(CHUNKED) + b"5\r\nhelloXX0\r\n\r\n"), Close()),
        (Answered(200, b"hello", BROKEN_BODY),),
        twisted=Twisted((Answered(200, b"hello", TWISTED_BROKEN_BODY),)),
        why="Both fail the body with a parse error.",
    ),
    Case(
        "chunked body without its last chunk",
        "chunked body",
        "sends a chunk, then closes",
        answer(Send(head(CHUNKED) + b"5\r\nhello\r\n"), Sync(), Close()),
        (Answered(200, b"hello", CUT),),
    ),
    Case(
        "chunked body with trailers",
        "chunked body",
        "sends a trailer field after the last chunk",
        answer(Send(head(CHUNKED) + b"5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n")),
        (OK,),
        after="kept",
    ),
    Case(
        "endless trailer",
        "chunked body",
        "streams a trailer field of 1 MiB",
        answer(Stream(b"a", 1024 * KIB, head=head(CHUNKED) + b"5\r\nhello\r\n0\r\nX-T: "), Close()),
        (Answered(200, b"hello", "ResponseFailed(HeadTooLarge, _DataLoss)"),),
        says="trailers longer than 65536 bytes",
        twisted=Twisted((Answered(200, b"hello", TWISTED_BROKEN_BODY),)),
        why="Both bound the trailer line; httpchart's error says which limit was hit.",
    ),
    Case(
        "a thousand one byte chunks",
        "chunked body",
        "sends a body of 1,000 chunks of one byte each",
        answer(Send(head(CHUNKED) + b"1\r\nx\r\n" * 1000 + b"0\r\n\r\n")),
        (Answered(200, b"x" * 1000),),
        after="kept",
    ),
    Case(
        "transfer coding other than chunked",
        "chunked body",
        "sends `Transfer-Encoding: gzip`",
        answer(Send(head(b"Transfer-Encoding: gzip") + b"hello"), Close()),
        (MALFORMED,),
        says="unsupported transfer coding",
        twisted=Twisted((Failed("ResponseFailed(KeyError)"),)),
        why="Twisted fails on a KeyError inside its parser; httpchart names the fault.",
    ),
    Case(
        "transfer codings gzip, chunked",
        "chunked body",
        "sends `Transfer-Encoding: gzip, chunked`",
        answer(
            Send(head(b"Transfer-Encoding: gzip, chunked") + b"5\r\nhello\r\n0\r\n\r\n"),
            Close(),
        ),
        (MALFORMED,),
        says="unsupported transfer coding: gzip",
        twisted=Twisted((Failed("ResponseFailed(KeyError)"),)),
        why="Twisted fails on a KeyError inside its parser; httpchart names the coding.",
    ),
    Case(
        "transfer codings chunked, then gzip on a second line",
        "chunked body",
        "sends `Transfer-Encoding: chunked` and `Transfer-Encoding: gzip`",
        answer(
            Send(head(CHUNKED, b"Transfer-Encoding: gzip") + b"5\r\nhello\r\n0\r\n\r\n"),
            Close(),
        ),
        (MALFORMED,),
        says="unsupported transfer coding: gzip",
        twisted=Twisted((OK,)),
        why="Twisted reads only the first Transfer-Encoding line, so it would hand out "
        "gzip-coded bytes as the body; httpchart refuses the list.",
    ),
    Case(
        "trailers of 70 KiB in the body's write",
        "chunked body",
        "sends its body and 70 KiB of trailer fields in one write",
        answer(
            Send(
                head(CHUNKED)
                + b"5\r\nhello\r\n0\r\n"
                + b"".join(b"X-T%d: " % n + b"a" * 7990 + b"\r\n" for n in range(9))
                + b"\r\n"
            ),
            Close(),
        ),
        (Answered(200, b"hello", "ResponseFailed(HeadTooLarge, _DataLoss)"),),
        says="trailers longer than 65536 bytes",
        twisted=Twisted((Answered(200, b"hello", TWISTED_BROKEN_BODY),)),
        why="Both bound the trailers at 64 KiB.",
    ),
    Case(
        "chunked in an http 1.0 response",
        "chunked body",
        "sends a chunked body in an HTTP/1.0 response",
        answer(
            Send(head(CHUNKED, status=b"HTTP/1.0 200 OK") + b"5\r\nhello\r\n0\r\n\r\n"), Close()
        ),
        (OK,),
    ),
    # Content-Length
    Case(
        "conflicting content lengths",
        "length",
        "sends `Content-Length: 5` and `Content-Length: 6`",
        answer(Send(head(b"Content-Length: 5", b"Content-Length: 6") + b"hello!"), Close()),
        (MALFORMED,),
        says="Duplicate Content-Length",
        twisted=Twisted((Failed("ResponseFailed(ValueError)"),)),
        why="Both refuse the response.",
    ),
    Case(
        "duplicate content length",
        "length",
        "sends `Content-Length: 5` twice",
        answer(Send(head(b"Content-Length: 5", b"Content-Length: 5") + b"hello"), Close()),
        (MALFORMED,),
        says="Duplicate Content-Length",
        twisted=Twisted((OK,)),
        why=SMUGGLING,
    ),
    Case(
        "content length as a list",
        "length",
        "sends `Content-Length: 5, 5`",
        answer(Send(head(b"Content-Length: 5, 5") + b"hello"), Close()),
        (MALFORMED,),
        says="Invalid character in Content-Length",
        twisted=Twisted((OK,)),
        why=SMUGGLING,
    ),
    Case(
        "content length with transfer encoding",
        "length",
        "sends `Content-Length: 5` and `Transfer-Encoding: chunked`",
        answer(Send(head(b"Content-Length: 5", CHUNKED) + b"5\r\nhello\r\n0\r\n\r\n"), Close()),
        (MALFORMED,),
        says="Transfer-Encoding can't be present with Content-Length",
        twisted=Twisted((OK,)),
        why=SMUGGLING,
    ),
    Case(
        "content length not a number",
        "length",
        "sends `Content-Length: five`",
        answer(Send(head(b"Content-Length: five") + b"hello"), Close()),
        (MALFORMED,),
        says="Invalid character in Content-Length",
        twisted=Twisted((Failed("ResponseFailed(ValueError)"),)),
        why="Both refuse the response.",
    ),
    Case(
        "negative content length",
        "length",
        "sends `Content-Length: -5`",
        answer(Send(head(b"Content-Length: -5") + b"hello"), Close()),
        (MALFORMED,),
        says="Invalid character in Content-Length",
        twisted=Twisted((Failed("ResponseFailed(ValueError)"),)),
        why="Both refuse the response.",
    ),
    Case(
        "content length with a plus sign",
        "length",
        "sends `Content-Length: +5`",
        answer(Send(head(b"Content-Length: +5") + b"hello"), Close()),
        (MALFORMED,),
        says="Invalid character in Content-Length",
        twisted=Twisted((Failed("ResponseFailed(ValueError)"),)),
        why="Both refuse the response.",
    ),
    Case(
        "content length overflowing 64 bits",
        "length",
        "sends a Content-Length of 23 digits",
        answer(Send(head(b"Content-Length: 99999999999999999999999") + b"hello"), Close()),
        (MALFORMED,),
        says="Content-Length overflow",
        twisted=Twisted((Answered(200, b"hello", CUT),)),
        why="Twisted takes the length at face value and waits for a body no server "
        "could send; httpchart refuses it.",
    ),
    # Bodies
    Case(
        "body cut short",
        "body",
        "sends 5 bytes of a 10-byte body, then closes",
        answer(Send(head(b"Content-Length: 10") + b"hello"), Sync(), Close()),
        (Answered(200, b"hello", CUT),),
    ),
    Case(
        "body longer than declared",
        "body",
        "sends 15 bytes after `Content-Length: 5` and keeps the connection open",
        answer(Send(head(b"Content-Length: 5") + b"hello, and more")),
        (OK,),
        twisted=Twisted(after="kept"),
        why=NOT_REUSED,
    ),
    Case(
        "body longer than declared on a connection",
        "body",
        "as above, to one connection used directly; then a second request on it",
        answer(Send(head(b"Content-Length: 5") + b"hello, and more")),
        (OK, Failed("RequestNotSent")),
        exchanges=(GET, GET),
        direct=True,
        twisted=Twisted((OK, Answered(200, b"good")), after="kept"),
        why=NOT_REUSED,
    ),
    Case(
        "body until the connection closes",
        "body",
        "sends an HTTP/1.1 body with no length, then closes",
        answer(Send(head() + b"hello"), Sync(), Close()),
        (Answered(200, b"hello", "PotentialDataLoss"),),
    ),
    Case(
        "http 1.0 body until the connection closes",
        "body",
        "sends an HTTP/1.0 body with no length, then closes",
        answer(Send(head(status=b"HTTP/1.0 200 OK") + b"hello"), Sync(), Close()),
        (Answered(200, b"hello", "PotentialDataLoss"),),
    ),
    Case(
        "body until a reset",
        "body",
        "sends a body with no length, then resets the connection",
        answer(Send(head() + b"hello"), Sync(), Reset()),
        (Answered(200, b"hello", "PotentialDataLoss"),),
    ),
    Case(
        "response one byte per read",
        "body",
        "sends a chunked response one byte at a time",
        answer(*dribble(head(CHUNKED) + b"5\r\nhello\r\n0\r\n\r\n")),
        (OK,),
        after="kept",
    ),
    # Keeping the connection
    Case(
        "http 1.0 response with a length",
        "keeping the connection",
        "answers HTTP/1.0 with a length and no keep-alive, and keeps the connection open",
        answer(Send(head(b"Content-Length: 5", status=b"HTTP/1.0 200 OK") + b"hello")),
        (OK,),
        twisted=Twisted(after="kept"),
        why="An HTTP/1.0 server closes the connection after the response unless it says "
        "keep-alive; reusing it races that close.",
    ),
    Case(
        "http 1.0 response with keep alive",
        "keeping the connection",
        "answers HTTP/1.0 with a length and `Connection: keep-alive`",
        answer(
            Send(
                head(b"Connection: keep-alive", b"Content-Length: 5", status=b"HTTP/1.0 200 OK")
                + b"hello"
            )
        ),
        (OK,),
        after="kept",
    ),
    Case(
        "connection close in another case",
        "keeping the connection",
        "sends `Connection: Close` and keeps the connection open",
        answer(Send(head(b"Connection: Close", b"Content-Length: 5") + b"hello")),
        (OK,),
        twisted=Twisted(after="kept"),
        why="Connection options are case-insensitive; the server said it will close.",
    ),
    Case(
        "connection close but kept open",
        "keeping the connection",
        "sends `Connection: close` and keeps the connection open",
        answer(Send(head(b"Connection: close", b"Content-Length: 5") + b"hello")),
        (OK,),
    ),
    # Informational responses
    Case(
        "100 continue before the response",
        "informational",
        "sends `100 Continue`, then the response",
        answer(Send(CONTINUE + HELLO)),
        (OK,),
        after="kept",
    ),
    Case(
        "103 early hints before the response",
        "informational",
        "sends `103 Early Hints` with a Link header, then the response",
        answer(Send(head(b"Link: </a>", status=b"HTTP/1.1 103 Early Hints") + HELLO)),
        (OK,),
        after="kept",
    ),
    Case(
        "five hundred informational responses",
        "informational",
        "sends 500 `100 Continue` responses, then the response",
        answer(Send(CONTINUE * 500 + HELLO)),
        (OK,),
        after="kept",
    ),
    Case(
        "endless informational responses",
        "informational",
        "streams 256 KiB of `100 Continue` responses, then closes",
        answer(Stream(CONTINUE, 256 * KIB), Close()),
        (TOO_LARGE,),
        says="head longer than 65536 bytes",
        twisted=Twisted((Failed("ResponseFailed(ConnectionDone)"),)),
        why="httpchart counts every informational head towards the head's limit; Twisted "
        "reads them for as long as the server sends them.",
    ),
    Case(
        "unsolicited 101 switching protocols",
        "informational",
        "switches protocols although the request did not ask to",
        answer(
            Send(
                head(
                    b"Upgrade: websocket",
                    b"Connection: upgrade",
                    status=b"HTTP/1.1 101 Switching Protocols",
                )
                + b"binary"
            ),
            Close(),
        ),
        (MALFORMED,),
        says="the server switched protocols unasked",
        twisted=Twisted((Failed("ResponseFailed(ConnectionDone)"),)),
        why="Twisted skips the 101 as if it were informational, then reads the new "
        "protocol's bytes as HTTP until the server closes.",
    ),
    # Responses without a body
    Case(
        "head response with a length",
        "no body",
        "answers a HEAD request with `Content-Length: 50` and no body",
        ((AwaitRequest(), Send(head(b"Content-Length: 50"))),),
        (Answered(200),),
        exchanges=(Exchange(b"HEAD"),),
        after="kept",
    ),
    Case(
        "head response chunked",
        "no body",
        "answers a HEAD request with `Transfer-Encoding: chunked` and no body",
        ((AwaitRequest(), Send(head(CHUNKED))),),
        (Answered(200),),
        exchanges=(Exchange(b"HEAD"),),
        after="kept",
    ),
    Case(
        "head response with a body",
        "no body",
        "answers a HEAD request with a length and a body anyway",
        ((AwaitRequest(), Send(HELLO)),),
        (Answered(200),),
        exchanges=(Exchange(b"HEAD"),),
        twisted=Twisted(after="kept"),
        why=NOT_REUSED,
    ),
    Case(
        "204 with a body",
        "no body",
        "sends `204 No Content` with a length and a body",
        answer(Send(head(b"Content-Length: 5", status=b"HTTP/1.1 204 No Content") + b"hello")),
        (Answered(204),),
        twisted=Twisted(after="kept"),
        why=NOT_REUSED,
    ),
    Case(
        "304 with a length",
        "no body",
        "sends `304 Not Modified` with `Content-Length: 50` and no body",
        answer(Send(head(b"Content-Length: 50", status=b"HTTP/1.1 304 Not Modified"))),
        (Answered(304),),
        after="kept",
    ),
    # Uploads
    Case(
        "response before the upload finished",
        "uploads",
        "answers a POST whose body is still being sent, and keeps reading",
        answer(Send(HELLO), Stall()),
        (OK,),
        exchanges=(Exchange(b"POST", "stalled"),),
    ),
    Case(
        "response before the upload finished on a connection",
        "uploads",
        "as above, to one connection used directly",
        answer(Send(HELLO), Stall()),
        (OK,),
        exchanges=(Exchange(b"POST", "stalled"),),
        direct=True,
    ),
    Case(
        "garbage while uploading",
        "uploads",
        "answers a POST whose body is still being sent with bytes that are not HTTP",
        answer(Send(b"not http\r\n\r\n"), Stall()),
        (MALFORMED,),
        exchanges=(Exchange(b"POST", "stalled"),),
        says="Expected HTTP/",
        twisted=Twisted((Hangs(),), logs=True),
        why="Twisted drops the parse error (it is logged as an unhandled error in a "
        "Deferred), never fires the request's Deferred, and raises AttributeError out of "
        "connectionLost.",
    ),
    Case(
        "garbage while uploading on a connection",
        "uploads",
        "as above, to one connection used directly",
        answer(Send(b"not http\r\n\r\n"), Stall()),
        (MALFORMED,),
        exchanges=(Exchange(b"POST", "stalled"),),
        says="Expected HTTP/",
        direct=True,
        twisted=Twisted((Hangs(),), logs=True),
        why="As above.",
    ),
    Case(
        "upload answered after it finished",
        "uploads",
        "reads a POST with a body of known length, then answers",
        answer(Send(HELLO)),
        (OK,),
        exchanges=(Exchange(b"POST", "upload"),),
        after="kept",
    ),
    # After a complete response
    Case(
        "garbage after the response",
        "after the response",
        "sends bytes that are not HTTP right after a complete response",
        answer(Send(HELLO + b"garbage")),
        (OK,),
        twisted=Twisted(after="kept"),
        why=NOT_REUSED,
    ),
    Case(
        "garbage on the idle connection",
        "after the response",
        "sends bytes that are not HTTP once the client has read a complete response",
        answer(Send(HELLO), Sync(), Send(b"garbage")),
        (OK,),
    ),
    Case(
        "a second request after garbage on the idle connection",
        "after the response",
        "as above, to one connection used directly; then a second request on it",
        answer(Send(HELLO), Sync(), Send(b"garbage")),
        (OK, Failed("RequestNotSent")),
        exchanges=(GET, GET),
        direct=True,
    ),
    Case(
        "second response nobody asked for",
        "after the response",
        "sends a second complete response once the client has read the first",
        answer(Send(HELLO), Sync(), Send(HELLO)),
        (OK,),
    ),
    Case(
        "408 on the idle connection",
        "after the response",
        "sends `408 Request Timeout` on the idle connection, then closes",
        answer(
            Send(HELLO),
            Sync(),
            Send(head(b"Connection: close", b"Content-Length: 0", status=b"HTTP/1.1 408 Timeout")),
            Close(),
        ),
        (OK,),
    ),
    # Resets and closes
    Case(
        "accept then close",
        "resets and closes",
        "reads the request and closes without a word",
        answer(Close()),
        (Failed("ResponseNeverReceived(ConnectionDone)"),),
    ),
    Case(
        "reset on accept",
        "resets and closes",
        "resets the connection as soon as it is accepted",
        ((Reset(),),),
        (Failed("ResponseNeverReceived(ConnectionLost)"),),
    ),
    Case(
        "reset after the request",
        "resets and closes",
        "reads the request and resets the connection",
        answer(Reset()),
        (Failed("ResponseNeverReceived(ConnectionLost)"),),
    ),
    Case(
        "reset mid status line",
        "resets and closes",
        "sends part of the status line, then resets",
        answer(Send(b"HTTP/1.1 20"), Sync(), Reset()),
        (Failed("ResponseFailed(ConnectionLost)"),),
    ),
    Case(
        "reset mid headers",
        "resets and closes",
        "sends part of the headers, then resets",
        answer(Send(b"HTTP/1.1 200 OK\r\nContent-Le"), Sync(), Reset()),
        (Failed("ResponseFailed(ConnectionLost)"),),
    ),
    Case(
        "close mid headers",
        "resets and closes",
        "sends part of the headers, then closes",
        answer(Send(b"HTTP/1.1 200 OK\r\nContent-Le"), Sync(), Close()),
        (Failed("ResponseFailed(ConnectionDone)"),),
    ),
    Case(
        "close after the status line",
        "resets and closes",
        "sends a status line and no blank line, then closes",
        answer(Send(b"HTTP/1.1 200 OK\r\n"), Sync(), Close()),
        (Failed("ResponseFailed(ConnectionDone)"),),
    ),
    Case(
        "reset mid body",
        "resets and closes",
        "sends 5 bytes of a 10-byte body, then resets",
        answer(Send(head(b"Content-Length: 10") + b"hello"), Sync(), Reset()),
        (Answered(200, b"hello", RESET),),
    ),
    Case(
        "reset mid body on a connection",
        "resets and closes",
        "as above, to one connection used directly",
        answer(Send(head(b"Content-Length: 10") + b"hello"), Sync(), Reset()),
        (Answered(200, b"hello", RESET),),
        direct=True,
    ),
    Case(
        "reset mid chunk",
        "resets and closes",
        "sends part of a chunk, then resets",
        answer(Send(head(CHUNKED) + b"a\r\nhello"), Sync(), Reset()),
        (Answered(200, b"hello", RESET),),
    ),
    # Stalls
    Case(
        "stall before the response",
        "stalls",
        "reads the request and says nothing; the caller cancels",
        answer(Signal("cancel"), Stall()),
        (Failed("ResponseNeverReceived(CancelledError)"),),
        exchanges=(Exchange(action="cancel"),),
    ),
    Case(
        "stall mid headers",
        "stalls",
        "sends a status line and stops; the caller cancels",
        answer(Send(b"HTTP/1.1 200 OK\r\n"), Sync(), Signal("cancel"), Stall()),
        (Failed("ResponseFailed(CancelledError)"),),
        exchanges=(Exchange(action="cancel"),),
    ),
    Case(
        "stall mid body",
        "stalls",
        "sends 5 bytes of a 10-byte body and stops; the caller cancels readBody",
        answer(Send(head(b"Content-Length: 10") + b"hello"), Sync(), Signal("cancel"), Stall()),
        (Answered(200, b"", "ResponseFailed(CancelledError, _DataLoss)"),),
        exchanges=(Exchange(action="cancel body"),),
        twisted=Twisted((Answered(200, b"", "CancelledError"),), logs=True, stuck=("WAITING",)),
        why="Twisted's transport proxy cannot abort, so cancelling readBody leaves the "
        "connection open and reading; when it ends, readBody's consumer fires its "
        "cancelled Deferred again and the AlreadyCalledError is logged.  httpchart aborts "
        "the connection and ends the body before the cancel returns.",
    ),
    # Stale pooled connections
    Case(
        "pooled connection closed while idle",
        "stale pooled connections",
        "closes the connection after the first response; a second GET follows",
        ((AwaitRequest(), Send(HELLO), Sync(), Close()),),
        (OK, Answered(200, b"good")),
        exchanges=(GET, GET),
        after="kept",
    ),
    Case(
        "pooled connection reset while idle",
        "stale pooled connections",
        "resets the connection after the first response; a second GET follows",
        ((AwaitRequest(), Send(HELLO), Sync(), Reset()),),
        (OK, Answered(200, b"good")),
        exchanges=(GET, GET),
        after="kept",
    ),
    Case(
        "pooled connection closed on reuse",
        "stale pooled connections",
        "closes the connection when the second GET arrives on it (the pool retries)",
        ((AwaitRequest(), Send(HELLO), AwaitRequest(), Close()),),
        (OK, Answered(200, b"good")),
        exchanges=(GET, GET),
        after="kept",
    ),
    Case(
        "pooled connection reset on reuse",
        "stale pooled connections",
        "resets the connection when the second GET arrives on it (the pool retries)",
        ((AwaitRequest(), Send(HELLO), AwaitRequest(), Reset()),),
        (OK, Answered(200, b"good")),
        exchanges=(GET, GET),
        after="kept",
    ),
    Case(
        "pooled connection closed on a post",
        "stale pooled connections",
        "closes the connection when a POST arrives on it (not retried: not idempotent)",
        ((AwaitRequest(), Send(HELLO), AwaitRequest(), Close()),),
        (OK, Failed("ResponseNeverReceived(ConnectionDone)")),
        exchanges=(GET, Exchange(b"POST", "upload")),
    ),
)
