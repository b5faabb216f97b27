"""
The error path, explored exhaustively: from every configuration the
sequence checker reaches (tests/support/checker.py), every input, with each effect
that input's step runs broken in turn (it raises L{EffectBroke} instead of
acting; see L{tests.support.rig.spied}).  After the failing step:

  - nothing raised out of the protocol, and the step is over;
  - the transitions are rows of the table, chaining, and end in the error
    path's row (C{effect_failed}) in ABORTING or CONNECTION_LOST; the
    effects that ran are the rows' effects, except those after the broken
    one in its transition;
  - the transport was aborted (unless the connection was already lost);
  - every request Deferred and every abort() Deferred has fired, exactly
    once, with a response or a documented failure; an abort() Deferred that
    was waiting fails with C{ResponseFailed} holding the original exception;
  - the failure was logged once, with its traceback;
  - the quiescent callback ran only for a transition that completed it
    before the failure, and the connection is not idle (no pool hands it
    out again);
  - no Deferred was left with an unhandled error.

Then the connection is lost and used again (a request, abort()): nothing
raises and every Deferred fires once.  The configurations are those within
C{HTTPCHART_CHECK_DEPTH} - 5 inputs (5 by default), the failing input one
more.  The reference engine explores two inputs less deep and must behave
identically on every case it covers.  Connections broken on purpose show
the checks catch a lost Deferred and a missing error path.
"""

from __future__ import annotations

import gc
import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed

from httpchart.protocol import HTTP11ClientProtocol

from .support.checker import (
    DOCUMENTED_FAILURES,
    TABLE_RECORDS,
    Edge,
    Run,
    Violation,
    applying,
    describe,
    explore,
    frozen_heap,
    start,
)
from .support.rig import EffectBroke, SpyProtocol, spied
from .support.sequences import ALPHABET, BY_NAME, Input
from .tables.transition_table import CL, A, Q
from .test_protocol_table import _effects_run

DEPTH = max(int(os.environ.get("HTTPCHART_CHECK_DEPTH", "10")) - 4, 3)
REFERENCE_DEPTH = max(DEPTH - 2, 2)

Case = tuple[tuple[Input, ...], Input, str]


@dataclass(frozen=True)
class Outcome:
    """
    What one case did, to compare engines.
    """

    records: tuple[object, ...]
    calls: tuple[str, ...]
    callers: tuple[str, ...]
    aborts: tuple[str, ...]
    state: str


def cases(depth: int) -> Iterator[Case]:
    """
    Every (prefix, input, effect) with the prefix reaching a configuration
    within C{depth - 1} inputs, the input enabled there and the effect run
    by that input's step.
    """
    exploration = explore("compiled", depth - 1)
    for node, prefix in exploration.prefixes.items():
        edges = exploration.graph.get(node)
        if edges is None:
            probe = _replay("compiled", prefix)
            enabled = [entry.name for entry in ALPHABET if entry.enabled(probe.rig)]
            _consume(probe)
            probe.rig.close()
            edges = tuple(
                Edge(name, node, tuple(_records_of(prefix, BY_NAME[name]))) for name in enabled
            )
        for edge in edges:
            effects = dict.fromkeys(e for record in edge.records for e in record.effects)
            for effect in effects:
                yield prefix, BY_NAME[edge.input], effect


def _records_of(prefix: tuple[Input, ...], entry: Input) -> list[Any]:
    run = _replay("compiled", prefix)
    before = len(run.rig.records)
    applying(entry, [])(run.rig)
    records = run.rig.records[before:]
    _consume(run)
    run.rig.close()
    gc.freeze()
    return records


