"""
A test rig around one httpchart connection, made of fakes that record what
the connection does to them.

The rig drives the protocol only through what Twisted gives a connection:
C{request}, C{dataReceived}, C{connectionLost}, C{abort}, cancelling a
request's Deferred, and the request's writeTo Deferred firing.  Everything the
connection does in return is written down as a short fact:

  - C{transport:lose}, C{transport:abort}, C{transport:resume};
  - C{request:writeTo}, C{request:stopWriting}, C{request:cancelled} (its
    writeTo Deferred was cancelled), C{request:head} (only the head of a
    request expecting C{100 Continue} was written);
  - C{parser:created}, C{parser:fed}, C{parser:disconnected:<reason type>};
  - C{quiescent} (the quiescent callback ran);
  - C{caller:<exception>[<reason types>]} when a request's Deferred fails
    with an error the connection made itself (RequestNotSent,
    RequestGenerationFailed, RequestTransmissionFailed);
  - C{abort:pending} and C{abort:fired-now} for a new abort() Deferred,
    C{abort:waiters-fired} when earlier ones fire;
  - C{log:late-write}, C{log:bad-response}, C{log:effect-failure},
    C{log:unhandled} and C{log:failure:<format>} for log events.

A spied connection (L{spied}) can also be told to break one effect: the next
time it runs, it raises L{EffectBroke} instead of doing anything.

A request's Deferred that fires with its parser's outcome (a response, or the
failure the parser produced) is not a fact but a delivery: the rig checks it
with L{Rig.check_delivery} against the transitions taken.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from twisted.internet.defer import CancelledError, Deferred, fail, succeed
from twisted.internet.error import ConnectionLost
from twisted.internet.protocol import Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import globalLogPublisher
from twisted.python.failure import Failure
from twisted.web._newclient import HTTP11ClientProtocol as TwistedProtocol
from twisted.web._newclient import (
    RequestGenerationFailed,
    RequestNotSent,
    RequestTransmissionFailed,
)
from twisted.web.http_headers import Headers

from httpchart.protocol import HTTP11ClientProtocol, LLHTTPParser, Timeouts
from httpchart.statechart import TransitionRecord

LATE_WRITE_FORMAT = "Error writing request, but not in valid state to finalize request: {state}"
OWN_FAILURES = (RequestNotSent, RequestGenerationFailed, RequestTransmissionFailed)

WriteMode = Literal["pending", "done", "fails"]
"""
How a fake request's writeTo turns out: left to the test (C{pending}),
finished at once (C{done}) or failed at once with L{WriteBroke} (C{fails}).
"""


RIG_TIMEOUTS = Timeouts(expect_continue=1.0, response=2.0, read=3.0, total=4.0)
"""
The rig's timers: each expires first in some state (expect_continue while
awaiting 100 Continue, total while writing, response while waiting).
"""


class WriteBroke(Exception):
    """
    The reason a fake request's write fails.
    """


class EffectBroke(Exception):
    """
    What an effect broken on purpose raises.
    """


class ConsumerBroke(Exception):
    """
    The reason a fake response consumer fails.
    """


class RecordingTransport(StringTransport):
    """
    A StringTransport that notes closes, aborts and resumes.
    """

    def __init__(self, rig: Rig) -> None:
        super().__init__(lenient=True)
        self.rig = rig

    def loseConnection(self) -> None:
        self.rig.fact("transport:lose")
        super().loseConnection()

    def abortConnection(self) -> None:
        self.rig.fact("transport:abort")
        self.disconnecting = True
        self.disconnected = True

    def resumeProducing(self) -> None:
        self.rig.fact("transport:resume")
        super().resumeProducing()


class FakeBody:
    """
    The body producer of a fake request that expects C{100 Continue}.
    """

    length = 4


class FakeRequest:
    """
    A request whose write finishes or fails at once, or is left to the test.
    One that C{expect}s C{100 Continue} has a body and the header, and can
    be written head first as Twisted's L{Request} can; a failing one fails
    while writing its head.
    """

    method = b"GET"
    uri = b"/"
    head = b"GET / HTTP/1.1\r\nHost: example\r\n\r\n"

    def __init__(
        self, rig: Rig, persistent: bool, write: WriteMode = "pending", expect: bool = False
    ) -> None:
        self.rig = rig
        self.persistent = persistent
        self.write = write
        self.writing: Deferred[None] | None = None
        self.bodyProducer = FakeBody() if expect else None
        self.headers = Headers({b"expect": [b"100-continue"]} if expect else {})

    def _writeHeaders(self, transport: Any, framing: bytes) -> None:
        self.rig.fact("request:head")
        if self.write == "fails":
            raise WriteBroke()
        transport.writeSequence([self.head])

    def writeTo(self, transport: Any) -> Deferred[None]:
        self.rig.fact("request:writeTo")
        transport.writeSequence([self.head])
        if self.write == "done":
            return succeed(None)
        if self.write == "fails":
            return fail(WriteBroke())
        self.writing = Deferred(lambda d: self.rig.fact("request:cancelled"))
        self.rig.writer = self
        return self.writing

    def stopWriting(self) -> None:
        self.rig.fact("request:stopWriting")


class SpyParser(LLHTTPParser):
    """
    httpchart's parser, noting what the connection does to it.
    """

    rig: Rig
    outcome: object = None
    settled = False
    head_reads: tuple[bytes, ...] = ()
    """The reads fed before the response's head was complete, in order."""

    def dataReceived(self, data: bytes) -> None:
        self.rig.fact("parser:fed")
        if self.response is None:
            self.head_reads += (data,)
        super().dataReceived(data)

    def connectionLost(self, reason: Failure | None = None) -> None:
        assert reason is not None
        assert self.transport._producer is None, "the transport proxy must stop first"
        self.rig.fact(f"parser:disconnected:{reason.type.__name__}")
        super().connectionLost(reason)

    def seen(self, outcome: object) -> object:
        self.outcome, self.settled = outcome, True
        return outcome


