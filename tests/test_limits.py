"""
The parser's limits: a status or header line longer than
C{LLHTTPParser.max_line_length}, more than C{max_fields} header fields, a
head longer than C{max_head_size}, and in a chunked body a chunk size line
longer than a line or trailers longer than a head, all fail with
L{HeadTooLarge}, whose message names the limit.  A subclass changes them.

In memory, each limit is hit exactly; over loopback, servers that stream
50 MB of head (an endless header line, endless headers, an endless status
line, a head that never ends, endless trailers, an endless chunk
extension, endless informational responses) are stopped within a few reads
of the limit, and the client's memory stays bounded while they try.
Twisted's client, given an endless stream of headers, keeps them all.
"""

from __future__ import annotations

import tracemalloc
from typing import Any, ClassVar

import pytest
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase
from twisted.web._newclient import Request, ResponseFailed
from twisted.web.http import _DataLoss
from twisted.web.http_headers import Headers

from httpchart.protocol import (
    BodyTooLarge,
    HeadTooLarge,
    HTTP11ClientProtocol,
    HTTPConnectionPool,
    LLHTTPParser,
    MalformedResponse,
)

from .support.client_kit import Collect
from .support.hostile_client import Answered, Exchange, Failed, Run
from .support.scripted import AwaitRequest, Close, Stream

KIB = 1024
MB = 1024 * 1024
CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


def _exchange(
    parts: list[bytes], protocol_class: type[HTTP11ClientProtocol] = HTTP11ClientProtocol
) -> tuple[list[object], Collect | None]:
    """
    Feed C{parts} to a connection waiting for a response, one read each;
    the response's outcome, and its body's collector if a response came.
    """
    protocol = protocol_class()
    protocol.makeConnection(StringTransport())
    outcome: list[object] = []
    protocol.request(Request(b"GET", b"/", Headers({b"host": [b"x"]}), None)).addBoth(
        outcome.append
    )
    collect: Collect | None = None
    for part in parts:
        protocol.dataReceived(part)
        if collect is None and outcome and not isinstance(outcome[0], Failure):
            collect = Collect()
            outcome[0].deliverBody(collect)  # type: ignore[attr-defined]
            collect.done.addErrback(outcome.append)
    return outcome, collect


def _too_large(outcome: list[object]) -> str:
    """
    The message of the HeadTooLarge that failed the exchange.
    """
    failure = outcome[-1]
    assert isinstance(failure, Failure), outcome
    failure.trap(ResponseFailed)
    reason = failure.value.reasons[0]
    assert reason.check(HeadTooLarge), reason
    assert isinstance(reason.value, MalformedResponse)
    return str(reason.value.args[0])


def _pieces(data: bytes, size: int = 4096) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)]


def test_the_defaults_are_documented_ones() -> None:
    assert (LLHTTPParser.max_line_length, LLHTTPParser.max_fields, LLHTTPParser.max_head_size) == (
        16384,
        256,
        65536,
    )


@pytest.mark.parametrize(
    ("start", "kind"),
    [(b"HTTP/1.1 200 ", "status"), (b"HTTP/1.1 200 OK\r\nX-Long: ", "header")],
    ids=["status line", "header line"],
)
def test_an_unfinished_line_fails_once_it_passes_the_line_limit(start: bytes, kind: str) -> None:
    limit = LLHTTPParser.max_line_length
    parts = _pieces(start + b"a" * (limit + 1 - len(start.rsplit(b"\n", 1)[-1])))
    outcome, _ = _exchange([*parts[:-1], parts[-1][:-1]])
    assert outcome == []
    outcome, _ = _exchange(parts)
    assert _too_large(outcome) == f"{kind} line longer than {limit} bytes"


def test_a_complete_line_over_the_limit_fails_too() -> None:
    line = b"X-Long: " + b"a" * LLHTTPParser.max_line_length + b"\r\n"
    outcome, _ = _exchange([b"HTTP/1.1 200 OK\r\n" + line + b"\r\n"])
    assert _too_large(outcome) == "header line longer than 16384 bytes"


