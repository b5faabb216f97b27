"""
The running protocol does what every cell of the transition table says.

For each row of tests/tables/transition_table.py a scenario brings a fresh connection
(with fake transport, requests and a spying parser, see tests/support/rig.py) into
the row's state through public calls, then triggers the row's event.  The
test then checks that:

  - the connection took the row's transition, and every other transition the
    action caused (events queued behind it) is a row of the table too, with
    the state chaining from one to the next;
  - the effects that ran are exactly the effects of those transitions, in
    order;
  - what the fakes saw (transport closed or aborted, parser disconnected and
    why, stopWriting, request Deferreds failed and with what, abort
    Deferreds, log events) is exactly what those effects do, nothing more;
  - every request Deferred fired with its parser's outcome if, and only if,
    the response was delivered; and no Deferred was left with an unhandled
    error.

Timers run on the rig's C{task.Clock} (L{RIG_TIMEOUTS}); a scenario lets
time pass until the connection's one delayed call fires.

The error path (effect_failed) is reached through public calls with one
effect of the connection broken on purpose (see L{tests.support.rig.spied}): the
transition whose effect raises skips its later effects, and what the fakes
see is written out by hand for each scenario.

A few cells cannot be reached through public calls (an event coming from a
parser that is no longer there, a cancellation routed to a request that is no
longer current); their scenarios inject the event into the engine and say why.
Impossible cells are injected too, and must raise LifecycleError and change
nothing.  Every scenario runs on both engines, and the two must agree on
everything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from twisted.python.failure import Failure
from twisted.web._newclient import ParseError

from httpchart.protocol import TimedOut, Timeouts
from httpchart.statechart import LifecycleError, TransitionRecord

from .support.rig import RIG_TIMEOUTS, Rig, WriteBroke, WriteMode
from .tables.transition_table import AC, CL, GF, IMPOSSIBLE, ROWS, TARR, A, Impossible, Q, Row, T, W

HEAD_LENGTH_10 = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
HEAD_CLOSE_DELIMITED = b"HTTP/1.1 200 OK\r\n\r\n"
COMPLETE_EMPTY = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
GARBAGE = b"this is not HTTP\r\n"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

Step = Callable[[Rig], object]


@dataclass(frozen=True)
class Scenario:
    """
    How to reach a cell: C{route} brings the connection into the cell's state
    with whatever the event needs; C{action} makes the event happen.
    C{start} is the state the route ends in when the cell is reached by an
    event queued behind the action's first transition.  C{reasons} names the
    reason types the action's events carry; C{injected}, when set, says why
    public calls cannot reach the cell.  C{breaks} names the effect that
    raises during the action, and C{facts} then lists what the fakes see.  C{timeouts}
    replaces the rig's.
    """

    route: tuple[Step, ...]
    action: Step
    start: str = ""
    reasons: dict[str, str] = field(default_factory=dict)
    injected: str = ""
    breaks: str = ""
    facts: frozenset[str] = frozenset()
    timeouts: Timeouts = RIG_TIMEOUTS


def _request(persistent: bool = True) -> Step:
    return lambda rig: rig.request(persistent)


def _expecting(write: WriteMode = "pending") -> Step:
    return lambda rig: rig.request(write=write, expect=True)


def _expire(rig: Rig) -> None:
    rig.expire()


def _feed(data: bytes) -> Step:
    return lambda rig: rig.feed(data)


def _finish(rig: Rig) -> None:
    rig.finish_write()


def _fail(rig: Rig) -> None:
    rig.fail_write()


def _lose(rig: Rig) -> None:
    rig.lose()


def _abort(rig: Rig) -> None:
    rig.abort()


def _cancel(rig: Rig) -> None:
    rig.cancel()


def _inject(event: str, **payload: object) -> Step:
    return lambda rig: rig.inject(event, **payload)


def _breaking(
    effect: str, action: Step, route: tuple[Step, ...], start: str, *facts: str
) -> Scenario:
    def broken(rig: Rig) -> None:
        rig.protocol.broken_effect = effect
        action(rig)

    return Scenario(route, broken, start=start, breaks=effect, facts=frozenset(facts))


def _quiescent_does(step: Step) -> Step:
    def arrange(rig: Rig) -> None:
        rig.on_quiescent = lambda: step(rig)

    return arrange


def _issue_and_withdraw(rig: Rig) -> None:
    rig.request().deferred.cancel()


TRANSMITTING = (_request(),)
TRANSMITTING_WITH_HEAD = (_request(), _feed(HEAD_LENGTH_10))
TRANSMITTING_CLOSE_DELIMITED = (_request(), _feed(HEAD_CLOSE_DELIMITED))
WAITING = (_request(), _finish)
WAITING_CLOSE_DELIMITED = (_request(), _finish, _feed(HEAD_CLOSE_DELIMITED))
AFTER_RESPONSE = (_request(), _feed(COMPLETE_EMPTY))
GENERATION_FAILED = (_request(), _fail)
ABORTING_WHILE_WAITING = (*WAITING, _abort)
ABORTING_WHILE_WRITING = (_request(), _abort)
LOST = (_lose,)
LOST_WHILE_WRITING = (_request(), _lose)
IDLE_CLOSING = (_request(persistent=False), _finish, _feed(COMPLETE_EMPTY))
AWAITING_CONTINUE = (_expecting(),)
WRITING_BODY = (_expecting(), _feed(CONTINUE))
# Only the read and total timers: the read timer expires first.
NO_CONTINUE_TIMER = Timeouts(expect_continue=None, response=2.0, read=3.0, total=4.0)

NO_PARSER = "the parser that would send it was detached by an earlier transition"
NOT_CURRENT = "cancellation is only routed for the request the connection is carrying"
TWISTED_ORDER = (
    "only Twisted's parser completes a response without a body before it "
    "reports the head; the rig runs httpchart's"
)


def _injected_parser_events(state: str, route: tuple[Step, ...]) -> dict[Key, Scenario]:
    return {
        (state, "head_received", ""): Scenario(route, _inject("head_received"), injected=NO_PARSER),
        (state, "continue_received", ""): Scenario(
            route, _inject("continue_received"), injected=NO_PARSER
        ),
    }


Key = tuple[str, str, str]

SCENARIOS: dict[Key, Scenario] = {
    (Q, "issue", "not withdrawn and not closing and not expects_continue"): Scenario(
        (), _request()
    ),
    (Q, "issue", "expects_continue and not withdrawn and not closing"): Scenario((), _expecting()),
    **_injected_parser_events(Q, ()),
    (AC, "issue", ""): Scenario(AWAITING_CONTINUE, _request()),
    (AC, "write_failed", ""): Scenario((), _expecting("fails"), start=Q),
    (AC, "data", ""): Scenario(AWAITING_CONTINUE, _feed(b"HTTP/1.1 1")),
    (AC, "head_received", ""): Scenario(AWAITING_CONTINUE, _feed(HEAD_LENGTH_10)),
    (AC, "continue_received", ""): Scenario(AWAITING_CONTINUE, _feed(CONTINUE)),
    (AC, "response_done", ""): Scenario(
        AWAITING_CONTINUE, _inject("response_done", rest=b""), injected=TWISTED_ORDER
    ),
    (AC, "bad_response", ""): Scenario(AWAITING_CONTINUE, _feed(GARBAGE)),
    (AC, "connection_lost", ""): Scenario(AWAITING_CONTINUE, _lose),
    (AC, "abort", ""): Scenario(AWAITING_CONTINUE, _abort),
    (AC, "cancel", ""): Scenario(AWAITING_CONTINUE, _cancel),
    (AC, "timeout", ""): Scenario(AWAITING_CONTINUE, _expire, timeouts=NO_CONTINUE_TIMER),
    (AC, "continue_timeout", ""): Scenario(AWAITING_CONTINUE, _expire),
    (Q, "issue", "closing and not withdrawn"): Scenario(IDLE_CLOSING, _request()),
    (Q, "issue", "withdrawn"): Scenario(
        (*WAITING, _feed(HEAD_LENGTH_10), _quiescent_does(_issue_and_withdraw)),
        _feed(b"0123456789"),
        start=W,
    ),
    (Q, "data", ""): Scenario((), _feed(GARBAGE)),
    (Q, "response_done", ""): Scenario((), _inject("response_done", rest=b""), injected=NO_PARSER),
    (Q, "bad_response", ""): Scenario(
        (),
        _inject("bad_response", reason=Failure(ParseError("injected", b""))),
        injected=NO_PARSER,
    ),
    (Q, "connection_lost", ""): Scenario((), _lose),
    (Q, "abort", ""): Scenario((), _abort),
    (Q, "cancel", ""): Scenario(
        (*WAITING, _quiescent_does(lambda rig: rig.callers[-1].deferred.cancel())),
        _feed(b"HTTP/1.1 204 No Content\r\n\r\n"),
        start=W,
    ),
    (T, "issue", ""): Scenario(TRANSMITTING, _request()),
    (T, "write_done", "not answered"): Scenario(TRANSMITTING, _finish),
    (T, "write_done", "answered"): Scenario(TRANSMITTING_WITH_HEAD, _finish),
    (T, "head_received", ""): Scenario(TRANSMITTING, _feed(HEAD_LENGTH_10)),
    (T, "continue_received", ""): Scenario(WRITING_BODY, _feed(CONTINUE)),
    (T, "timeout", ""): Scenario(TRANSMITTING, _expire),
    (T, "write_failed", ""): Scenario(TRANSMITTING, _fail),
    (T, "data", ""): Scenario(TRANSMITTING, _feed(b"HTTP/1.1 200")),
    (T, "response_done", ""): Scenario(TRANSMITTING, _feed(COMPLETE_EMPTY)),
    (T, "bad_response", ""): Scenario(TRANSMITTING, _feed(GARBAGE)),
    (T, "connection_lost", ""): Scenario(TRANSMITTING, _lose),
    (T, "abort", ""): Scenario(TRANSMITTING_WITH_HEAD, _abort),
    (T, "cancel", ""): Scenario(TRANSMITTING, _cancel, reasons={"write_failed": "CancelledError"}),
    (TARR, "issue", ""): Scenario(AFTER_RESPONSE, _request()),
    **_injected_parser_events(TARR, AFTER_RESPONSE),
    (TARR, "write_done", ""): Scenario(AFTER_RESPONSE, _finish),
    (TARR, "write_failed", ""): Scenario(AFTER_RESPONSE, _fail),
    (TARR, "data", ""): Scenario(AFTER_RESPONSE, _feed(GARBAGE)),
    (TARR, "response_done", ""): Scenario(
        AFTER_RESPONSE, _inject("response_done", rest=b""), injected=NO_PARSER
    ),
    (TARR, "bad_response", ""): Scenario(
        AFTER_RESPONSE,
        _inject("bad_response", reason=Failure(ParseError("injected", b""))),
        injected=NO_PARSER,
    ),
    (TARR, "connection_lost", ""): Scenario(AFTER_RESPONSE, _lose),
    (TARR, "abort", ""): Scenario(AFTER_RESPONSE, _abort),
    (TARR, "cancel", ""): Scenario(AFTER_RESPONSE, _inject("cancel"), injected=NOT_CURRENT),
    (GF, "issue", ""): Scenario(GENERATION_FAILED, _request()),
    **_injected_parser_events(GF, GENERATION_FAILED),
    (GF, "data", ""): Scenario(GENERATION_FAILED, _feed(GARBAGE)),
    (GF, "response_done", ""): Scenario(TRANSMITTING_CLOSE_DELIMITED, _fail, start=T),
    (GF, "bad_response", ""): Scenario(
        GENERATION_FAILED,
        _inject("bad_response", reason=Failure(ParseError("injected", b""))),
        injected=NO_PARSER,
    ),
    (GF, "connection_lost", ""): Scenario(GENERATION_FAILED, _lose),
    (GF, "abort", ""): Scenario(GENERATION_FAILED, _abort),
    (GF, "cancel", ""): Scenario(GENERATION_FAILED, _inject("cancel"), injected=NOT_CURRENT),
    (W, "issue", ""): Scenario(WAITING, _request()),
    (W, "head_received", ""): Scenario(WAITING, _feed(HEAD_LENGTH_10)),
    (W, "continue_received", ""): Scenario((*WRITING_BODY, _finish), _feed(CONTINUE)),
    (W, "timeout", ""): Scenario(WAITING, _expire),
    (W, "data", ""): Scenario(WAITING, _feed(b"HTTP/1.1 200")),
    (W, "response_done", "reusable"): Scenario(WAITING, _feed(COMPLETE_EMPTY)),
    (W, "response_done", "not reusable"): Scenario(
        (_request(persistent=False), _finish), _feed(COMPLETE_EMPTY)
    ),
    (W, "bad_response", ""): Scenario(WAITING, _feed(GARBAGE)),
    (W, "connection_lost", ""): Scenario(WAITING, _lose),
    (W, "abort", ""): Scenario(WAITING, _abort),
    (W, "cancel", ""): Scenario(WAITING, _cancel),
    (A, "issue", ""): Scenario(ABORTING_WHILE_WAITING, _request()),
    **_injected_parser_events(A, ABORTING_WHILE_WAITING),
    (A, "write_done", ""): Scenario(ABORTING_WHILE_WRITING, _finish),
    (A, "write_failed", ""): Scenario(ABORTING_WHILE_WRITING, _fail),
    (A, "data", ""): Scenario(ABORTING_WHILE_WAITING, _feed(HEAD_LENGTH_10)),
    (A, "response_done", ""): Scenario(
        (*WAITING_CLOSE_DELIMITED, lambda rig: rig.consume_body_with_a_consumer_that_raises()),
        _feed(b"body bytes"),
        start=W,
        reasons={"bad_response": "ConsumerBroke"},
    ),
    (A, "bad_response", ""): Scenario(
        ABORTING_WHILE_WAITING,
        _inject("bad_response", reason=Failure(ParseError("injected", b""))),
        injected=NO_PARSER,
    ),
    (A, "connection_lost", ""): Scenario(ABORTING_WHILE_WAITING, _lose),
    (A, "abort", ""): Scenario(ABORTING_WHILE_WAITING, _abort),
    (A, "cancel", ""): Scenario(ABORTING_WHILE_WAITING, _cancel),
    (CL, "issue", ""): Scenario(LOST, _request()),
    **_injected_parser_events(CL, LOST),
    (CL, "write_done", ""): Scenario(LOST_WHILE_WRITING, _finish),
    (CL, "write_failed", ""): Scenario(LOST_WHILE_WRITING, _fail),
    (CL, "data", ""): Scenario(LOST, _feed(GARBAGE)),
    (CL, "response_done", ""): Scenario(WAITING_CLOSE_DELIMITED, _lose, start=W),
    (CL, "bad_response", ""): Scenario(
        LOST,
        _inject("bad_response", reason=Failure(ParseError("injected", b""))),
        injected=NO_PARSER,
    ),
    (CL, "connection_lost", ""): Scenario(LOST, _lose),
    (CL, "abort", ""): Scenario(LOST, _abort),
    (CL, "cancel", ""): Scenario(LOST, _inject("cancel"), injected=NOT_CURRENT),
    (Q, "effect_failed", ""): _breaking(
        "release_parser",
        _feed(COMPLETE_EMPTY),
        WAITING,
        W,
        "parser:fed",
        "transport:resume",
        "quiescent",
        "log:effect-failure",
        "transport:abort",
        "parser:disconnected:EffectBroke",
    ),
    (AC, "effect_failed", ""): _breaking(
        "send_head",
        _expecting(),
        (),
        Q,
        "log:effect-failure",
        "transport:abort",
        "caller:RequestGenerationFailed[EffectBroke]",
    ),
    (T, "effect_failed", ""): _breaking(
        "start_request",
        _request(),
        (),
        Q,
        "log:effect-failure",
        "transport:abort",
        "caller:RequestGenerationFailed[EffectBroke]",
    ),
    (TARR, "effect_failed", ""): _breaking(
        "lose_transport",
        _feed(COMPLETE_EMPTY),
        TRANSMITTING,
        T,
        "parser:fed",
        "log:effect-failure",
        "request:stopWriting",
        "transport:abort",
        "parser:disconnected:EffectBroke",
    ),
    (GF, "effect_failed", ""): _breaking(
        "fail_generation",
        _fail,
        TRANSMITTING,
        T,
        "transport:abort",
        "log:effect-failure",
        "caller:RequestGenerationFailed[EffectBroke]",
        "parser:disconnected:EffectBroke",
    ),
    (W, "effect_failed", ""): _breaking(
        "deliver_response",
        _finish,
        TRANSMITTING,
        T,
        "log:effect-failure",
        "transport:abort",
        "parser:disconnected:EffectBroke",
    ),
    (A, "effect_failed", ""): _breaking(
        "cancel_parser",
        _cancel,
        WAITING,
        W,
        "transport:abort",
        "log:effect-failure",
        "parser:disconnected:EffectBroke",
    ),
    (CL, "effect_failed", ""): _breaking(
        "disconnect_parser",
        _lose,
        WAITING,
        W,
        "lost-callback",
        "log:effect-failure",
        "parser:disconnected:EffectBroke",
    ),
}

IMPOSSIBLE_ROUTES: dict[str, tuple[Step, ...]] = {
    Q: (),
    AC: AWAITING_CONTINUE,
    T: TRANSMITTING,
    TARR: AFTER_RESPONSE,
    GF: GENERATION_FAILED,
    W: WAITING,
    A: ABORTING_WHILE_WAITING,
    CL: LOST,
}
IMPOSSIBLE_PAYLOADS: dict[str, dict[str, object]] = {
    "write_done": {},
    "write_failed": {"reason": Failure(WriteBroke())},
    "timeout": {"reason": Failure(TimedOut("total", 4.0))},
    "continue_timeout": {},
}

DEFAULT_REASONS = {
    "write_failed": "WriteBroke",
    "connection_lost": "ConnectionLost",
    "bad_response": "MalformedResponse",
    "timeout": "TimedOut",
}

# What each effect visibly does, given the reason types of the events.
_EFFECT_FACTS: dict[str, Callable[[dict[str, str], str], set[str]]] = {
    "start_request": lambda r, e: {"request:writeTo", "parser:created"},
    "send_head": lambda r, e: {"request:head", "parser:created"},
    "send_body": lambda r, e: {"request:writeTo"},
    "withhold_body": lambda r, e: set(),
    "refuse_request": lambda r, e: {"caller:RequestNotSent[]"},
    "deliver_response": lambda r, e: set(),
    "fail_generation": lambda r, e: {f"caller:RequestGenerationFailed[{r[e]}]"},
    "fail_transmission": lambda r, e: {f"caller:RequestTransmissionFailed[{r[e]}]"},
    "stop_writing": lambda r, e: {"request:stopWriting"},
    "cancel_writing": lambda r, e: {"request:cancelled"},
    "log_late_write_failure": lambda r, e: {"log:late-write"},
    "lose_transport": lambda r, e: {"transport:lose"},
    "abort_transport": lambda r, e: {"transport:abort"},
    "resume_transport": lambda r, e: {"transport:resume"},
    "notify_quiescent": lambda r, e: {"quiescent"},
    "feed_parser": lambda r, e: {"parser:fed"},
    "log_bad_response": lambda r, e: {"log:bad-response"},
    "release_parser": lambda r, e: {"parser:disconnected:ConnectionDone"},
    "disconnect_parser": lambda r, e: {f"parser:disconnected:{r[e]}"},
    "abort_parser": lambda r, e: {"parser:disconnected:ConnectionAborted"},
    "cancel_parser": lambda r, e: {"parser:disconnected:CancelledError"},
    "discard_parser": lambda r, e: {"parser:disconnected:ConnectionDone"},
    "add_abort_waiter": lambda r, e: {"abort:pending"},
    "fire_abort_waiters": lambda r, e: {"abort:waiters-fired"},
    "confirm_abort": lambda r, e: {"abort:fired-now"},
    "notify_lost": lambda r, e: {"lost-callback"},
    **{
        effect: lambda r, e: set()
        for effect in (
            "start_total_timer",
            "start_response_timer",
            "start_continue_timer",
            "start_read_timer",
            "restart_read_timer",
            "stop_response_timer",
            "stop_continue_timer",
            "stop_read_timer",
            "stop_timers",
        )
    },
}


def _row_id(row: Row) -> str:
    return f"{row.state}-{row.event}" + (f"[{row.guard}]" if row.guard else "")


def _record(row: Row) -> TransitionRecord:
    return TransitionRecord(row.state, row.event, row.target, row.effects)


def _table_records() -> set[TransitionRecord]:
    return {_record(row) for row in ROWS}


def _expected_facts(records: list[TransitionRecord], reasons: dict[str, str]) -> set[str]:
    expected: set[str] = set()
    for record in records:
        for effect in record.effects:
            expected |= _EFFECT_FACTS[effect](reasons, record.event)
    return expected


def _effects_run(records: list[TransitionRecord], broken: str) -> list[str]:
    """
    The effects of C{records}, in order, except those after the first run of
    the C{broken} effect within its transition: they are skipped.
    """
    calls: list[str] = []
    for record in records:
        effects = list(record.effects)
        if broken in effects:
            effects, broken = effects[: effects.index(broken) + 1], ""
        calls += effects
    return calls


@dataclass
class Outcome:
    """
    Everything observable about one scenario, to compare engines.
    """

    records: list[TransitionRecord]
    calls: list[str]
    facts: list[str]
    state: str


def _run(row: Row, engine: str) -> Iterator[tuple[Rig, Outcome]]:
    scenario = SCENARIOS[(row.state, row.event, row.guard)]
    rig = Rig(engine, timeouts=scenario.timeouts)
    try:
        for step in scenario.route:
            step(rig)
        assert rig.protocol.state == (scenario.start or row.state), "the route went astray"
        records, calls = rig.act(scenario.action)
        yield rig, Outcome(records, calls, list(rig.facts), rig.protocol.state)
    finally:
        rig.close()


@pytest.mark.parametrize("engine", ["compiled", "reference"])
@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_running_protocol_follows_row(row: Row, engine: str) -> None:
    scenario = SCENARIOS[(row.state, row.event, row.guard)]
    reasons = {**DEFAULT_REASONS, **scenario.reasons}
    for rig, outcome in _run(row, engine):
        assert _record(row) in outcome.records, f"not taken; took {outcome.records}"
        assert set(outcome.records) <= _table_records(), "a transition the table lacks"
        assert outcome.records[0].source == (scenario.start or row.state)
        for before, after in zip(outcome.records, outcome.records[1:], strict=False):
            assert after.source == before.target
        assert outcome.state == outcome.records[-1].target
        assert outcome.calls == _effects_run(outcome.records, scenario.breaks)
        expected = scenario.facts or _expected_facts(outcome.records, reasons)
        assert set(outcome.facts) == expected
        assert "log:unhandled" not in outcome.facts
        rig.check_delivery()
        _check_timers(rig, outcome.state)


def _check_timers(rig: Rig, state: str) -> None:
    """
    No timer outlives the states it guards: outside them the connection has
    no delayed call; inside them, at most one.
    """
    calls = rig.clock.getDelayedCalls()
    if state in (AC, T, W):
        assert len(calls) <= 1
    else:
        assert calls == []


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_engines_agree_on_row(row: Row) -> None:
    (compiled,) = [outcome for _, outcome in _run(row, "compiled")]
    (reference,) = [outcome for _, outcome in _run(row, "reference")]
    assert compiled == reference


@pytest.mark.parametrize("engine", ["compiled", "reference"])
@pytest.mark.parametrize("cell", IMPOSSIBLE, ids=lambda c: f"{c.state}-{c.event}")
def test_impossible_cell_raises_and_changes_nothing(cell: Impossible, engine: str) -> None:
    rig = Rig(engine)
    try:
        for step in IMPOSSIBLE_ROUTES[cell.state]:
            step(rig)
        assert rig.protocol.state == cell.state

        def send(rig: Rig) -> None:
            with pytest.raises(LifecycleError) as raised:
                rig.inject(cell.event, **IMPOSSIBLE_PAYLOADS[cell.event])
            assert (raised.value.state, raised.value.event) == (cell.state, cell.event)

        records, calls = rig.act(send)
        assert (records, calls, rig.facts) == ([], [], [])
        assert rig.protocol.state == cell.state
    finally:
        rig.close()


def test_every_cell_has_a_scenario() -> None:
    rows = {(row.state, row.event, row.guard) for row in ROWS}
    assert rows == set(SCENARIOS)
    assert {cell.state for cell in IMPOSSIBLE} <= set(IMPOSSIBLE_ROUTES)


def test_injected_scenarios_are_the_few_unreachable_cells() -> None:
    injected = sorted(cell for cell, scenario in SCENARIOS.items() if scenario.injected)
    assert len(injected) == 21, injected


def test_cancelled_request_deferred_always_fires() -> None:
    for (state, event, _guard), scenario in SCENARIOS.items():
        if event != "cancel" or scenario.injected:
            continue
        rig = Rig()
        try:
            for step in scenario.route:
                step(rig)
            rig.act(scenario.action)
            assert all(caller.fired for caller in rig.callers), state
        finally:
            rig.close()
