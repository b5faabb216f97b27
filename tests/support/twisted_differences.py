"""
httpchart's connection and Twisted's, side by side on the same inputs, and
the one list of the ways they are allowed to differ.

L{Twins} drives an httpchart connection (through the exhaustive checker's
L{advance}, so that every promise of tests/support/checker.py is checked on the way)
and Twisted's own C{HTTP11ClientProtocol}, each with the fakes of
tests/support/rig.py, through the same inputs of tests/support/sequences.py.  After every
input it compares what each did (L{Observation}): the state, what raised,
every request Deferred's outcome, the abort() Deferreds, what was done to
the transport and whether it is left paused, stopWriting, the quiescent
callback, and the errors logged.

Where they differ, the step must show one of L{DIFFERENCES}: each is a
deliberate improvement, with its reason, and its title is the title of its
paragraph in docs/differences.md.  A difference that leaves both connections
in equivalent states lets the comparison go on; one that takes them to
different states (by design) ends it for that sequence, and from there on
only httpchart's own promises are checked.  L{NORMALISED} lists what is
normalised before comparing, and why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

from twisted.python.failure import Failure
from twisted.web._newclient import ParseError
from twisted.web.iweb import IResponse

from ..tables.transition_table import CL, GF, TARR, A, Q, T, W
from .checker import Run, advance, applying, start
from .rig import Rig, TwistedRig
from .sequences import BY_NAME, Input

NORMALISED = {
    "Bytes after the connection is lost": "A transport never delivers bytes after "
    "connectionLost, so they are not given to Twisted's class (which would call "
    "loseConnection again or parse them with a parser it kept).  httpchart gets them "
    "and must ignore them.",
    "A pause of a closing transport": "Whether a closing transport is also paused "
    "changes nothing (Twisted's loseConnection stops reading, and resumeProducing does not "
    "restart it), so it is not compared.  Twisted pauses the transport at the end of a head "
    "even when that response, complete in the same read, ends the connection; httpchart "
    "would apply the pause at the end of the step, when the parser is gone.",
    "Parse errors compare as ParseError.": "httpchart's parser fails with "
    "MalformedResponse, a ParseError subclass that says what was wrong; the comparison "
    "names every ParseError subclass ParseError.",
}
"""
What the comparison normalises, and why; docs/differences.md lists these too.
"""


@dataclass(frozen=True)
class Observation:
    """
    What one connection did in one step, and where it left its Deferreds.

    @ivar state: Its state after the step.
    @ivar raised: The type of what raised out of the public call, if anything.
    @ivar callers: Every request Deferred's outcome (see L{outcome_name}), or
        C{None} while it has not fired.
    @ivar aborts: Whether each abort() Deferred has fired.
    @ivar closing: Whether the transport is closing (or closed) after it.
    @ivar paused: Whether the transport is paused, and open, after it.
        httpchart applies a pause asked for during a step at the step's end
        (and skips it if the transport was resumed or stopped being proxied
        meanwhile), so the calls differ, but where a step leaves an open
        transport must not.
    @ivar transport: What the step did to the transport, in order.
    @ivar stopped: How often the step called the request's stopWriting.
    @ivar quiescent: How often the step called the quiescent callback.
    @ivar unhandled: Whether an "Unhandled error in Deferred" was logged.
    @ivar late_writes: How many late write failures were logged.
    """

    state: str
    raised: str | None
    callers: tuple[str | None, ...]
    aborts: tuple[bool, ...]
    closing: bool
    paused: bool
    transport: tuple[str, ...]
    stopped: int
    quiescent: int
    unhandled: bool
    late_writes: int

    @classmethod
    def of(cls, rig: Rig, raised: BaseException | None) -> Observation:
        """
        What C{rig}'s connection did in the step just taken through
        L{Rig.act}.
        """
        facts = rig.facts
        return cls(
            state=rig.protocol.state,
            raised=None if raised is None else type(raised).__name__,
            callers=tuple(outcome_name(c.outcome) if c.fired else None for c in rig.callers),
            aborts=tuple(d.called for d in rig.aborts),
            closing=bool(rig.transport.disconnecting),
            paused=rig.transport.producerState == "paused" and not rig.transport.disconnecting,
            transport=tuple(fact for fact in facts if fact.startswith("transport:")),
            stopped=facts.count("request:stopWriting"),
            quiescent=facts.count("quiescent"),
            unhandled="log:unhandled" in facts,
            late_writes=facts.count("log:late-write"),
        )


def outcome_name(outcome: object) -> str:
    """
    An outcome as a short string: C{Response}, or the failure's type with
    the reasons it wraps, every ParseError subclass named ParseError.
    """
    if not isinstance(outcome, Failure):
        return "Response" if IResponse.providedBy(outcome) else type(outcome).__name__
    name = "ParseError" if outcome.check(ParseError) else outcome.type.__name__
    reasons = getattr(outcome.value, "reasons", None)
    if reasons is None:
        return name
    return f"{name}[{','.join(outcome_name(r) for r in reasons)}]"


@dataclass(frozen=True)
class Step:
    """
    One input given to both connections, which were in the same state.

    @ivar history: The inputs before it.
    @ivar carried: The index of the request Deferred in flight before it.
    @ivar closing: Whether the transport was closing before it.
    @ivar generation_failed: Whether a request's generation failed earlier
        (Twisted keeps that request's parser attached).
    @ivar twisted_parsing: Whether Twisted's connection had a response parser
        before it.
    """

    history: tuple[str, ...]
    entry: Input
    state: str
    carried: int | None
    closing: bool
    generation_failed: bool
    twisted_parsing: bool
    ours: Observation
    twisted: Observation

    @property
    def differing(self) -> frozenset[str]:
        """
        The names of the observations that differ.
        """
        return frozenset(
            f.name
            for f in fields(Observation)
            if getattr(self.ours, f.name) != getattr(self.twisted, f.name)
        )

    def carried_outcomes(self) -> tuple[str | None, str | None]:
        """
        What became of the request in flight, in httpchart and in Twisted.
        """
        if self.carried is None:
            return None, None
        return self.ours.callers[self.carried], self.twisted.callers[self.carried]


@dataclass(frozen=True)
class Difference:
    """
    A deliberate difference from Twisted.

    @ivar title: The bold title of its paragraph in docs/differences.md.
    @ivar why: Why httpchart does better.
    @ivar diverges: Whether it leaves the connections in different states,
        which ends the comparison.
    @ivar shows: Whether a step shows this difference (and nothing else).
    @ivar witness: An input sequence whose last step shows it.
    @ivar hidden: Whether the step may look the same on both and only
        diverge inside (what Twisted's parser has taken in, say): such a
        difference is looked for on every step, not only where the
        observations differ.
    """

    title: str
    why: str
    diverges: bool
    shows: Callable[[Step], bool]
    witness: tuple[str, ...]
    hidden: bool = False


def _abort_aborts(step: Step) -> bool:
    return (
        step.entry.kind == "abort"
        and step.differing == {"transport"}
        and step.ours.transport in ((), ("transport:abort",))
        and step.twisted.transport == ("transport:lose",)
    )


def _second_loss(step: Step) -> bool:
    return (
        step.entry.kind == "lose"
        and step.state == CL
        and step.differing == {"raised"}
        and step.twisted.raised == "RuntimeError"
    )


def _early_response(step: Step) -> bool:
    return (
        step.state == TARR
        and step.entry.kind in ("lose", "abort")
        and step.differing <= {"stopped", "transport"}
        and (step.ours.stopped, step.twisted.stopped) == (1, 0)
    )


def _abandoned_parser(step: Step) -> bool:
    return (
        step.generation_failed
        and step.state in (GF, A, CL)
        and step.differing <= {"unhandled", "transport"}
        and not step.ours.unhandled
        and step.ours.transport == ()
        and step.twisted.transport in ((), ("transport:lose",))
    )


def _bytes_while_closing(step: Step) -> bool:
    return (
        step.entry.kind == "data"
        and step.state in (TARR, GF, A)
        and step.closing
        and step.differing == {"transport"}
        and step.ours.transport == ()
        and step.twisted.transport == ("transport:lose",)
    )


def _bytes_after_abort(step: Step) -> bool:
    return (
        step.entry.kind == "data"
        and step.state == A
        and step.twisted_parsing
        and not step.generation_failed
        and step.ours.transport == ()
        and step.differing <= {"callers", "transport"}
    )


def _abort_while_writing(step: Step) -> bool:
    return (
        step.state == T
        and step.entry.kind == "abort"
        and (step.ours.stopped, step.twisted.stopped) == (1, 0)
        and step.ours.state == step.twisted.state == A
    )


def _broken_while_writing(step: Step) -> bool:
    ours, twisted = step.carried_outcomes()
    return (
        step.state == T
        and step.entry.kind == "data"
        and (step.ours.state, step.twisted.state) == (A, T)
        and ours == "ResponseFailed[ParseError]"
        and twisted is None
        and "transport:lose" in step.twisted.transport
        and step.twisted.unhandled
    )


def _strict_parsing(step: Step) -> bool:
    ours, twisted = step.carried_outcomes()
    return (
        step.state in (T, W)
        and step.entry.kind == "data"
        and step.ours.state == A
        and ours == "ResponseFailed[ParseError]"
        and (twisted is None or "ParseError" not in twisted)
    )


def _teardown_state(step: Step) -> bool:
    return (
        step.state == W
        and step.entry.kind in ("data", "cancel")
        and (step.ours.state, step.twisted.state) == (A, W)
        and step.differing == {"state"}
    )


def _idle_bytes(step: Step) -> bool:
    return (
        step.state == Q
        and step.entry.kind == "data"
        and (step.ours.state, step.twisted.state) == (A, Q)
        and step.differing <= {"state", "transport"}
    )


def _closing_refuses(step: Step) -> bool:
    return (
        step.state == Q
        and step.closing
        and step.entry.kind == "issue"
        and step.ours.callers[-1] == "RequestNotSent"
        and step.twisted.callers[-1] != "RequestNotSent"
    )


def _stray_bytes(step: Step) -> bool:
    return (
        step.state == W
        and step.entry.kind == "data"
        and step.ours.state == step.twisted.state == Q
        and (step.ours.quiescent, step.twisted.quiescent) == (0, 1)
        and step.ours.closing
        and not step.twisted.closing
        and step.differing <= {"closing", "quiescent", "transport"}
    )


DIFFERENCES: tuple[Difference, ...] = (
    Difference(
        "`abort()` aborts.",
        "abort() means the connection must go now: Twisted's loseConnection waits for "
        "unsent bytes to drain, which can hang on a peer that stopped reading (TLS "
        "included); httpchart aborts the transport once.",
        diverges=False,
        shows=_abort_aborts,
        witness=("abort",),
    ),
    Difference(
        "A second `connectionLost`.",
        "Twisted raises RuntimeError out of connectionLost; httpchart ignores the repeat.",
        diverges=False,
        shows=_second_loss,
        witness=("connection lost", "connection lost"),
    ),
    Difference(
        "Losing the connection after an early response.",
        "After the server answered early, the loss of the connection (or abort()) tells "
        "the request to stop writing; Twisted leaves its body producer running.",
        diverges=False,
        shows=_early_response,
        witness=("request(persistent, write pending)", "response", "connection lost"),
    ),
    Difference(
        "The response of a request that failed to be written.",
        "When producing a request fails, httpchart discards its parser; Twisted keeps it "
        "attached, parses later bytes into it and fails it at the loss, and since nobody "
        "waits for that response its failure is logged as an unhandled error.",
        diverges=False,
        shows=_abandoned_parser,
        witness=("request(persistent, write fails)", "abort", "connection lost"),
    ),
    Difference(
        "Bytes once the connection is closing.",
        "In the states without a parser the chart drops incoming bytes on purpose; "
        "Twisted hands them to a parser that is gone, catches the AttributeError and "
        "closes the already closing transport once more.",
        diverges=False,
        shows=_bytes_while_closing,
        witness=("request(one-shot, write pending)", "response(close)", "malformed"),
    ),
    Difference(
        "Bytes after `abort()`.",
        "Once abort() is called the exchange is over for the caller: httpchart drops what "
        "still arrives and the request fails with ConnectionAborted at the loss; Twisted "
        "keeps parsing and may deliver a response whose body the abort is about to cut.",
        diverges=True,
        shows=_bytes_after_abort,
        witness=("request(persistent, write done)", "abort", "head cut"),
        hidden=True,
    ),
    Difference(
        "`abort()` while the request is being written.",
        "Twisted never fires the request's Deferred and never stops the write; httpchart "
        "stops the write and hands the caller the response's outcome.",
        diverges=True,
        shows=_abort_while_writing,
        witness=("request(persistent, write pending)", "abort"),
    ),
    Difference(
        "A broken response while the request is being written.",
        "Twisted drops the parse error (an unhandled error), never fires the request's "
        "Deferred and later raises out of connectionLost; httpchart fails the request "
        "with the parse error at once.",
        diverges=True,
        shows=_broken_while_writing,
        witness=("request(persistent, write pending)", "malformed"),
    ),
    Difference(
        "Responses are parsed strictly.",
        "A header line without a colon is malformed: httpchart fails the response with "
        "a ParseError as soon as the line is complete; Twisted's parser keeps waiting "
        "or fails with a bare ValueError.",
        diverges=True,
        shows=_strict_parsing,
        witness=("request(persistent, write done)", "head cut", "head cut"),
    ),
    Difference(
        "States that say what is happening",
        "After a cancellation or a broken response while waiting, Twisted stays WAITING "
        "with no parser; httpchart says it is tearing the connection down: ABORTING.",
        diverges=True,
        shows=_teardown_state,
        witness=("request(persistent, write done)", "cancel"),
    ),
    Difference(
        "Bytes on an idle connection",
        "Both close the connection, but Twisted stays QUIESCENT, so a pool would hand "
        "the dying connection out; httpchart moves to ABORTING.",
        diverges=True,
        shows=_idle_bytes,
        witness=("malformed",),
    ),
    Difference(
        "A request on a closing transport",
        "Twisted writes the request into a transport that is going away; httpchart "
        "refuses it with RequestNotSent, which a pool retries elsewhere.",
        diverges=True,
        shows=_closing_refuses,
        witness=(
            "request(persistent, write done)",
            "response(close)",
            "request(persistent, write done)",
        ),
    ),
    Difference(
        "When a response ends the connection.",
        "Bytes after a complete response mean the server and the client disagree about "
        "where it ended: httpchart does not reuse the connection, Twisted does.",
        diverges=True,
        shows=_stray_bytes,
        witness=("request(persistent, write done)", "body cut", "body cut"),
    ),
)


class Unexplained(AssertionError):
    """
    The two connections differ in a way no listed difference explains.
    """


def classify(step: Step) -> Difference:
    """
    The listed difference C{step} shows.

    @raise Unexplained: None does.
    """
    for difference in DIFFERENCES:
        if difference.shows(step):
            return difference
    raise Unexplained(
        f"httpchart and Twisted differ in {sorted(step.differing)} on {step.entry.name!r} "
        f"in {step.state}\n  sequence: {' ; '.join((*step.history, step.entry.name))}\n"
        f"  httpchart: {step.ours}\n  Twisted:   {step.twisted}"
    )


def _hidden(step: Step) -> Difference | None:
    for difference in DIFFERENCES:
        if difference.hidden and difference.shows(step):
            return difference
    return None


class Twins:
    """
    An httpchart connection and a Twisted one, given the same inputs.

    @ivar differences: The listed differences seen so far, in order.
    @ivar diverged: The difference that ended the comparison, if any.
    """

    def __init__(self) -> None:
        self.ours: Run = start("compiled")
        self.twisted = TwistedRig()
        self.history: list[str] = []
        self.generation_failed = False
        self.differences: list[Difference] = []
        self.diverged: Difference | None = None

    def enabled(self, entry: Input) -> bool:
        """
        Whether C{entry} can happen now (to both, until they diverge).
        """
        ours = entry.enabled(self.ours.rig)
        if self.diverged is None:
            assert ours == entry.enabled(self.twisted), f"{entry.name} is possible in one only"
        return ours

    def step(self, entry: Input) -> Step | None:
        """
        Give C{entry} to both connections and compare them; the step, unless
        the comparison has ended or the input is not given to Twisted.

        @raise Violation: httpchart broke a promise.
        @raise Unexplained: They differ in a way no listed difference explains.
        """
        rig = self.ours.rig
        state = rig.protocol.state
        closing = bool(rig.transport.disconnecting)
        carried = [
            i for i, c in enumerate(rig.callers) if c.deferred is rig.protocol._finishedRequest
        ]
        history = tuple(self.history)
        advance(self.ours, entry)
        self.history.append(entry.name)
        if self.diverged is not None or (state == CL and entry.kind == "data"):
            return None
        step = Step(
            history,
            entry,
            state,
            carried[0] if carried else None,
            closing,
            self.generation_failed,
            self.twisted.protocol._parser is not None,
            Observation.of(rig, None),
            _twisted_step(self.twisted, entry),
        )
        self.generation_failed = self.generation_failed or rig.protocol.state == GF
        difference = classify(step) if step.differing else _hidden(step)
        if difference is not None:
            self.differences.append(difference)
            if difference.diverges:
                self.diverged = difference
        return step

    def close(self) -> None:
        """
        Drop both connections.
        """
        self.ours.rig.close()
        self.twisted.close()


def _twisted_step(rig: TwistedRig, entry: Input) -> Observation:
    raised: list[BaseException] = []
    rig.act(applying(entry, raised))
    return Observation.of(rig, raised[0] if raised else None)


def replay(names: tuple[str, ...]) -> tuple[Twins, list[Step | None]]:
    """
    Give the inputs named C{names} to a fresh pair of connections.
    """
    twins = Twins()
    steps = []
    for name in names:
        entry = BY_NAME[name]
        assert twins.enabled(entry), f"{name} cannot happen after {twins.history}"
        steps.append(twins.step(entry))
    return twins, steps


def titles(text: str) -> set[str]:
    """
    The section headings and bold paragraph titles of a Markdown text
    (docs/differences.md).
    """
    found = set()
    for line in text.splitlines():
        if line.startswith("## "):
            found.add(line[3:].strip())
        elif line.startswith("**") and "**" in line[2:]:
            found.add(line[2 : line.index("**", 2)])
    return found