def test_more_fields_than_allowed_fail() -> None:
    fields = b"".join(b"X-%d: v\r\n" % n for n in range(LLHTTPParser.max_fields))
    outcome, _ = _exchange([b"HTTP/1.1 200 OK\r\n" + fields + b"Content-Length: 0\r\n\r\n"])
    assert _too_large(outcome) == "more than 256 header fields"
    outcome, _ = _exchange([b"HTTP/1.1 200 OK\r\n" + fields + b"\r\n"])
    assert outcome
    assert not isinstance(outcome[0], Failure)


def test_a_head_longer_than_allowed_fails_though_each_line_is_short() -> None:
    line = b"X-A: " + b"a" * 8000 + b"\r\n"
    outcome, _ = _exchange(_pieces(b"HTTP/1.1 200 OK\r\n" + line * 9))
    assert _too_large(outcome) == "head longer than 65536 bytes"


def test_informational_heads_count_towards_the_head() -> None:
    heads = b"HTTP/1.1 100 Continue\r\n\r\n" * 3000
    outcome, _ = _exchange(_pieces(heads))
    assert _too_large(outcome) == "head longer than 65536 bytes"


def test_an_endless_chunk_size_line_fails_the_body() -> None:
    outcome, collect = _exchange(
        [CHUNKED_HEAD + b"5\r\nhello\r\n", *_pieces(b"5;ext=" + b"a" * 20000)]
    )
    assert collect is not None
    assert _too_large(outcome) == "chunk size line longer than 16384 bytes"
    assert collect.done.called


def test_endless_trailers_fail_the_body() -> None:
    trailers = b"0\r\nX-T: " + b"a" * (LLHTTPParser.max_head_size + 1)
    outcome, _ = _exchange([CHUNKED_HEAD + b"5\r\nhello\r\n", *_pieces(trailers)])
    assert _too_large(outcome) == "trailers longer than 65536 bytes"


def _trailer_section(size: int, line: int = 8000) -> bytes:
    """
    Trailer fields of C{line} bytes each (C{X-Tnnnn: a...} CRLF, the last
    one shorter) that add up to exactly C{size} bytes.
    """
    fields = []
    number = 0
    while size > 0:
        name = b"X-T%04d: " % number
        length = min(line, size)
        if size - length and size - length < len(name) + 2:
            length -= len(name) + 2  # leave room for a last field
        fields.append(name + b"a" * (length - len(name) - 2) + b"\r\n")
        size -= length
        number += 1
    section = b"".join(fields)
    return section


@pytest.mark.parametrize("size", [70 * KIB, 200 * KIB], ids=["70 KiB", "200 KiB"])
def test_trailers_over_the_limit_fail_even_in_one_read(size: int) -> None:
    """
    Regression: a whole trailer section in the read that also carried the
    body used to be accepted, whatever its size.
    """
    trailers = _trailer_section(size)
    body = b"5\r\nhello\r\n0\r\n" + trailers + b"\r\n"
    for parts in ([CHUNKED_HEAD + body], [CHUNKED_HEAD, body], _pieces(CHUNKED_HEAD + body)):
        outcome, _ = _exchange(parts)
        assert _too_large(outcome) == "trailers longer than 65536 bytes"


class _TrailerStrict(LLHTTPParser):
    max_line_length = 100
    max_head_size = 400


class _TrailerStrictConnection(HTTP11ClientProtocol):
    parser_factory = _TrailerStrict.open


def _splits(data: bytes) -> list[list[bytes]]:
    return [[data[:i], data[i:]] for i in range(1, len(data))]


