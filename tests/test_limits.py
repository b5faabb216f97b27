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
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase
from twisted.web._newclient import Request, ResponseFailed
from twisted.web.http_headers import Headers

from httpchart.protocol import (
    HeadTooLarge,
    HTTP11ClientProtocol,
    HTTPConnectionPool,
    LLHTTPParser,
    MalformedResponse,
)

from .client_kit import Collect
from .hostile_client import Answered, Exchange, Failed, Run
from .scripted import AwaitRequest, Close, Stream

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
