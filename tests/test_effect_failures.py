"""
The connection's error path: when one of its effects raises, the engine
hands the exception to the connection, which takes the chart's
C{effect_failed} event: the transport is aborted, every outstanding Deferred
fails with a Twisted wrapper holding the original exception, the failure is
logged once with its traceback, and the connection is never idle again.
Also: the Deferreds a step settles fire first in, first out, even when a
callback of one of them starts a new step.  Every test runs on both engines.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.testing import StringTransport
from twisted.logger import globalLogPublisher
from twisted.python.failure import Failure
from twisted.web._newclient import (
    RequestGenerationFailed,
    RequestNotSent,
    ResponseFailed,
    ResponseNeverReceived,
)

from httpchart.protocol import HTTP11ClientProtocol
from httpchart.statechart import Charted, ChartSpec, ReferenceEngine
from httpchart.statechart.declare import Chart, Input, event, goes, state

from .support.rig import EffectBroke, Rig
from .test_protocol_table import COMPLETE_EMPTY, HEAD_LENGTH_10

ENGINES = ["compiled", "reference"]


def _reasons(outcome: object) -> list[type[BaseException]]:
    assert isinstance(outcome, Failure)
    return [reason.type for reason in outcome.value.reasons]


def _effect_logs(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if (e.get("log_format") or "").startswith("an effect raised")]


@pytest.fixture
def logged() -> Any:
    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    yield events
    globalLogPublisher.removeObserver(events.append)


@pytest.mark.parametrize("engine", ENGINES)
def test_an_effect_that_raises_aborts_and_fails_the_request_with_it(
    engine: str, logged: list[dict[str, Any]]
) -> None:
    rig = Rig(engine)
    try:
        caller = rig.request()
        rig.protocol.broken_effect = "deliver_response"
        rig.finish_write()
        assert rig.protocol.state == "ABORTING"
        assert rig.transport.disconnected
        assert caller.firings == 1
        assert isinstance(caller.outcome, Failure)
        assert caller.outcome.check(ResponseFailed)
        assert _reasons(caller.outcome) == [EffectBroke]
        (log,) = _effect_logs(logged)
        failure = log["log_failure"]
        assert failure.check(EffectBroke)
        assert "EffectBroke" in failure.getTraceback()
        assert (
            "raised by the effect 'deliver_response' of TRANSMITTING --write_done--> WAITING"
            in " ".join(failure.value.__notes__)
        )
    finally:
        rig.close()
    assert "log:unhandled" not in rig.facts


@pytest.mark.parametrize("engine", ENGINES)
def test_a_request_whose_start_raised_fails_as_not_generated(engine: str) -> None:
    rig = Rig(engine)
    try:
        rig.protocol.broken_effect = "start_request"
        caller = rig.request()
        assert caller.fired
        assert caller.outcome.check(RequestGenerationFailed)  # type: ignore[union-attr]
        assert _reasons(caller.outcome) == [EffectBroke]
        assert rig.transport.disconnected
        assert rig.protocol.state == "ABORTING"
        later = rig.request()
        assert later.outcome.check(RequestNotSent)  # type: ignore[union-attr]
    finally:
        rig.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_body_being_read_and_the_abort_waiter_fail_with_the_original(engine: str) -> None:
    rig = Rig(engine)
    ended: list[Failure] = []

    class Body:
        def makeConnection(self, transport: object) -> None:
            pass

        def dataReceived(self, data: bytes) -> None:
            pass

        def connectionLost(self, reason: Failure) -> None:
            ended.append(reason)

    try:
        caller = rig.request()
        rig.finish_write()
        rig.feed(HEAD_LENGTH_10 + b"12345")
        caller.outcome.deliverBody(Body())  # type: ignore[attr-defined]
        rig.protocol.broken_effect = "abort_transport"
        waiter = rig.abort()
        outcomes: list[object] = []
        waiter.addBoth(outcomes.append)
        assert rig.protocol.state == "ABORTING"
        assert rig.transport.disconnected
        (reason,) = ended
        assert reason.check(ResponseFailed)
        assert EffectBroke in _reasons(reason)
        (outcome,) = outcomes
        assert isinstance(outcome, Failure)
        assert outcome.check(ResponseFailed)
        assert _reasons(outcome) == [EffectBroke]
    finally:
        rig.close()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("effect", ["resume_transport", "notify_quiescent", "release_parser"])
def test_a_connection_whose_effect_raised_is_never_handed_out_again(
    engine: str, effect: str
) -> None:
    rig = Rig(engine)
    try:
        caller = rig.request()
        rig.finish_write()
        rig.protocol.broken_effect = effect
        rig.feed(COMPLETE_EMPTY)
        assert caller.fired
        handed_back = ["resume_transport", "notify_quiescent", "release_parser"].index(effect) > 1
        assert rig.quiescent_states == (["QUIESCENT"] if handed_back else [])
        # Twisted's pool hands out only a cached connection that is QUIESCENT.
        assert rig.protocol.state == "ABORTING"
        assert rig.transport.disconnected
        assert rig.request().outcome.check(RequestNotSent)  # type: ignore[union-attr]
    finally:
        rig.close()


class _BreaksItsErrorPath(HTTP11ClientProtocol):
    def _lose_transport(self) -> None:
        raise EffectBroke("lose_transport")

    def _abort_transport(self) -> None:
        raise EffectBroke("abort_transport")


@pytest.mark.parametrize("engine", ENGINES)
def test_an_error_path_that_raises_is_logged_and_not_taken_again(
    engine: str, logged: list[dict[str, Any]]
) -> None:
    protocol = _BreaksItsErrorPath(engine=engine)  # type: ignore[arg-type]
    protocol.makeConnection(StringTransport())
    protocol.dataReceived(b"unsolicited")
    assert protocol.state == "ABORTING"
    failures = [e for e in logged if "log_failure" in e]
    assert [e["log_failure"].value.args for e in failures] == [
        ("lose_transport",),
        ("abort_transport",),
    ]
    assert len(_effect_logs(logged)) == 1


class Counter(Chart):
    """
    A chart whose model has no error path of its own.
    """

    inputs: ClassVar[dict[str, Input]] = {
        "tick": Input((), "tick"),
        "tock": Input((), "tock"),
    }
    outputs: ClassVar[dict[str, str]] = {"first": "first", "second": "second", "count": "count"}
    start = state("START", "start", initial=True)
    end = state("END", "end")
    tick = event(goes(start, end, effects=("first", "second"), doc="tick"))
    tock = event(goes(end, start, effects=("count",), doc="tock"))


class CounterModel(Charted):
    chart = Counter
    _state = "START"

    def __init__(self) -> None:
        self.ran: list[str] = []

    def _first(self) -> None:
        self._fire.tock(self)
        raise EffectBroke("first")

    def _second(self) -> None:
        self.ran.append("second")

    def _count(self) -> None:
        self.ran.append("count")


@pytest.mark.parametrize("engine", ENGINES)
def test_without_an_error_path_the_exception_ends_the_step(engine: str) -> None:
    model = CounterModel()
    if engine == "reference":
        model._fire = ReferenceEngine(ChartSpec.of(Counter), model).fire
    with pytest.raises(EffectBroke) as raised:
        model._fire.tick(model)
    assert "raised by the effect 'first' of START --tick--> END" in raised.value.__notes__[0]
    assert model.ran == []
    assert (model._state, model._step_queue) == ("END", None)


@pytest.mark.parametrize("engine", ENGINES)
def test_deferreds_settled_in_a_step_fire_in_order_even_when_a_callback_starts_a_step(
    engine: str,
) -> None:
    rig = Rig(engine)
    order: list[str] = []
    try:
        rig.request()
        rig.finish_write()
        first, second = rig.abort(), rig.abort()
        later: list[Deferred[Any]] = []

        def first_fired(result: object) -> None:
            order.append("first abort")
            refused = rig.request()
            later.append(refused.deferred)
            refused.deferred.addBoth(lambda result: order.append("refused request"))

        first.addCallback(first_fired)
        second.addCallback(lambda result: order.append("second abort"))
        rig.lose()
        assert order == ["first abort", "second abort", "refused request"]
        assert rig.callers[-1].outcome.check(RequestNotSent)  # type: ignore[union-attr]
    finally:
        rig.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_lost_response_fails_with_the_original_after_the_loss(engine: str) -> None:
    rig = Rig(engine)
    try:
        caller = rig.request()
        rig.finish_write()
        rig.protocol.broken_effect = "disconnect_parser"
        rig.lose()
        assert rig.protocol.state == "CONNECTION_LOST"
        assert caller.outcome.check(ResponseNeverReceived)  # type: ignore[union-attr]
        assert _reasons(caller.outcome) == [EffectBroke]
    finally:
        rig.close()
