"""
An exhaustive checker of the connection's lifecycle: every sequence of inputs
from tests/support/sequences.py, up to a depth, driven through the real protocol with
the fakes of tests/support/rig.py, with the connection's promises checked after
every step.

Sequences are enumerated depth first.  Two sequences that leave the
connection and its fakes in the same configuration have the same futures, so
a configuration is expanded once (again only if it is later reached with
more steps left): L{fingerprint} says what a configuration is, and why that
is all the future depends on.  Since a configuration's successors are known
without replaying them again, the number of input sequences covered is
counted over the graph of configurations rather than enumerated.

To take a step from a configuration, the checker replays the sequence that
first reached it on a fresh connection and applies one more input: the
connection, its parser (llhttp underneath) and the Deferreds cannot be
copied, but replaying is deterministic, which the checker also verifies
(the replayed prefix must reach the fingerprint it reached before).

After every step, L{check_step} checks:

  - nothing raised out of the protocol's public methods, and the step is
    over (no event queued, no settlement pending);
  - no effect raised (the connection's error path, effect_failed, is
    explored by tests/test_effect_failure_checker.py, which breaks effects
    on purpose);
  - every transition taken is a row of tests/tables/transition_table.py, the rows
    chain from the state before the step to the state after it, and the
    effects that ran (spied on) are exactly the rows' effects, in order; what
    the transport saw (closed, aborted, resumed) and what was logged match
    those effects too;
  - every request Deferred fires at most once; one that has not fired is the
    request the connection is carrying; in CONNECTION_LOST all have fired;
  - a Deferred that fires now fires with a response or with a documented
    failure whose reasons fit the step (L{check_outcome}); a cancelled one
    fires at once, with CancelledError or wrapping it;
  - abort() Deferreds have fired exactly when the connection is lost;
  - the quiescent callback runs only as the connection enters QUIESCENT, for
    a persistent request, at most once per response; a response that ends the
    connection (non-persistent request or C{Connection: close}) leaves the
    transport closing, and a plain keep-alive response to a persistent
    request does not;
  - the transport is closing in TRANSMITTING_AFTER_RECEIVING_RESPONSE,
    GENERATION_FAILED (aborted) and ABORTING, and open in
    AWAITING_CONTINUE, TRANSMITTING and WAITING;
  - no timer outlives its states: outside AWAITING_CONTINUE, TRANSMITTING
    and WAITING the clock holds no delayed call, and inside them at most
    one;
  - a response to a request whose body was withheld never keeps the
    connection;
  - no Deferred the checker knows of holds an unhandled failure, and after
    garbage collection no "Unhandled error in Deferred" was logged, neither
    after the step nor once the whole connection has been dropped.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.error import ConnectionLost
from twisted.logger import globalLogPublisher
from twisted.python.failure import Failure
from twisted.web._newclient import (
    ConnectionAborted,
    ParseError,
    RequestGenerationFailed,
    RequestNotSent,
    RequestTransmissionFailed,
    ResponseFailed,
    ResponseNeverReceived,
)
from twisted.web.iweb import IResponse

from httpchart.protocol import TimedOut
from httpchart.statechart import TransitionRecord

from ..tables.transition_table import AC, CL, GF, ROWS, TARR, A, Q, T, W
from .rig import Caller, Rig, SpyParser, SpyProtocol, WriteBroke, starts_exchange
from .sequences import ALPHABET, COMPLETE, COMPLETE_CLOSE, Input, pending_write

TABLE_RECORDS = frozenset(TransitionRecord(r.state, r.event, r.target, r.effects) for r in ROWS)
DOCUMENTED_FAILURES = (
    RequestNotSent,
    RequestGenerationFailed,
    RequestTransmissionFailed,
    ResponseNeverReceived,
    ResponseFailed,
    CancelledError,
)

Fingerprint = tuple[object, ...]


class Violation(AssertionError):
    """
    A promise the connection broke, with the input sequence that broke it.
    """

    def __init__(self, steps: list[str], message: str) -> None:
        super().__init__(f"{message}\n  sequence: {' ; '.join(steps) or '(none)'}")
        self.steps = list(steps)


@dataclass
class Run:
    """
    One connection driven through a sequence of inputs, and what the checker
    remembers of its history.

    @ivar cancelled: The indices of the callers whose Deferred the sequence
        cancelled while it had not fired.
    @ivar aborted: Whether abort() was called.
    @ivar delivered: Whether the current exchange's response goes to its
        caller (a deliver_response effect ran since its start_request).
    @ivar exchange: The request of the current (or last) exchange.
    @ivar quiescent: How often the quiescent callback ran since that
        exchange started.
    """

    rig: Rig
    steps: list[str] = field(default_factory=list)
    cancelled: set[int] = field(default_factory=set)
    aborted: bool = False
    delivered: bool = False
    exchange: Any = None
    quiescent: int = 0

    def fail(self, message: str) -> Violation:
        return Violation(self.steps, message)


@dataclass(frozen=True)
class Before:
    """
    What the checker notes before a step, to judge it afterwards.
    """

    state: str
    fired: tuple[bool, ...]
    quiescent_calls: int


def fingerprint(run: Run) -> Fingerprint:
    """
    The configuration of C{run}'s connection: everything its future (what
    any further inputs make it do, and what the checks see) depends on.

    The future of the protocol depends on its state, the request it carries
    (whether it is persistent), whether it still holds a write to stop, its
    parser (below), whether the response has been handed to the caller, the
    request Deferred it carries, how many abort() Deferreds wait for the
    loss, and the transport's flags (closing, aborted, paused).  Between
    steps nothing is queued or pending (checked), and the protocol holds no
    other reference to anything that can still change: parsers, transport
    proxies and request Deferreds of earlier exchanges were dropped when
    they were detached, and a Deferred that fired cannot fire again.

    The fakes add: whether a write is still pending (finish or fail write are
    possible), and the latest request's Deferred (the one cancel cancels)
    and whether it was cancelled.  Earlier Deferreds have all fired (checked:
    an unfired one is always the current one) and nothing refers to them any
    more, so their outcomes, already checked, cannot change the future.

    The checks add: whether abort() was ever called (a ConnectionAborted
    reason needs it), and the quiescent calls in the current exchange.

    The timers add their deadlines, measured from the clock's now (the
    clock only moves when a timer fires, and the future depends on how
    far each deadline is, not on when it was set), whether the transport
    is paused for them, and the delayed calls pending; the exchange adds
    whether its request expects C{100 Continue} and whether its body was
    withheld.

    A parser is a deterministic function of its request (always a GET) and
    the reads it was fed.  While the head is incomplete those reads are its
    state (llhttp's position within the head).  Once the head is in, the
    reads that completed it fix the response (version, headers, framing);
    what llhttp still expects is then given by the chart state, the flags
    the parser keeps (response seen, halted, stray bytes, completion
    announced, disconnected) and, for a body of known length, how much of it
    arrived.  A body that runs until the close accepts any bytes: how many
    arrived is only in the response's buffer, which nothing reads.  The
    response's own chart state is included too.

    tests/test_sequence_checker.py checks the claim: configurations merged
    by the fingerprint take the same next steps.
    """
    rig = run.rig
    protocol = rig.protocol
    transport = rig.transport
    current = protocol._currentRequest
    latest = len(rig.callers) - 1
    carried = [i for i, c in enumerate(rig.callers) if c.deferred is protocol._finishedRequest]
    return (
        protocol.state,
        None
        if current is None
        else (current.persistent, current.write, current.bodyProducer is not None),
        _timers_print(rig),
        protocol._body_withheld,
        protocol._writing is not None,
        pending_write(rig),
        _parser_print(protocol._parser),
        run.delivered,
        tuple(_caller_print(run, i) for i in carried),
        None if latest < 0 else (latest in carried, _caller_print(run, latest)),
        len(protocol._abortDeferreds or ()),
        sum(not d.called for d in rig.aborts),
        transport.disconnecting,
        transport.disconnected,
        transport.producerState,
        run.aborted,
        run.quiescent,
    )


def _timers_print(rig: Rig) -> object:
    now = rig.clock.seconds()
    deadlines = rig.protocol._deadlines
    calls = tuple(call.getTime() - now for call in rig.clock.getDelayedCalls())

    def left(at: float | None) -> float | None:
        return None if at is None else at - now

    read_at = None if deadlines.read_for is None else deadlines.read_from + deadlines.read_for
    return (
        calls,
        left(deadlines.total_at),
        left(deadlines.response_at),
        left(deadlines.continue_at),
        left(read_at),
        deadlines.paused,
    )


def _parser_print(parser: SpyParser | None) -> object:
    if parser is None:
        return None
    response = parser.response
    arrived = None
    if parser._state == "BODY" and response is not None:
        arrived = sum(len(chunk) for chunk in response._bodyBuffer or ())
    return (
        parser._state,
        parser.head_reads,
        parser._any_bytes,
        parser._halted,
        parser._stray,
        parser._announced,
        parser._llhttp is None,
        parser.response_deferred.called,
        parser.continued is not None,
        None if response is None else response._state,
        arrived,
    )


def _caller_print(run: Run, index: int) -> object:
    caller = run.rig.callers[index]
    outcome = describe(caller.outcome) if caller.fired else None
    return (caller.fired, outcome, index in run.cancelled)


def describe(outcome: object) -> str:
    """
    An outcome as a short string: C{Response}, or the failure's type with the
    reasons it wraps, as in C{ResponseFailed[ConnectionLost]}.
    """
    if not isinstance(outcome, Failure):
        return "Response" if IResponse.providedBy(outcome) else type(outcome).__name__
    reasons = getattr(outcome.value, "reasons", None)
    if reasons is None:
        return outcome.type.__name__
    return f"{outcome.type.__name__}[{','.join(describe(r) for r in reasons)}]"


# Taking steps


def start(engine: str, protocol_class: type[Any] = SpyProtocol) -> Run:
    """
    A fresh connection of C{protocol_class} (a L{spied} class), on
    C{engine}, before any input.
    """
    return Run(Rig(engine, protocol_class=protocol_class))


def applying(entry: Input, raised: list[BaseException]) -> Callable[[Any], None]:
    """
    An action that applies C{entry} to a rig, keeps what it raised in
    C{raised}, and collects garbage so that a Deferred failed and dropped
    during the step reports its unhandled error within it.
    """

    def action(rig: Any) -> None:
        try:
            entry.apply(rig)
        except Exception as error:
            raised.append(error)
        gc.collect()

    return action


def advance(run: Run, entry: Input, *, check: bool = True) -> tuple[TransitionRecord, ...]:
    """
    Apply C{entry} to C{run}'s connection, keep the history the checks need,
    and (with C{check}) check every promise.  Returns the transitions taken.
    """
    rig = run.rig
    before = Before(
        rig.protocol.state,
        tuple(c.fired for c in rig.callers),
        len(rig.quiescent_states),
    )
    if entry.kind == "cancel" and not rig.callers[-1].fired:
        run.cancelled.add(len(rig.callers) - 1)
    raised: list[BaseException] = []
    records, calls = rig.act(applying(entry, raised))
    run.steps.append(entry.name)
    if raised:
        raise run.fail(f"{entry.name} raised out of the protocol: {raised[0]!r}")
    run.aborted = run.aborted or entry.kind == "abort"
    for record in records:
        if starts_exchange(record):
            run.exchange, run.delivered, run.quiescent = rig.callers[-1].request, False, 0
        if "deliver_response" in record.effects:
            run.delivered = True
    run.quiescent += len(rig.quiescent_states) - before.quiescent_calls
    if check:
        check_step(run, entry, before, records, calls)
    return tuple(records)


def check_step(
    run: Run,
    entry: Input,
    before: Before,
    records: list[TransitionRecord],
    calls: list[str],
) -> None:
    """
    Check every promise after C{entry} took C{run}'s connection from
    C{before} through C{records}, running C{calls}.  See the module
    docstring for the list.
    """
    _check_transitions(run, before, records, calls)
    _check_callers(run, entry, before)
    _check_aborts(run)
    _check_quiescence(run, before, records)
    _check_transport(run, records)
    _check_logs_and_deferreds(run, calls)


def _check_transitions(
    run: Run, before: Before, records: list[TransitionRecord], calls: list[str]
) -> None:
    protocol = run.rig.protocol
    if protocol._step_queue is not None or protocol._settlements is not None:
        raise run.fail("the step left events queued or settlements pending")
    state = before.state
    for record in records:
        if record.event == "effect_failed":
            raise run.fail(f"an effect raised and the connection took its error path: {record}")
        if record not in TABLE_RECORDS:
            raise run.fail(f"a transition the table does not list: {record}")
        if record.source != state:
            raise run.fail(f"{record} does not start where the connection was ({state})")
        state = record.target
    if protocol.state != state:
        raise run.fail(f"the connection is in {protocol.state}, its transitions led to {state}")
    expected = [effect for record in records for effect in record.effects]
    if calls != expected:
        raise run.fail(f"effects ran {calls}, the transitions name {expected}")


def _check_callers(run: Run, entry: Input, before: Before) -> None:
    rig = run.rig
    protocol = rig.protocol
    for index, caller in enumerate(rig.callers):
        if caller.firings > 1:
            raise run.fail(f"request #{index}'s Deferred fired {caller.firings} times")
        if not caller.fired:
            if caller.deferred is not protocol._finishedRequest:
                raise run.fail(f"request #{index}'s Deferred is unfired and nobody carries it")
            if protocol.state == CL:
                raise run.fail(f"request #{index}'s Deferred never fired (connection lost)")
        elif index >= len(before.fired) or not before.fired[index]:
            check_outcome(run, entry, index, caller)
    if entry.kind == "cancel" and len(rig.callers) - 1 in run.cancelled:
        latest = rig.callers[-1]
        if not latest.fired:
            raise run.fail("a cancelled request's Deferred did not fire at once")


def check_outcome(run: Run, entry: Input, index: int, caller: Caller) -> None:
    """
    A request's Deferred that fired during C{entry} fired with a response or
    with a documented failure, whose reasons are what that step can cause:
    WriteBroke from a failing write, the connection's loss (ConnectionLost,
    or ConnectionAborted after abort()) from connectionLost, a ParseError
    from bytes, CancelledError from cancelling that very request, which
    must then fail.  ResponseNeverReceived means no byte of the response
    arrived and ResponseFailed that some did.
    """
    outcome = caller.outcome
    cancelled = entry.kind == "cancel" and index in run.cancelled
    text = f"request #{index} fired with {describe(outcome)} on {entry.name}"
    if not isinstance(outcome, Failure):
        if cancelled or not IResponse.providedBy(outcome) or outcome.code != 200:
            raise run.fail(f"{text}: not a failure it should be")
        return
    if not outcome.check(*DOCUMENTED_FAILURES):
        raise run.fail(f"{text}: not a documented failure type")
    reasons = [r.type for r in getattr(outcome.value, "reasons", [])]
    if outcome.check(RequestNotSent):
        fits = entry.kind == "issue" and index == len(run.rig.callers) - 1 and not reasons
    elif outcome.check(RequestGenerationFailed):
        fits = reasons == [CancelledError] if cancelled else reasons == [WriteBroke]
        fits = fits and entry.kind in ("issue", "fail_write", "cancel")
    elif outcome.check(RequestTransmissionFailed):
        fits = entry.kind == "lose" and reasons == [ConnectionLost]
    elif outcome.check(ResponseNeverReceived, ResponseFailed):
        fits = len(reasons) == 1 and _reason_fits(run, entry, cancelled, reasons[0])
        parser = run.rig._parser_of(caller)
        received = parser is not None and parser._any_bytes
        fits = fits and received is not bool(outcome.check(ResponseNeverReceived))
    else:
        fits = cancelled
    if not fits or (cancelled and CancelledError not in (outcome.type, *reasons)):
        raise run.fail(f"{text}: the reasons do not fit the step")


def _reason_fits(run: Run, entry: Input, cancelled: bool, reason: type) -> bool:
    if issubclass(reason, ConnectionAborted):
        return entry.kind == "lose" and run.aborted
    if issubclass(reason, ConnectionLost):
        return entry.kind == "lose"
    if issubclass(reason, CancelledError):
        return cancelled
    if issubclass(reason, ParseError):
        return entry.kind == "data"
    if issubclass(reason, TimedOut):
        return entry.kind == "expire"
    return False


def _check_aborts(run: Run) -> None:
    lost = run.rig.protocol.state == CL
    for deferred in run.rig.aborts:
        if deferred.called is not lost:
            raise run.fail(
                "an abort() Deferred fired before the connection was lost"
                if deferred.called
                else "an abort() Deferred has not fired though the connection is lost"
            )


def _check_quiescence(run: Run, before: Before, records: list[TransitionRecord]) -> None:
    rig = run.rig
    states = rig.quiescent_states[before.quiescent_calls :]
    notified = sum("notify_quiescent" in r.effects for r in records)
    if len(states) != notified or any(state != Q for state in states):
        raise run.fail(f"quiescent callback ran in {states}; {notified} transitions call it")
    if states and not run.exchange.persistent:
        raise run.fail("quiescent callback ran for a non-persistent request")
    if run.quiescent > 1:
        raise run.fail("quiescent callback ran twice for one response")
    for record in records:
        if record.source != W or record.event != "response_done":
            continue
        parser = rig._parsers[-1]
        reused = "notify_quiescent" in record.effects
        withheld = rig.protocol._body_withheld
        if reused and withheld:
            raise run.fail("a response to a request whose body was never sent kept it")
        if reused and (not run.exchange.persistent or parser.head_reads[:1] == (COMPLETE_CLOSE,)):
            raise run.fail("a response that ends the connection kept it")
        if (
            not reused
            and run.exchange.persistent
            and not withheld
            and parser.head_reads == (COMPLETE,)
        ):
            raise run.fail("a keep-alive response to a persistent request did not keep it")
        if reused is rig.transport.disconnecting:
            raise run.fail("the transport's close does not match the response's reuse")


def _check_transport(run: Run, records: list[TransitionRecord]) -> None:
    rig = run.rig
    state = rig.protocol.state
    transport = rig.transport
    if state in (TARR, GF, A) and not transport.disconnecting:
        raise run.fail(f"the transport is still open in {state}")
    if state == GF and not transport.disconnected:
        raise run.fail("the transport was not aborted in GENERATION_FAILED")
    if state in (AC, T, W) and transport.disconnecting:
        raise run.fail(f"the transport is closing in {state}")
    calls = rig.clock.getDelayedCalls()
    if len(calls) > (1 if state in (AC, T, W) else 0):
        raise run.fail(f"{len(calls)} timers run in {state}")
    effects = Counter(effect for record in records for effect in record.effects)
    facts = Counter(rig.facts)
    for fact, effect in (
        ("transport:lose", "lose_transport"),
        ("transport:abort", "abort_transport"),
        ("transport:resume", "resume_transport"),
    ):
        if facts[fact] != effects[effect]:
            raise run.fail(f"{facts[fact]} {fact} for {effects[effect]} {effect} effects")


def _check_logs_and_deferreds(run: Run, calls: list[str]) -> None:
    rig = run.rig
    logged = Counter(fact for fact in rig.facts if fact.startswith("log:"))
    expected = Counter(
        {
            "log:late-write": calls.count("log_late_write_failure"),
            "log:bad-response": calls.count("log_bad_response"),
        }
    )
    if +logged != +expected:
        raise run.fail(f"logged {dict(logged)}, the effects log {dict(+expected)}")
    known: list[Deferred[Any]] = [p.response_deferred for p in rig._parsers]
    known += [c.deferred for c in rig.callers]
    if rig.writer is not None and rig.writer.writing is not None:
        known.append(rig.writer.writing)
    for deferred in known:
        info = deferred._debugInfo
        if info is not None and info.failResult is not None:
            raise run.fail(f"a Deferred holds an unhandled {describe(info.failResult)}")


# Exploring


@dataclass(frozen=True)
class Edge:
    """
    One input from a configuration: where it leads and what it did.
    """

    input: str
    target: Fingerprint
    records: tuple[TransitionRecord, ...]


@dataclass
class Exploration:
    """
    The configurations reached from a fresh connection within C{depth}
    inputs, and the inputs between them.

    @ivar graph: The edges out of every configuration that was expanded
        (reached with at least one input left).
    @ivar prefixes: For every configuration reached, the first input
        sequence that reached it.
    @ivar merges: How often an input led to a configuration already reached
        by another sequence.
    """

    engine: str
    depth: int
    root: Fingerprint
    graph: dict[Fingerprint, tuple[Edge, ...]]
    prefixes: dict[Fingerprint, tuple[Input, ...]]
    merges: int
    seconds: float

    @property
    def configurations(self) -> int:
        """
        The distinct configurations reached.
        """
        return len(self.prefixes)

    @property
    def steps(self) -> int:
        """
        The inputs applied and checked: one per edge of the graph.
        """
        return sum(len(edges) for edges in self.graph.values())

    def sequences(self, length: int | None = None) -> int:
        """
        The input sequences of exactly C{length} inputs (C{depth} by default)
        the exploration covers: the paths of that length from the start.
        """
        memo: dict[tuple[Fingerprint, int], int] = {}

        def count(node: Fingerprint, left: int) -> int:
            if left == 0:
                return 1
            key = (node, left)
            if key not in memo:
                memo[key] = sum(count(edge.target, left - 1) for edge in self.graph[node])
            return memo[key]

        return count(self.root, self.depth if length is None else length)

    def rows(self) -> set[TransitionRecord]:
        """
        The rows of the transition table some step took.
        """
        return {record for edges in self.graph.values() for e in edges for record in e.records}

    def summary(self) -> str:
        total = sum(self.sequences(n) for n in range(1, self.depth + 1))
        return (
            f"{self.engine} engine, depth {self.depth}: {self.configurations} configurations, "
            f"{self.steps} checked steps, {self.sequences()} sequences of {self.depth} inputs "
            f"({total} of 1 to {self.depth}), {len(self.rows())}/{len(TABLE_RECORDS)} table "
            f"rows, {self.seconds:.1f} s"
        )


def explore(
    engine: str,
    depth: int,
    *,
    verify_merges: bool = False,
    protocol_class: type[Any] = SpyProtocol,
    configuration: Callable[[Run], Fingerprint] = fingerprint,
) -> Exploration:
    """
    Check every input sequence of up to C{depth} inputs on a connection
    running C{engine}.

    @param protocol_class: The connection's class, a L{spied} one.
    @param configuration: How configurations are told apart; tests bring a
        careless one to show that C{verify_merges} notices.
    @param verify_merges: Whenever an input leads to a configuration first
        reached by another sequence, also take every next input from there
        and check that both sequences take the same transitions to the same
        configurations: evidence that the fingerprint is sound.  Much slower.
    @raise Violation: A promise was broken.
    """
    explorer = _Explorer(engine, protocol_class, configuration, verify_merges)
    began = time.perf_counter()
    with frozen_heap(), explorer.watching():
        root = explorer.discover(())
        explorer.visit(root, depth)
    return Exploration(
        engine,
        depth,
        root,
        explorer.graph,
        explorer.prefixes,
        explorer.merges,
        time.perf_counter() - began,
    )


@contextmanager
def frozen_heap() -> Iterator[None]:
    """
    Move everything alive now out of the garbage collector's way, so that the
    collections after every step only look at what was created since.  Code
    that drops a connection and collects it calls C{gc.freeze()} again, for
    the same reason (see L{_Explorer._drop}).
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class _Explorer:
    def __init__(
        self,
        engine: str,
        protocol_class: type[Any],
        configuration: Callable[[Run], Fingerprint],
        verify_merges: bool,
    ) -> None:
        self.engine = engine
        self.protocol_class = protocol_class
        self.configuration = configuration
        self.verify_merges = verify_merges
        self.graph: dict[Fingerprint, tuple[Edge, ...]] = {}
        self.prefixes: dict[Fingerprint, tuple[Input, ...]] = {}
        self.expanded: dict[Fingerprint, int] = {}
        self.merges = 0
        self.verified: dict[Fingerprint, tuple[Edge, ...]] = {}
        self.unhandled: list[dict[str, Any]] = []

    @contextmanager
    def watching(self) -> Iterator[None]:
        """
        Collect "Unhandled error in Deferred" reports for the duration.
        """
        globalLogPublisher.addObserver(self._logged)
        try:
            yield
        finally:
            globalLogPublisher.removeObserver(self._logged)

    def _logged(self, event: dict[str, Any]) -> None:
        if "Unhandled error in Deferred" in (event.get("log_format") or ""):
            self.unhandled.append(event)

    def discover(self, prefix: tuple[Input, ...]) -> Fingerprint:
        run = self._replay(prefix)
        node = self.configuration(run)
        self._drop(run)
        self.prefixes[node] = prefix
        return node

    def visit(self, node: Fingerprint, left: int) -> None:
        if left == 0 or self.expanded.get(node, 0) >= left:
            return
        self.expanded[node] = left
        if node not in self.graph:
            self.graph[node] = self._edges(self.prefixes[node], node)
        for edge in self.graph[node]:
            self.visit(edge.target, left - 1)

    def _edges(
        self, prefix: tuple[Input, ...], node: Fingerprint, *, register: bool = True
    ) -> tuple[Edge, ...]:
        """
        Take every possible input from the configuration C{prefix} reaches,
        checking each step; with C{register}, note the configurations they
        reach.
        """
        edges = []
        first: Run | None = self._replay(prefix, node)
        assert first is not None
        enabled = [entry for entry in ALPHABET if entry.enabled(first.rig)]
        for entry in enabled:
            run = first or self._replay(prefix, node)
            first = None
            records = advance(run, entry)
            target = self.configuration(run)
            self._drop(run)
            edges.append(Edge(entry.name, target, records))
            if not register:
                continue
            sequence = (*prefix, entry)
            known = self.prefixes.setdefault(target, sequence)
            if known is not sequence:
                self.merges += 1
                if self.verify_merges:
                    self._verify_merge(known, sequence, target)
        return tuple(edges)

    def _verify_merge(
        self, known: tuple[Input, ...], other: tuple[Input, ...], node: Fingerprint
    ) -> None:
        ours = self.graph.get(node) or self.verified.get(node)
        if ours is None:
            ours = self.verified[node] = self._edges(known, node, register=False)
        if self._edges(other, node, register=False) != ours:
            raise Violation(
                [entry.name for entry in other],
                "the fingerprint merged configurations whose next steps differ from those "
                f"of: {' ; '.join(entry.name for entry in known)}",
            )

    def _replay(self, prefix: tuple[Input, ...], node: Fingerprint | None = None) -> Run:
        run = start(self.engine, self.protocol_class)
        for entry in prefix:
            advance(run, entry, check=False)
        if node is not None and self.configuration(run) != node:
            raise run.fail("replaying the sequence did not reach the same configuration")
        return run

    def _drop(self, run: Run) -> None:
        """
        Let C{run}'s connection and everything it made be collected, and check
        that none of it held an unhandled error.
        """
        steps = run.steps
        run.rig.close()
        del run
        gc.collect()
        if self.unhandled:
            raise Violation(steps, f"unhandled error in a Deferred: {self.unhandled[0]}")
        # What survives (the log's buffer of past events, mostly) need not be
        # looked at again by the collections after every step.
        gc.freeze()
