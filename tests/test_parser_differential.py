"""
httpchart's response parser against Twisted's, on the same bytes.

Each response of the corpus is fed to Twisted's HTTPClientParser and to
httpchart's LLHTTPParser the way a connection feeds them: in one read, split
at every possible point, and one byte at a time; a parse failure disconnects
the parser with the failure, and the server's close ends it otherwise.  What
each parser makes of the bytes (the response's head, its body and how the
body ended, when the response was complete and whether bytes followed it,
whether parsing failed) must agree, except where httpchart is deliberately
stricter; those cases are listed with the reason and must fail to parse.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone
from twisted.internet.protocol import Protocol
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.web._newclient import (
    HTTPClientParser,
    ParseError,
    Request,
    TransportProxyProducer,
)
from twisted.web.http_headers import Headers

from httpchart.protocol import LLHTTPParser

HOST = Headers({b"host": [b"example.com"]})


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    method: bytes = b"GET"


CORPUS = [
    Case("length", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello"),
    Case("length-zero", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    Case("no-phrase", b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok"),
    Case("long-phrase", b"HTTP/1.1 404 Not Found Here\r\nContent-Length: 0\r\n\r\n"),
    Case(
        "repeated-header",
        b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n",
    ),
    Case("header-whitespace", b"HTTP/1.1 200 OK\r\nX-A:    spaced  \r\nContent-Length: 0\r\n\r\n"),
    Case("header-non-ascii", b"HTTP/1.1 200 OK\r\nX-A: caf\xc3\xa9\r\nContent-Length: 0\r\n\r\n"),
    Case("bare-lf", b"HTTP/1.1 200 OK\nContent-Length: 3\n\nabc"),
    Case(
        "chunked",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    ),
    Case(
        "chunked-extension",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;name=value\r\nabc\r\n0\r\n\r\n",
    ),
    Case(
        "chunked-trailers",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
    ),
    Case("close-delimited-1.1", b"HTTP/1.1 200 OK\r\n\r\nuntil the end"),
    Case("close-delimited-1.0", b"HTTP/1.0 200 OK\r\nServer: old\r\n\r\nuntil the end"),
    Case(
        "keep-alive-1.0", b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx"
    ),
    Case("connection-close", b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx"),
    Case("head", b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", b"HEAD"),
    Case("no-content", b"HTTP/1.1 204 No Content\r\n\r\n"),
    Case("not-modified", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"),
    Case(
        "continue-then-final",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ),
    Case(
        "early-hints-then-final",
        b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    ),
    Case("version-2", b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"),
    Case("stray-after", b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200 OK\r\n"),
    Case("truncated-status", b"HTTP/1.1 20"),
    Case("truncated-headers", b"HTTP/1.1 200 OK\r\nContent-Len"),
    Case("truncated-body", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
    Case("truncated-chunk", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"),
    Case("nothing", b""),
    Case("garbage", b"this is not http at all\r\n\r\n"),
    Case("non-integer-status", b"HTTP/1.1 OK 200\r\n\r\n"),
    Case("bad-version", b"HTTP/one.one 200 OK\r\n\r\n"),
    Case("header-without-colon", b"HTTP/1.1 200 OK\r\nBroken\r\nContent-Length: 0\r\n\r\n"),
    Case("length-not-a-number", b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n"),
    Case("length-negative", b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
    Case(
        "conflicting-lengths", b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"
    ),
    Case("unknown-transfer-coding", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc"),
    Case(
        "coding-list-gzip-chunked",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    ),
    Case(
        "coding-list-over-two-lines",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n",
    ),
    Case(
        "chunked-twice",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    ),
    Case(
        "coding-list-empty-element",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: , chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    ),
    Case(
        "chunked-uppercase-and-spaced",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding:  CHUNKED \r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    ),
    Case("bad-chunk-size", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n"),
    Case("space-before-colon", b"HTTP/1.1 200 OK\r\nX-A : v\r\nContent-Length: 0\r\n\r\n"),
    # Deliberately stricter than Twisted; see STRICTER.
    Case("obs-fold", b"HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\nContent-Length: 0\r\n\r\n"),
    Case(
        "same-length-twice", b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"
    ),
    Case("length-list", b"HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\nx"),
    Case(
        "length-and-chunked",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n",
    ),
    Case("nul-in-header", b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n"),
    Case(
        "chunked-then-gzip-over-two-lines",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n",
    ),
    Case("lowercase-protocol", b"http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    Case(
        "unsolicited-switching-protocols",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n",
    ),
]

STRICTER = {
    "obs-fold": "folded header lines are obsolete and a smuggling vector; llhttp rejects them",
    "same-length-twice": "llhttp rejects any repeated Content-Length",
    "length-list": "llhttp rejects a list in Content-Length",
    "length-and-chunked": "both framings at once is a response-splitting signal (RFC 9112 6.3)",
    "nul-in-header": "control characters in field values are rejected",
    "lowercase-protocol": "the protocol name is case-sensitive (RFC 9112 2.3)",
    "chunked-then-gzip-over-two-lines": "the body is gzip-coded after chunking; Twisted "
    "reads only the first Transfer-Encoding field and hands out gzip bytes as the body",
    "unsolicited-switching-protocols": "nobody asked to switch protocols; Twisted skips the "
    "101 as if it were informational and reads the other protocol as HTTP",
}


class Collector(Protocol):
    def __init__(self) -> None:
        self.data = b""
        self.ended: Failure | None = None

    def dataReceived(self, data: bytes) -> None:
        self.data += data

    def connectionLost(self, reason: Failure = ConnectionDone) -> None:  # type: ignore[assignment]
        self.ended = reason


@dataclass
class Outcome:
    head: tuple[Any, ...] = ()
    body: bytes = b""
    ended: tuple[str, ...] = ()
    completions: list[bool] = field(default_factory=list)
    malformed: bool = False


def _kinds(failure: Failure) -> tuple[str, ...]:
    reasons = getattr(failure.value, "reasons", [])
    return (failure.type.__name__, *(r.type.__name__ for r in reasons))


def drive(make: Any, case: Case, reads: list[bytes]) -> Outcome:
    """
    Feed C{reads} to a parser as a connection would and describe the result.
    """
    outcome = Outcome()
    request = Request(case.method, b"/", HOST, None)
    proxy = TransportProxyProducer(StringTransport())
    collector = Collector()

    def finished(rest: bytes) -> None:
        outcome.completions.append(bool(rest))

    parser, deferred = make(request, finished, proxy)

    def head(response: Any) -> None:
        headers = sorted(response.headers.getAllRawHeaders())
        outcome.head = (response.version, response.code, response.phrase, headers, response.length)
        response.deliverBody(collector)

    def failed(reason: Failure) -> None:
        outcome.head = _kinds(reason)

    deferred.addCallbacks(head, failed)
    reason = Failure(ConnectionDone("the server closed the connection"))
    for data in reads:
        if outcome.completions:
            break  # a connection releases the parser of a complete response
        try:
            parser.dataReceived(data)
        except Exception:
            outcome.malformed = True
            reason = Failure()
            break
    parser.connectionLost(reason)
    outcome.body = collector.data
    if collector.ended is not None:
        outcome.ended = _kinds(collector.ended)
    return outcome


def twisted_parser(request: Any, finisher: Any, proxy: Any) -> tuple[Any, Deferred[Any]]:
    parser = HTTPClientParser(request, finisher)
    parser.makeConnection(proxy)
    return parser, parser._responseDeferred


def _splits(data: bytes) -> list[list[bytes]]:
    return [[data[:i], data[i:]] for i in range(1, len(data))]


def _comparable(outcome: Outcome) -> Outcome:
    """
    Twisted reports a parse failure with assorted exception types; httpchart
    always with MalformedResponse.  Compare the shape, not the names.
    """
    head = outcome.head
    if head and isinstance(head[0], str):
        head = (head[0], *("parse-error" if n not in _CONNECTION_REASONS else n for n in head[1:]))
    ended = tuple("parse-error" if n not in _BODY_REASONS else n for n in outcome.ended)
    return Outcome(head, outcome.body, ended, outcome.completions, outcome.malformed)


_CONNECTION_REASONS = {"ConnectionDone"}
_BODY_REASONS = {
    "ResponseDone",
    "PotentialDataLoss",
    "ResponseFailed",
    "ConnectionDone",
    "_DataLoss",
}


@pytest.mark.parametrize(
    "case", [c for c in CORPUS if c.name not in STRICTER], ids=lambda c: c.name
)
def test_parsers_agree_on_one_read(case: Case) -> None:
    ours = drive(LLHTTPParser.open, case, [case.data])
    theirs = drive(twisted_parser, case, [case.data])
    assert _comparable(ours) == _comparable(theirs)


@pytest.mark.parametrize(
    "case", [c for c in CORPUS if c.name not in STRICTER], ids=lambda c: c.name
)
def test_parsers_agree_at_every_split_point(case: Case) -> None:
    for reads in _splits(case.data):
        ours = drive(LLHTTPParser.open, case, reads)
        theirs = drive(twisted_parser, case, reads)
        assert _comparable(ours) == _comparable(theirs), reads


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: c.name)
def test_our_parser_is_indifferent_to_how_the_bytes_are_split(case: Case) -> None:
    def seen(reads: list[bytes]) -> Outcome:
        # Whether bytes followed the response is only known within the read
        # that completed it; how many times it completed must not change.
        outcome = drive(LLHTTPParser.open, case, reads)
        return replace(outcome, completions=[False] * len(outcome.completions))

    whole = seen([case.data])
    for reads in [*_splits(case.data), [bytes([b]) for b in case.data] or [b""]]:
        assert seen(reads) == whole, reads


@pytest.mark.parametrize("case", [c for c in CORPUS if c.name in STRICTER], ids=lambda c: c.name)
def test_deliberately_stricter_cases_fail_with_a_parse_error(case: Case) -> None:
    theirs = drive(twisted_parser, case, [case.data])
    assert not theirs.malformed, "Twisted accepts this; move it out of STRICTER"
    ours = drive(LLHTTPParser.open, case, [case.data])
    assert ours.malformed
    assert ours.head[:1] == ("ResponseFailed",) or ours.ended[:1] == ("ResponseFailed",)


MALFORMED = [c for c in CORPUS if drive(LLHTTPParser.open, c, [c.data]).malformed]


def test_the_corpus_holds_many_malformed_responses() -> None:
    assert len(MALFORMED) >= 15


@pytest.mark.parametrize("case", MALFORMED, ids=lambda c: c.name)
def test_our_parse_errors_are_parse_errors(case: Case) -> None:
    request = Request(case.method, b"/", HOST, None)
    proxy = TransportProxyProducer(StringTransport())
    parser, deferred = LLHTTPParser.open(request, lambda rest: None, proxy)
    deferred.addErrback(lambda reason: None)
    with pytest.raises(ParseError):
        parser.dataReceived(case.data)
    parser.connectionLost(Failure(ConnectionDone()))


def test_stray_bytes_after_a_response_are_reported_as_rest() -> None:
    case = next(c for c in CORPUS if c.name == "stray-after")
    assert drive(LLHTTPParser.open, case, [case.data]).completions == [True]
    length = next(c for c in CORPUS if c.name == "length")
    assert drive(LLHTTPParser.open, length, [length.data]).completions == [False]


@pytest.mark.parametrize(
    ("codings", "message"),
    [
        (b"gzip, chunked", "unsupported transfer coding: gzip"),
        (b"gzip\r\nTransfer-Encoding: chunked", "unsupported transfer coding: gzip"),
        (b"chunked\r\nTransfer-Encoding: gzip", "unsupported transfer coding: gzip"),
        (b"Deflate , Chunked", "unsupported transfer coding: deflate"),
        (b"chunked, chunked", "transfer coding chunked applied more than once"),
        (
            b"chunked\r\nTransfer-Encoding: chunked",
            "transfer coding chunked applied more than once",
        ),
        (b"chunked,", "unsupported transfer coding: (empty)"),
        (b"identity", "unsupported transfer coding: identity"),
    ],
)
def test_only_a_single_chunked_coding_is_accepted(codings: bytes, message: str) -> None:
    """
    RFC 9112 6.1: the only transfer coding a client that decodes nothing
    but chunked can accept is chunked alone, on however many lines; the
    error names the first coding at fault.
    """
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: " + codings + b"\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    request = Request(b"GET", b"/", HOST, None)
    for reads in [[data], *_splits(data)]:
        parser, deferred = LLHTTPParser.open(
            request, lambda rest: None, TransportProxyProducer(StringTransport())
        )
        failures: list[Failure] = []
        deferred.addErrback(failures.append)
        raised: list[ParseError] = []
        for part in reads:
            try:
                parser.dataReceived(part)
            except ParseError as error:
                raised.append(error)
                break
        (error,) = raised
        assert error.args[0] == message
        parser.connectionLost(Failure(error))
        assert failures[0].value.reasons[0].value is error  # type: ignore[attr-defined]


def test_an_informational_response_may_carry_any_transfer_coding() -> None:
    case = Case(
        "informational-coding",
        b"HTTP/1.1 103 Early Hints\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    )
    outcome = drive(LLHTTPParser.open, case, [case.data])
    assert (outcome.body, outcome.ended, outcome.malformed) == (b"ok", ("ResponseDone",), False)