def check(engine: str, case: Case, protocol_class: type[Any] = SpyProtocol) -> Outcome:
    """
    Run C{case} on C{engine} and check the error path's promises.
    """
    prefix, entry, effect = case
    run = _replay(engine, prefix, protocol_class)
    rig, protocol = run.rig, run.rig.protocol
    try:
        fired = [caller.fired for caller in rig.callers]
        waiting = [d for d in rig.aborts if not d.called]
        quiescent = len(rig.quiescent_states)
        records, calls = len(rig.records), len(protocol.effect_calls)
        raised: list[BaseException] = []
        protocol.broken_effect = effect
        rig.facts.clear()
        _with_outcomes(rig, applying(entry, raised))
        run.steps.append(f"{entry.name} (breaking {effect})")
        taken, ran = rig.records[records:], protocol.effect_calls[calls:]
        if raised:
            raise run.fail(f"raised out of the protocol: {raised[0]!r}")
        if protocol.effect_broke != effect:
            raise run.fail(f"{effect} did not run")
        if protocol._step_queue is not None or protocol._settlements is not None:
            raise run.fail("the step left events queued or settlements pending")
        _check_records(run, taken, ran, effect)
        if protocol.state == A and not rig.transport.disconnected:
            raise run.fail("the transport was not aborted")
        _check_deferreds(run, fired, waiting)
        if rig.facts.count("log:effect-failure") != 1:
            raise run.fail(f"the failure was logged {rig.facts.count('log:effect-failure')} times")
        handed = len(rig.quiescent_states) - quiescent
        completed = [i for i, name in enumerate(ran) if name == "notify_quiescent"]
        if handed > len(completed) - (effect == "notify_quiescent") or protocol.state == Q:
            raise run.fail("the connection was handed back after the failure")
        outcome = Outcome(
            tuple(taken),
            tuple(ran),
            tuple(describe(c.outcome) for c in rig.callers),
            tuple(describe(_outcome_of(d)) for d in rig.aborts),
            protocol.state,
        )
        _afterwards(run)
        return outcome
    finally:
        _consume(run)
        rig.close()
        # What survives need not be looked at by the next collections.
        gc.freeze()
        if "log:unhandled" in rig.facts:
            raise run.fail("a Deferred was left with an unhandled error")


def _check_records(run: Run, taken: list[Any], ran: list[str], effect: str) -> None:
    failed = [record for record in taken if record.event == "effect_failed"]
    if len(failed) != 1 or failed[0].target not in (A, CL):
        raise run.fail(f"the error path was not taken once: {taken}")
    for record in taken:
        if record not in TABLE_RECORDS:
            raise run.fail(f"a transition the table does not list: {record}")
    for before, after in itertools.pairwise(taken):
        if after.source != before.target:
            raise run.fail(f"{after} does not start where {before} ended")
    if taken[-1].target != run.rig.protocol.state:
        raise run.fail("the transitions do not end in the connection's state")
    if ran != _effects_run(taken, effect):
        raise run.fail(f"effects ran {ran}, expected {_effects_run(taken, effect)}")


def _check_deferreds(run: Run, fired: list[bool], waiting: list[Deferred[None]]) -> None:
    rig = run.rig
    for index, caller in enumerate(rig.callers):
        if caller.firings != 1:
            raise run.fail(f"request #{index}'s Deferred fired {caller.firings} times")
        if index >= len(fired) or not fired[index]:
            _documented(run, caller.outcome, f"request #{index}")
    for deferred in rig.aborts:
        outcome = _outcome_of(deferred)
        if not deferred.called:
            raise run.fail("an abort() Deferred has not fired")
        if deferred in waiting:
            if not (isinstance(outcome, Failure) and outcome.check(ResponseFailed)):
                raise run.fail(f"a waiting abort() Deferred fired with {describe(outcome)}")
            if EffectBroke not in [r.type for r in outcome.value.reasons]:
                raise run.fail("a waiting abort() Deferred does not hold the exception")


def _documented(run: Run, outcome: object, what: str) -> None:
    if isinstance(outcome, Failure) and not outcome.check(*DOCUMENTED_FAILURES):
        raise run.fail(f"{what} failed with {describe(outcome)}, not a documented failure")


