"""
Every sequence of lifecycle inputs up to a depth keeps every promise the
connection makes (tests/support/checker.py says which), on both engines.

The depth is C{HTTPCHART_CHECK_DEPTH} (10 by default; C{make check-deep}
goes further).  The reference engine is slow, so it runs five inputs
shallower, and must build exactly the same graph of configurations,
transitions included, as the compiled engine does at that depth.  The
fingerprint's soundness is checked five inputs shallower.  Each run's
numbers are printed at the end of the test session.

The checker itself is checked too: connections broken on purpose, and a
fingerprint that merges too much, must be caught.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from twisted.internet.error import ConnectionDone
from twisted.python.failure import Failure
from twisted.web._newclient import RequestGenerationFailed

from httpchart.protocol import HTTP11ClientProtocol
from httpchart.statechart import TransitionRecord

from .support.checker import TABLE_RECORDS, Run, Violation, explore, fingerprint
from .support.rig import spied
from .tables.transition_table import AC, ROWS, A, Q
from .test_protocol_table import SCENARIOS

DEPTH = int(os.environ.get("HTTPCHART_CHECK_DEPTH", "10"))
REFERENCE_DEPTH = max(DEPTH - 6, 3)
SOUNDNESS_DEPTH = max(DEPTH - 5, 3)

# The rows no sequence of the checker's inputs reaches, and why.
BEYOND_THE_INPUTS = {
    (Q, "issue", "withdrawn"): "a request issued and cancelled from inside a callback",
    (Q, "cancel", ""): "a cancellation from inside the quiescent callback",
    (A, "response_done", ""): "a body consumer that raises",
    (AC, "timeout", ""): "the rig's expect_continue timer expires before its read and total timers",
    **{cell: scenario.injected for cell, scenario in SCENARIOS.items() if scenario.injected},
    **{
        (row.state, row.event, row.guard): "an effect that raises: "
        "tests/test_effect_failure_checker.py explores these"
        for row in ROWS
        if row.event == "effect_failed"
    },
}


def _reachable_rows() -> set[TransitionRecord]:
    return {
        TransitionRecord(row.state, row.event, row.target, row.effects)
        for row in ROWS
        if (row.state, row.event, row.guard) not in BEYOND_THE_INPUTS
    }


def test_the_check_goes_at_least_eight_inputs_deep() -> None:
    assert DEPTH >= 8


def test_every_sequence_keeps_every_promise(report: Callable[[str], None]) -> None:
    exploration = explore("compiled", DEPTH)
    report(exploration.summary())
    assert exploration.rows() == _reachable_rows()
    assert exploration.sequences() > 14**DEPTH // 10


def test_reference_engine_keeps_every_promise_and_agrees(report: Callable[[str], None]) -> None:
    reference = explore("reference", REFERENCE_DEPTH)
    report(reference.summary())
    compiled = explore("compiled", REFERENCE_DEPTH)
    assert reference.graph == compiled.graph
    assert reference.prefixes.keys() == compiled.prefixes.keys()
    assert reference.sequences() == compiled.sequences()


def test_merged_configurations_take_the_same_next_steps(report: Callable[[str], None]) -> None:
    exploration = explore("compiled", SOUNDNESS_DEPTH, verify_merges=True)
    report(f"fingerprint soundness: {exploration.merges} merges verified one step further")
    assert exploration.merges > exploration.configurations


def test_a_fingerprint_that_forgets_what_the_parser_read_is_caught() -> None:
    def careless(run: Run) -> tuple[object, ...]:
        complete = fingerprint(run)
        return (*complete[:6], run.rig.protocol._parser is not None, *complete[7:])

    with pytest.raises(Violation, match="merged configurations whose next steps differ"):
        explore("compiled", 3, verify_merges=True, configuration=careless)


def test_unreachable_rows_are_few_and_explained() -> None:
    assert len(BEYOND_THE_INPUTS) == 33
    assert len(_reachable_rows()) == len(TABLE_RECORDS) - 33


# Connections broken on purpose, and what the checker must say about them.


class _ForgetsAbortWaiters(HTTP11ClientProtocol):
    def _fire_abort_waiters(self) -> None:
        self._abortDeferreds = None


class _NotifiesTwice(HTTP11ClientProtocol):
    def _notify_quiescent(self) -> None:
        HTTP11ClientProtocol._notify_quiescent(self)
        HTTP11ClientProtocol._notify_quiescent(self)


class _LosesRefusals(HTTP11ClientProtocol):
    def _refuse_request(self, deferred: Any) -> None:
        pass


class _ClosesWhenResuming(HTTP11ClientProtocol):
    def _resume_transport(self) -> None:
        HTTP11ClientProtocol._resume_transport(self)
        self.transport.loseConnection()  # type: ignore[union-attr]


class _ResumesWhenStopping(HTTP11ClientProtocol):
    def _stop_writing(self) -> None:
        HTTP11ClientProtocol._stop_writing(self)
        self.transport.resumeProducing()  # type: ignore[union-attr]


class _LeavesDiscardedResponsesUnhandled(HTTP11ClientProtocol):
    def _discard_parser(self) -> None:
        self._detach_parser(Failure(ConnectionDone("request abandoned")))


class _MisreportsTransmission(HTTP11ClientProtocol):
    def _fail_transmission(self, reason: Any) -> None:
        self._settle(self._finishedRequest, Failure(RequestGenerationFailed([reason])))


class _StopsWritingOnData(HTTP11ClientProtocol):
    def _feed_parser(self, data: bytes) -> None:
        HTTP11ClientProtocol._feed_parser(self, data)
        self._stop_writing()


class _KeepsTimersRunning(HTTP11ClientProtocol):
    def _stop_timers(self) -> None:
        pass


class _RaisesOnLateAbort(HTTP11ClientProtocol):
    def _confirm_abort(self, deferred: Any) -> None:
        raise RuntimeError("broken on purpose")


@pytest.mark.parametrize(
    ("broken", "complaint"),
    [
        (_ForgetsAbortWaiters, "abort\\(\\) Deferred has not fired"),
        (_NotifiesTwice, "quiescent callback ran"),
        (_LosesRefusals, "unfired and nobody carries it"),
        (_ClosesWhenResuming, "transport's close does not match the response's reuse"),
        (_ResumesWhenStopping, "transport:resume for 0 resume_transport"),
        (_LeavesDiscardedResponsesUnhandled, "holds an unhandled ResponseNeverReceived"),
        (_MisreportsTransmission, "reasons do not fit"),
        (_StopsWritingOnData, "effects ran .*stop_writing"),
        (_RaisesOnLateAbort, "an effect raised and the connection took its error path"),
        (_KeepsTimersRunning, "timers run in"),
    ],
    ids=lambda value: value.__name__.strip("_") if isinstance(value, type) else "complaint",
)
def test_a_broken_connection_is_caught(broken: type[Any], complaint: str) -> None:
    with pytest.raises(Violation, match=complaint):
        explore("compiled", 4, protocol_class=spied(broken))