@pytest.mark.parametrize(
    ("excess", "outcome"), [(0, "accepted"), (1, "trailers longer than 400 bytes")]
)
def test_the_trailer_limit_is_exact_however_the_bytes_are_split(excess: int, outcome: str) -> None:
    """
    Trailers of exactly the limit are accepted and one byte more refused,
    in one read, split at every point, and one byte at a time.
    """
    trailers = _trailer_section(400 + excess, line=90)
    response = CHUNKED_HEAD + b"5\r\nhello\r\n0\r\n" + trailers + b"\r\n"
    for parts in [[response], *_splits(response), [bytes([b]) for b in response]]:
        seen, collect = _exchange(parts, _TrailerStrictConnection)
        if outcome == "accepted":
            assert collect is not None
            assert collect.done.result == b"hello", parts
            assert len(seen) == 1
        else:
            assert _too_large(seen) == outcome, parts


def test_an_unfinished_trailer_in_the_heads_read_is_measured() -> None:
    """
    The read that carries the head, the body and the start of an endless
    trailer fails at once: the unfinished line is measured there too.
    """
    response = CHUNKED_HEAD + b"5\r\nhello\r\n0\r\nX-T: " + b"a" * LLHTTPParser.max_head_size
    outcome, _ = _exchange([response])
    assert _too_large(outcome) == "trailers longer than 65536 bytes"


def test_a_trailer_line_over_the_line_limit_fails_however_split() -> None:
    trailers = b"X-T: " + b"a" * 98 + b"\r\n"
    response = CHUNKED_HEAD + b"5\r\nhello\r\n0\r\n" + trailers + b"\r\n"
    for parts in [[response], *_splits(response)]:
        seen, _ = _exchange(parts, _TrailerStrictConnection)
        assert _too_large(seen) == "trailer line longer than 100 bytes", parts


def test_default_trailer_limit_at_sampled_split_points() -> None:
    limit = LLHTTPParser.max_head_size
    for excess, accepted in ((0, True), (1, False)):
        response = (
            CHUNKED_HEAD + b"5\r\nhello\r\n0\r\n" + _trailer_section(limit + excess) + b"\r\n"
        )
        for split in range(1, len(response), 997):
            seen, collect = _exchange([response[:split], response[split:]])
            if accepted:
                assert collect is not None
                assert collect.done.result == b"hello", split
            else:
                assert _too_large(seen) == "trailers longer than 65536 bytes", split


@pytest.mark.parametrize(("excess", "accepted"), [(0, True), (1, False)])
def test_the_chunk_size_line_limit_is_exact_however_the_bytes_are_split(
    excess: int, accepted: bool
) -> None:
    """
    A chunk size line with its extensions (up to its line feed, its CR
    included) of exactly the line limit is accepted and one byte more
    refused, wherever it sits among the body's bytes and however they are
    split.
    """
    padding = b"a" * (100 + excess - len(b"5;ext=") - 1)
    line, last = b"5;ext=" + padding + b"\r", b"0;ext=" + padding + b"\r"
    body = b"3\r\nabc\r\n" + line + b"\nhello\r\n" + last + b"\n\r\n"
    response = CHUNKED_HEAD + body
    for parts in [[response], *_splits(response), [bytes([b]) for b in response]]:
        seen, collect = _exchange(parts, _TrailerStrictConnection)
        if accepted:
            assert collect is not None
            assert collect.done.result == b"abchello", parts
        else:
            assert _too_large(seen) == "chunk size line longer than 100 bytes", parts


def test_a_first_chunk_size_line_in_the_heads_read_is_measured() -> None:
    line = b"5;ext=" + b"a" * 100 + b"\r\n"
    seen, _ = _exchange([CHUNKED_HEAD + line + b"hello\r\n0\r\n\r\n"], _TrailerStrictConnection)
    assert _too_large(seen) == "chunk size line longer than 100 bytes"
    seen, collect = _exchange(
        [b"HTTP/1.1 103 Early\r\n\r\n" + CHUNKED_HEAD + b"5;e=1\r\nhello\r\n0\r\n\r\n"],
        _TrailerStrictConnection,
    )
    assert collect is not None
    assert collect.done.result == b"hello"