@dataclass
class Caller:
    """
    A Deferred returned by request(), and what became of it.
    """

    request: FakeRequest
    deferred: Deferred[Any]
    outcome: object = None
    fired: bool = False
    firings: int = 0


def spied(cls: type[Any]) -> type[Any]:
    """
    A subclass of the model class C{cls} whose instances note, in their
    C{effect_calls} list, each effect they run, in order.  An instance whose
    C{broken_effect} names an effect raises L{EffectBroke} the next time that
    effect runs (after noting it), and forgets it.
    """

    def spy(name: str) -> Callable[..., Any]:
        implementation = getattr(cls, "_" + name)

        @functools.wraps(implementation)
        def noted(self: Any, *args: Any, **kwargs: Any) -> Any:
            self.effect_calls.append(name)
            if self.broken_effect == name:
                self.broken_effect, self.effect_broke = None, name
                raise EffectBroke(name)
            return implementation(self, *args, **kwargs)

        return noted

    namespace: dict[str, Any] = {"_" + name: spy(name) for name in cls._compiled.spec.effects}
    namespace["broken_effect"] = namespace["effect_broke"] = None
    return type(f"Spied{cls.__name__}", (cls,), namespace)


SpyProtocol = spied(HTTP11ClientProtocol)


@dataclass
class Rig:
    """
    One connection under test.  See the module docstring for the facts.

    @ivar protocol_class: The connection's class: httpchart's, spied on (see
        L{spied}), unless a test brings a (spied) variant.
    """

    engine: str = "compiled"
    facts: list[str] = field(default_factory=list)
    records: list[TransitionRecord] = field(default_factory=list)
    callers: list[Caller] = field(default_factory=list)
    aborts: list[Deferred[None]] = field(default_factory=list)
    on_quiescent: Callable[[], None] | None = None
    writer: FakeRequest | None = None
    quiescent_states: list[str] = field(default_factory=list)
    protocol_class: type[Any] = SpyProtocol
    timeouts: Timeouts | None = RIG_TIMEOUTS

    def __post_init__(self) -> None:
        self.clock = Clock()
        self.transport = RecordingTransport(self)
        self._parsers: list[SpyParser] = []
        self.protocol = self._connect()
        self.protocol.makeConnection(self.transport)
        globalLogPublisher.addObserver(self._logged)

    def _connect(self) -> Any:
        protocol = self.protocol_class(
            self._quiescent,
            engine=self.engine,
            observer=self.records.append,
            timeouts=self.timeouts,
            clock=self.clock,
        )
        protocol.effect_calls = []
        protocol.parser_factory = self._open_parser
        protocol.lostCallback = lambda lost: self.fact("lost-callback")
        return protocol

    def close(self) -> None:
        """
        Stop observing the log, after collecting garbage so that any
        unhandled error in a dropped Deferred is reported.
        """
        gc.collect()
        globalLogPublisher.removeObserver(self._logged)

    def fact(self, fact: str) -> None:
        self.facts.append(fact)

    # What the world does to a connection

    def request(
        self, persistent: bool = True, write: WriteMode = "pending", expect: bool = False
    ) -> Caller:
        request = FakeRequest(self, persistent, write, expect)
        deferred = self.protocol.request(request)
        caller = Caller(request, deferred)
        self.callers.append(caller)

        def settled(outcome: object) -> None:
            caller.outcome, caller.fired = outcome, True
            caller.firings += 1
            if isinstance(outcome, Failure) and outcome.check(*OWN_FAILURES):
                exception = outcome.value
                reasons = ",".join(r.type.__name__ for r in getattr(exception, "reasons", []))
                self.fact(f"caller:{type(exception).__name__}[{reasons}]")

        deferred.addBoth(settled)
        return caller

    def finish_write(self) -> None:
        assert self.writer is not None
        assert self.writer.writing is not None
        self.writer.writing.callback(None)

    def fail_write(self) -> None:
        assert self.writer is not None
        assert self.writer.writing is not None
        self.writer.writing.errback(Failure(WriteBroke()))

    def feed(self, data: bytes) -> None:
        self.protocol.dataReceived(data)

    def expire(self) -> None:
        """
        Let time pass until the connection's timer fires.
        """
        (call,) = self.clock.getDelayedCalls()
        self.clock.advance(call.getTime() - self.clock.seconds())

    def lose(self) -> None:
        self.protocol.connectionLost(Failure(ConnectionLost("gone")))

    def abort(self) -> Deferred[None]:
        deferred = self.protocol.abort()
        self.aborts.append(deferred)
        self.fact("abort:fired-now" if deferred.called else "abort:pending")
        return deferred

    def cancel(self) -> Caller:
        caller = self.callers[-1]
        caller.deferred.cancel()
        return caller

    def consume_body_with_a_consumer_that_raises(self) -> None:
        """
        Give the latest response a body consumer that raises on the first
        bytes it gets.
        """
        response = self.callers[-1].outcome

        class Raising(Protocol):
            def dataReceived(self, data: bytes) -> None:
                raise ConsumerBroke()

        response.deliverBody(Raising())  # type: ignore[attr-defined]

    def inject(self, event: str, **payload: Any) -> None:
        """
        Send an event straight to the connection's engine, for the cells no
        sequence of public calls can reach.
        """
        self.protocol._runner.send(self.protocol, event, payload)

    def act(self, action: Callable[[Rig], object]) -> tuple[list[TransitionRecord], list[str]]:
        """
        Run C{action} on this rig with the facts cleared, and return the
        transitions it caused and the effects that ran, in order.
        """
        self.facts.clear()
        records, calls = len(self.records), len(self.protocol.effect_calls)
        waiting = [d for d in self.aborts if not d.called]
        action(self)
        if waiting and all(d.called for d in waiting):
            self.fact("abort:waiters-fired")
        return self.records[records:], self.protocol.effect_calls[calls:]

    # Checks

    def check_delivery(self) -> None:
        """
        A request's Deferred fires with its parser's outcome exactly when the
        connection took a transition delivering it and the parser has an
        outcome; otherwise it does not fire with it.
        """
        accepted = [c for c in self.callers if self._parser_of(c) is not None]
        for index, caller in enumerate(accepted):
            parser = self._parser_of(caller)
            assert parser is not None
            broke = getattr(self.protocol, "effect_broke", None)
            delivered = broke != "deliver_response" and any(
                "deliver_response" in record.effects
                for record in _exchange_records(self.records, index)
            )
            if delivered and parser.settled:
                assert caller.fired, "the delivered response did not reach the caller"
                if not _cancelled(caller.outcome):
                    assert caller.outcome is parser.outcome
            elif caller.fired and parser.settled:
                assert caller.outcome is not parser.outcome, "an undelivered response leaked"

    def _parser_of(self, caller: Caller) -> SpyParser | None:
        for parser in self._parsers:
            if parser.request is caller.request:
                return parser
        return None

    # Plumbing

    def _quiescent(self, protocol: Any) -> None:
        self.fact("quiescent")
        self.quiescent_states.append(protocol.state)
        if self.on_quiescent is not None:
            self.on_quiescent()

    def _open_parser(
        self, request: FakeRequest, finisher: Callable[[bytes], None], transport: object
    ) -> tuple[Any, Deferred[Any]]:
        self.fact("parser:created")
        parser, response = SpyParser.open(request, finisher, transport)
        assert isinstance(parser, SpyParser)
        parser.rig = self
        response.addBoth(parser.seen)
        self._parsers.append(parser)
        return parser, response

    def _logged(self, event: dict[str, Any]) -> None:
        text = event.get("log_format") or ""
        if text == LATE_WRITE_FORMAT:
            self.fact("log:late-write")
        elif text.startswith("Response failed in state"):
            self.fact("log:bad-response")
        elif text.startswith("an effect raised"):
            self.fact("log:effect-failure")
        elif "Unhandled error in Deferred" in text:
            self.fact("log:unhandled")
        elif "log_failure" in event:
            self.fact(f"log:failure:{text}")


@dataclass
class TwistedRig(Rig):
    """
    The same fakes around Twisted's own C{HTTP11ClientProtocol}, for the
    differential tests.  Twisted's class runs no declared effects, so its
    C{records} and C{effect_calls} stay empty.
    """

    engine: str = "twisted"

    def _connect(self) -> Any:
        protocol = TwistedProtocol(self._quiescent)
        protocol.effect_calls = []
        return protocol


def starts_exchange(record: TransitionRecord) -> bool:
    """
    Whether C{record} is a request's start: its whole write, or its head.
    """
    return "start_request" in record.effects or "send_head" in record.effects


def _cancelled(outcome: object) -> bool:
    return isinstance(outcome, Failure) and outcome.check(CancelledError) is not None


def _exchange_records(records: list[TransitionRecord], index: int) -> list[TransitionRecord]:
    """
    The records from the C{index}th accepted request's start up to the next
    request's start.
    """
    starts = [i for i, r in enumerate(records) if starts_exchange(r)]
    if index >= len(starts):
        return []
    end = starts[index + 1] if index + 1 < len(starts) else len(records)
    return records[starts[index] : end]
