"""
The timers over real loopback sockets, through httpchart's L{Agent} on a
pool with timeouts: a server that accepts and never answers, one that
stalls after the head, and one that trickles a body whose whole takes
longer than the read timeout while every gap is shorter (which succeeds).
A request may also bring its own timeouts.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.error import TimeoutError
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase
from twisted.web.client import ResponseFailed, ResponseNeverReceived, readBody
from twisted.web.http import _DataLoss

from httpchart.protocol import Agent, HTTPConnectionPool, TimedOut, Timeouts

from .support.client_kit import Tracker

HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"


class _Silent(Protocol):
    """
    Accepts the connection and never answers.
    """


class _StallsAfterHead(Protocol):
    """
    Answers with a head and the start of the body, then says nothing more.
    """

    def dataReceived(self, data: bytes) -> None:
        if b"\r\n\r\n" in data:
            self.transport.write(HEAD + b"01234")  # type: ignore[union-attr]


class _Trickles(Protocol):
    """
    Answers with a head, then one byte of the body every C{gap} seconds.
    """

    gap = 0.1

    def dataReceived(self, data: bytes) -> None:
        if b"\r\n\r\n" not in data:
            return
        self.transport.write(HEAD)  # type: ignore[union-attr]
        body = iter(b"0123456789")

        def next_byte() -> None:
            byte = next(body, None)
            if byte is None:
                self.trickling.stop()
            else:
                self.transport.write(bytes([byte]))  # type: ignore[union-attr]

        self.trickling = LoopingCall(next_byte)
        self.trickling.clock = reactor  # type: ignore[assignment]
        self.trickling.start(self.gap, now=False)

    def connectionLost(self, reason: Failure = Failure(Exception())) -> None:  # noqa: B008
        trickling = getattr(self, "trickling", None)
        if trickling is not None and trickling.running:
            trickling.stop()


class TimeoutsOverLoopback(TestCase):
    timeout = 30

    def serve(self, protocol: type[Protocol]) -> bytes:
        port = reactor.listenTCP(  # type: ignore[attr-defined]
            0, Factory.forProtocol(protocol), interface="127.0.0.1"
        )
        self.addCleanup(port.stopListening)
        return f"http://127.0.0.1:{port.getHost().port}/".encode()

    def agent(self, timeouts: Timeouts) -> Agent:
        tracker = Tracker()
        pool = HTTPConnectionPool(reactor, observer=tracker, timeouts=timeouts)

        async def close() -> None:
            await pool.closeCachedConnections()
            await tracker.all_lost()

        self.addCleanup(close)
        return Agent(reactor, pool=pool)

    async def failure_of(self, deferred: Deferred[Any]) -> Failure:
        try:
            await deferred
        except Exception:
            return Failure()
        raise AssertionError("the request did not fail")

    async def test_a_server_that_never_answers_times_out(self) -> None:
        url = self.serve(_Silent)
        agent = self.agent(Timeouts(response=0.3))
        started = reactor.seconds()  # type: ignore[attr-defined]
        failure = await self.failure_of(agent.request(b"GET", url))
        assert reactor.seconds() - started >= 0.3  # type: ignore[attr-defined]
        assert failure.check(ResponseNeverReceived)
        (reason,) = failure.value.reasons
        assert reason.check(TimeoutError)
        assert (reason.value.timeout, reason.value.seconds) == ("response", 0.3)

    async def test_a_server_that_stalls_after_the_head_times_out_in_the_body(self) -> None:
        url = self.serve(_StallsAfterHead)
        agent = self.agent(Timeouts(response=5, read=0.3))
        response = await agent.request(b"GET", url)
        assert response.code == 200
        failure = await self.failure_of(readBody(response))
        assert failure.check(ResponseFailed)
        timed_out, lost = failure.value.reasons
        assert timed_out.check(TimedOut)
        assert timed_out.value.timeout == "read"
        assert lost.check(_DataLoss)

    async def test_a_body_that_trickles_with_gaps_shorter_than_read_succeeds(self) -> None:
        url = self.serve(_Trickles)
        agent = self.agent(Timeouts(response=5, read=0.4))
        started = reactor.seconds()  # type: ignore[attr-defined]
        response = await agent.request(b"GET", url)
        assert await readBody(response) == b"0123456789"
        assert reactor.seconds() - started > 0.4  # type: ignore[attr-defined]

    async def test_the_total_timeout_ends_a_body_that_trickles(self) -> None:
        url = self.serve(_Trickles)
        agent = self.agent(Timeouts(read=0.4, total=0.5))
        response = await agent.request(b"GET", url)
        failure = await self.failure_of(readBody(response))
        assert failure.check(ResponseFailed)
        assert failure.value.reasons[0].value.timeout == "total"

    async def test_a_request_may_bring_its_own_timeouts(self) -> None:
        url = self.serve(_Silent)
        agent = self.agent(Timeouts(response=60))
        failure = await self.failure_of(agent.request(b"GET", url, timeouts=Timeouts(response=0.2)))
        assert failure.check(ResponseNeverReceived)
        assert failure.value.reasons[0].value.seconds == 0.2