def test_tiny_chunks_are_no_framing_overflow() -> None:
    body = b"1\r\nx\r\n" * 200_000 + b"0\r\n\r\n"
    outcome, collect = _exchange([CHUNKED_HEAD, *_pieces(body)])
    assert collect is not None
    assert len(outcome) == 1
    assert collect.done.result == b"x" * 200_000


class _Strict(LLHTTPParser):
    max_line_length = 100
    max_fields = 4
    max_head_size = 1000


class _Lenient(LLHTTPParser):
    max_line_length = 64 * KIB
    max_head_size = 256 * KIB


class _StrictConnection(HTTP11ClientProtocol):
    parser_factory = _Strict.open


class _LenientConnection(HTTP11ClientProtocol):
    parser_factory = _Lenient.open


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (b"HTTP/1.1 200 OK\r\nX-A: " + b"a" * 100 + b"\r\n\r\n", "header line longer than 100"),
        (b"HTTP/1.1 200 OK\r\n" + b"X-A: a\r\n" * 5 + b"\r\n", "more than 4 header fields"),
        (b"HTTP/1.1 100 Continue\r\n\r\n" * 50, "head longer than 1000 bytes"),
    ],
    ids=["line", "fields", "head"],
)
def test_a_subclass_lowers_the_limits(response: bytes, message: str) -> None:
    outcome, _ = _exchange([response], _StrictConnection)
    assert _too_large(outcome).startswith(message)


def test_a_subclass_raises_the_limits() -> None:
    response = b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 40000 + b"\r\nContent-Length: 0\r\n\r\n"
    outcome, _ = _exchange(_pieces(response))
    assert _too_large(outcome) == "header line longer than 16384 bytes"
    outcome, _ = _exchange(_pieces(response), _LenientConnection)
    assert outcome[0].headers.getRawHeaders(b"x-long") == [b"a" * 40000]  # type: ignore[attr-defined]


class _LenientPool(HTTPConnectionPool):
    protocol = _LenientConnection


def test_a_pool_uses_the_limits_of_its_connection_class() -> None:
    """
    The way README.md shows: a parser subclass, a connection class that
    opens it, a pool that builds that connection class.
    """
    connection = _LenientPool(Clock())._factory(lambda c: None, "metadata").buildProtocol(None)
    assert isinstance(connection, _LenientConnection)
    parser, _ = connection.parser_factory(None, lambda rest: None, StringTransport())
    assert isinstance(parser, _Lenient)
    assert parser.max_line_length == 64 * KIB


def _streaming(head: bytes, pattern: bytes, total: int = 50 * MB) -> Any:
    """
    A server that answers with C{head}, then C{pattern} over and over, up to
    C{total} bytes, and closes.
    """
    return ((AwaitRequest(), Stream(pattern, total, head=head), Close()),)