def _afterwards(run: Run) -> None:
    rig = run.rig
    raised: list[BaseException] = []
    for name in ("connection lost", "request(persistent, write pending)", "abort"):
        _with_outcomes(rig, applying(BY_NAME[name], raised))
        run.steps.append(name)
    if raised:
        raise run.fail(f"raised out of the protocol afterwards: {raised[0]!r}")
    if rig.protocol.state != CL:
        raise run.fail(f"in {rig.protocol.state} after the loss")
    if any(caller.firings != 1 for caller in rig.callers):
        raise run.fail("a request's Deferred did not fire exactly once afterwards")
    if not all(deferred.called for deferred in rig.aborts):
        raise run.fail("an abort() Deferred did not fire afterwards")
    if rig.facts.count("log:effect-failure") != 1:
        raise run.fail("the error path ran again afterwards")


_OUTCOMES: dict[Deferred[Any], object] = {}
"""What each abort() Deferred of the current case fired with."""


def _with_outcomes(rig: Any, action: Callable[[Any], None]) -> None:
    known = len(rig.aborts)
    action(rig)
    for deferred in rig.aborts[known:]:
        _keep_outcome(deferred)


def _keep_outcome(deferred: Deferred[Any]) -> None:
    def keep(outcome: object) -> None:
        _OUTCOMES[deferred] = outcome

    deferred.addBoth(keep)


def _outcome_of(deferred: Deferred[Any]) -> object:
    return _OUTCOMES.get(deferred)


def _consume(run: Run) -> None:
    for deferred in run.rig.aborts:
        deferred.addErrback(lambda failure: None)
    gc.collect()


def _replay(engine: str, prefix: tuple[Input, ...], protocol_class: type[Any] = SpyProtocol) -> Run:
    run = start(engine, protocol_class)
    for entry in prefix:
        _with_outcomes(run.rig, applying(entry, []))
        run.steps.append(entry.name)
    return run


def test_every_failing_effect_takes_the_error_path(report: Callable[[str], None]) -> None:
    with frozen_heap():
        found = list(cases(DEPTH))
        for case in found:
            _OUTCOMES.clear()
            check("compiled", case)
    effects = {effect for _, _, effect in found}
    report(
        f"error path, compiled engine: {len(found)} failing steps (every input from every "
        f"configuration within {DEPTH - 1} inputs, each effect of the step broken in turn), "
        f"{len(effects)} effects"
    )
    # Every effect that the sequence checker's steps run at this depth broke.
    reached = {e for record in explore("compiled", DEPTH).rows() for e in record.effects}
    assert effects == reached, sorted(reached - effects)


def test_the_reference_engine_takes_the_same_error_path(report: Callable[[str], None]) -> None:
    with frozen_heap():
        found = list(cases(REFERENCE_DEPTH))
        for case in found:
            _OUTCOMES.clear()
            compiled = check("compiled", case)
            _OUTCOMES.clear()
            assert check("reference", case) == compiled, case
    report(f"error path, reference engine: {len(found)} failing steps agree with the compiled")


class _ForgetsTheRequest(HTTP11ClientProtocol):
    def _fail_outstanding(self, reason: Failure, carried: tuple[Deferred[Any], ...]) -> None:
        self._detach_parser(reason)


class _RaisesOutOfTheErrorPath(HTTP11ClientProtocol):
    def _effect_failed(self, error: Exception, *details: Any) -> None:
        raise error


def test_an_error_path_that_loses_a_deferred_is_caught() -> None:
    case = (
        (BY_NAME["request(persistent, write pending)"],),
        BY_NAME["finish write"],
        "deliver_response",
    )
    with pytest.raises(Violation, match="request #0's Deferred fired 0 times"):
        check("compiled", case, spied(_ForgetsTheRequest))


def test_a_connection_without_an_error_path_is_caught() -> None:
    case = (
        (BY_NAME["request(persistent, write pending)"],),
        BY_NAME["finish write"],
        "deliver_response",
    )
    with pytest.raises(Violation, match="the error path was not taken once"):
        check("compiled", case, spied(_RaisesOutOfTheErrorPath))