class EndlessHeadsOverLoopback(TestCase):
    """
    Servers that stream 50 MB where a head (or trailers) should end: the
    client stops them at the limit, with bounded memory.
    """

    timeout = 60
    # Generous: the client parses at most a few 64 KiB reads past a limit.
    PEAK: ClassVar[int] = 2 * MB
    SENT: ClassVar[int] = 2 * MB

    async def stopped(
        self, head: bytes, pattern: bytes, flavour: str = "httpchart", total: int = 50 * MB
    ) -> tuple[Any, int, int]:
        """
        Run one exchange against the streaming server under tracemalloc; what
        the client got, the peak traced memory, and the bytes the server sent.
        """
        run = Run(_streaming(head, pattern, total), flavour)  # type: ignore[arg-type]
        tracemalloc.start()
        try:
            observed = await run.play((Exchange(),))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        return observed, peak, run.server.connections[0].sent

    async def assert_stopped(self, head: bytes, pattern: bytes, says: str, body: bool) -> None:
        observed, peak, sent = await self.stopped(head, pattern)
        if body:
            ((outcome,),) = (observed.outcomes,)
            assert isinstance(outcome, Answered)
            assert outcome.ending == "ResponseFailed(HeadTooLarge, _DataLoss)"
        else:
            assert observed.outcomes == [Failed("ResponseFailed(HeadTooLarge)")]
        assert says in " ".join(observed.says)
        assert observed.follow_up == b"good"
        assert observed.logged == []
        assert sent < self.SENT, sent
        assert peak < self.PEAK, peak

    async def test_an_endless_header_line(self) -> None:
        await self.assert_stopped(
            b"HTTP/1.1 200 OK\r\nX-Long: ", b"a", "header line longer than 16384 bytes", False
        )

    async def test_an_endless_stream_of_headers(self) -> None:
        await self.assert_stopped(
            b"HTTP/1.1 200 OK\r\n", b"X-Header: value\r\n", "more than 256 header fields", False
        )

    async def test_an_endless_status_line(self) -> None:
        await self.assert_stopped(
            b"HTTP/1.1 200 ", b"x", "status line longer than 16384 bytes", False
        )

    async def test_a_head_that_never_ends(self) -> None:
        await self.assert_stopped(
            b"HTTP/1.1 200 OK\r\n",
            b"X-A: " + b"a" * 8000 + b"\r\n",
            "head longer than 65536 bytes",
            False,
        )

    async def test_endless_informational_responses(self) -> None:
        await self.assert_stopped(
            b"", b"HTTP/1.1 100 Continue\r\n\r\n", "head longer than 65536 bytes", False
        )

    async def test_an_endless_trailer(self) -> None:
        await self.assert_stopped(
            CHUNKED_HEAD + b"5\r\nhello\r\n0\r\nX-T: ", b"a", "trailers longer than 65536", True
        )

    async def test_an_endless_chunk_extension(self) -> None:
        await self.assert_stopped(
            CHUNKED_HEAD + b"5;ext=", b"a", "chunk size line longer than 16384", True
        )

    async def test_twisted_keeps_every_header_of_an_endless_stream(self) -> None:
        """
        The same server against Twisted's own client, with 1 MiB instead of
        50 MB: Twisted reads it all, holding more memory than it was sent,
        and fails only when the server closes.  (Its line limit stops an
        endless single line, as httpchart's does.)
        """
        observed, peak, sent = await self.stopped(
            b"HTTP/1.1 200 OK\r\n", b"X-Header: value\r\n", "twisted", total=MB
        )
        assert observed.outcomes == [Failed("ResponseFailed(ConnectionDone)")]
        assert sent >= MB
        assert peak > MB, peak


# The body's limit


def _capped(
    parts: list[bytes], limit: int | None = 100, method: bytes = b"GET"
) -> tuple[HTTP11ClientProtocol, list[object], Collect | None]:
    """
    Feed C{parts} to a connection with a body limit of C{limit}; the
    connection, the request's outcome (then the body's failure, if any) and
    the body's collector if a response came.
    """
    protocol = HTTP11ClientProtocol(max_body_size=limit)
    protocol.makeConnection(StringTransport())
    outcome: list[object] = []
    protocol.request(Request(method, b"/", Headers({b"host": [b"x"]}), None)).addBoth(
        outcome.append
    )
    collect: Collect | None = None
    for part in parts:
        if protocol.state != "WAITING":
            break
        protocol.dataReceived(part)
        if collect is None and outcome and not isinstance(outcome[0], Failure):
            collect = Collect()
            outcome[0].deliverBody(collect)  # type: ignore[attr-defined]
            collect.done.addErrback(outcome.append)
    return protocol, outcome, collect


def _body_too_large(failure: object) -> BodyTooLarge:
    assert isinstance(failure, Failure), failure
    failure.trap(ResponseFailed)
    reason = failure.value.reasons[0]
    assert reason.check(BodyTooLarge), reason
    assert isinstance(reason.value, BodyTooLarge)
    return reason.value


def test_there_is_no_body_limit_by_default() -> None:
    assert LLHTTPParser.max_body_size is None
    _, outcome, collect = _capped([b"HTTP/1.1 200 OK\r\n\r\n" + b"a" * MB], limit=None)
    assert collect is not None
    assert len(outcome) == 1


def test_a_content_length_over_the_limit_fails_at_the_head() -> None:
    """
    The request's Deferred fails with ResponseFailed([BodyTooLarge]), no
    Response is delivered, nothing of the body reaches anyone, and the
    connection is closed, whether the body came in the same read or not.
    """
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n"
    for parts in ([head], [head + b"a" * 101], [head[:10], head[10:]]):
        protocol, outcome, collect = _capped(parts)
        assert collect is None
        (failure,) = outcome
        too_large = _body_too_large(failure)
        assert (too_large.limit, too_large.length) == (100, 101)
        assert str(too_large) == "Content-Length 101 exceeds the body limit of 100 bytes"
        assert protocol.transport.disconnecting  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("head", "body"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", b"a" * 100),
        (CHUNKED_HEAD, b"32\r\n" + b"a" * 50 + b"\r\n32\r\n" + b"a" * 50 + b"\r\n0\r\n\r\n"),
    ],
    ids=["length", "chunked"],
)
def test_a_body_of_exactly_the_limit_is_accepted(head: bytes, body: bytes) -> None:
    response = head + body
    for parts in [[response], *_splits(response)]:
        protocol, _, collect = _capped(parts)
        assert collect is not None
        assert collect.done.result == b"a" * 100
        assert protocol.state == "QUIESCENT"


def test_a_close_delimited_body_of_exactly_the_limit_is_accepted() -> None:
    protocol, _, collect = _capped([b"HTTP/1.1 200 OK\r\n\r\n", b"a" * 100])
    protocol.connectionLost(Failure(ConnectionDone()))
    assert collect is not None
    assert collect.done.result == b"a" * 100


@pytest.mark.parametrize(
    ("method", "status"), [(b"HEAD", b"200 OK"), (b"GET", b"204 No Content"), (b"GET", b"304 X")]
)
def test_a_response_without_a_body_ignores_its_content_length(method: bytes, status: bytes) -> None:
    protocol, _, collect = _capped(
        [b"HTTP/1.1 " + status + b"\r\nContent-Length: 1000000\r\n\r\n"], method=method
    )
    assert collect is not None
    assert collect.done.result == b""
    assert protocol.state == "QUIESCENT"


@pytest.mark.parametrize(
    "response",
    [
        CHUNKED_HEAD + b"3c\r\n" + b"a" * 60 + b"\r\n3c\r\n" + b"b" * 60 + b"\r\n0\r\n\r\n",
        CHUNKED_HEAD + b"65\r\n" + b"a" * 101 + b"\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\n" + b"a" * 101,
    ],
    ids=["chunked, two chunks", "chunked, one chunk", "until the close"],
)
def test_a_body_past_the_limit_fails_however_the_bytes_are_split(response: bytes) -> None:
    """
    The body ends with ResponseFailed([BodyTooLarge, _DataLoss]) and the
    connection is closed; the consumer never gets more than the limit,
    even when the read that crosses it holds the whole body.
    """
    for parts in [[response], *_splits(response)]:
        protocol, outcome, collect = _capped(parts)
        assert collect is not None, parts
        too_large = _body_too_large(outcome[-1])
        assert (too_large.limit, too_large.length) == (100, None)
        assert str(too_large) == "body longer than 100 bytes"
        assert [r.type for r in outcome[-1].value.reasons][1:] == [_DataLoss]  # type: ignore[union-attr]
        delivered = b"".join(collect._parts)
        assert len(delivered) <= 100, parts
        assert (b"a" * 60 + b"b" * 60).startswith(delivered) or delivered == b"a" * len(delivered)
        assert protocol.transport.disconnecting  # type: ignore[union-attr]


class _CappedParser(LLHTTPParser):
    max_body_size = 10


class _CappedConnection(HTTP11ClientProtocol):
    parser_factory = _CappedParser.open


def test_the_limit_is_a_parser_attribute_a_connection_overrides() -> None:
    outcome, _ = _exchange([b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n"], _CappedConnection)
    assert _body_too_large(outcome[-1]).limit == 10
    protocol = _CappedConnection(max_body_size=20)
    protocol.makeConnection(StringTransport())
    protocol.request(Request(b"GET", b"/", Headers({b"host": [b"x"]}), None))
    assert protocol._parser.max_body_size == 20  # type: ignore[union-attr]


def test_a_pool_gives_its_limit_to_every_connection() -> None:
    records: list[object] = []
    for observer in (None, lambda number, record: records.append(record)):
        pool = HTTPConnectionPool(Clock(), max_body_size=1234, observer=observer)
        connection = pool._factory(lambda c: None, "metadata").buildProtocol(None)
        connection.makeConnection(StringTransport())
        connection.request(Request(b"GET", b"/", Headers({b"host": [b"x"]}), None))
        assert connection._parser.max_body_size == 1234  # type: ignore[union-attr]
    assert records
    connection = HTTPConnectionPool(Clock())._factory(lambda c: None, "m").buildProtocol(None)
    connection.makeConnection(StringTransport())
    connection.request(Request(b"GET", b"/", Headers({b"host": [b"x"]}), None))
    assert connection._parser.max_body_size is None  # type: ignore[union-attr]


class BodyLimitOverLoopback(TestCase):
    """
    Servers that stream 50 MB of body to a pool whose limit is 256 KiB: the
    client stops each of them just past the limit, with bounded memory, and
    the pool stays usable.
    """

    timeout = 60
    LIMIT: ClassVar[int] = 256 * KIB

    async def limited(self, head: bytes, pattern: bytes) -> tuple[Any, int, int]:
        run = Run(_streaming(head, pattern), "httpchart")  # type: ignore[arg-type]
        run.pool.max_body_size = self.LIMIT
        tracemalloc.start()
        try:
            observed = await run.play((Exchange(),))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert observed.follow_up == b"good"
        assert observed.logged == []
        assert observed.after == "closed"
        return observed, peak, run.server.connections[0].sent

    async def assert_cut(self, head: bytes, pattern: bytes) -> None:
        observed, peak, sent = await self.limited(head, pattern)
        ((outcome,),) = (observed.outcomes,)
        assert isinstance(outcome, Answered)
        assert outcome.ending == "ResponseFailed(BodyTooLarge, _DataLoss)"
        assert len(outcome.body) <= self.LIMIT
        assert "body longer than 262144 bytes" in " ".join(observed.says)
        assert sent < 2 * MB, sent
        assert peak < 2 * MB, peak

    async def test_a_body_until_the_close(self) -> None:
        await self.assert_cut(b"HTTP/1.1 200 OK\r\n\r\n", b"a" * 1000)

    async def test_a_chunked_body(self) -> None:
        await self.assert_cut(CHUNKED_HEAD, b"1000\r\n" + b"a" * 4096 + b"\r\n")

    async def test_a_content_length_over_the_limit(self) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (50 * MB)
        observed, peak, sent = await self.limited(head, b"a" * 1000)
        assert observed.outcomes == [Failed("ResponseFailed(BodyTooLarge)")]
        assert "Content-Length 52428800 exceeds the body limit of 262144 bytes" in " ".join(
            observed.says
        )
        assert sent < 2 * MB, sent
        assert peak < 2 * MB, peak
