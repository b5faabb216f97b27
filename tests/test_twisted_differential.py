"""
httpchart's connection against Twisted's own HTTP11ClientProtocol, on the
same random input sequences (Hypothesis stateful testing).

Each example drives both connections through the inputs of
tests/support/sequences.py and compares them after every step;
tests/support/twisted_differences.py says what is compared and lists, in one
place, every deliberate difference, which must match docs/differences.md.
Any other difference fails the test with the sequence that shows it.
httpchart's own promises (tests/support/checker.py) are checked at every step
as well, also after the comparison has ended.

The run is bounded and deterministic: a fixed number of examples and steps,
derandomized, with no example database.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test
from twisted.logger import globalLogPublisher

from .support.checker import frozen_heap
from .support.sequences import ALPHABET, Input, pending_write
from .support.twisted_differences import DIFFERENCES, NORMALISED, Difference, Twins, replay, titles

DOCS = Path(__file__).resolve().parent.parent / "docs" / "differences.md"

# Timers and requests expecting 100 Continue are httpchart's alone: Twisted's
# class has neither, so they are not compared.
SHARED = tuple(entry for entry in ALPHABET if entry.kind != "expire" and not entry.expect)
ALWAYS = tuple(
    entry for entry in SHARED if entry.kind not in ("finish_write", "fail_write", "cancel")
)
WRITE_ENDS = tuple(entry for entry in ALPHABET if entry.kind in ("finish_write", "fail_write"))
(CANCEL,) = (entry for entry in ALPHABET if entry.kind == "cancel")

BOUNDS = settings(
    max_examples=1000,
    stateful_step_count=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class SameInputs(RuleBasedStateMachine):
    """
    Both connections, given whatever Hypothesis picks.
    """

    seen: Counter[str]
    steps: Counter[str]

    def __init__(self) -> None:
        super().__init__()
        self.twins = Twins()

    def _step(self, entry: Input) -> None:
        compared = self.twins.step(entry) is not None
        self.steps["compared" if compared else "httpchart only"] += 1

    @rule(entry=st.sampled_from(ALWAYS))
    def happen(self, entry: Input) -> None:
        self._step(entry)

    @precondition(lambda self: pending_write(self.twins.ours.rig))
    @rule(entry=st.sampled_from(WRITE_ENDS))
    def end_the_write(self, entry: Input) -> None:
        self._step(entry)

    @precondition(lambda self: bool(self.twins.ours.rig.callers))
    @rule()
    def cancel(self) -> None:
        self._step(CANCEL)

    def teardown(self) -> None:
        for difference in self.twins.differences:
            self.seen[difference.title] += 1
        self.steps["sequences"] += 1
        _drop_checking_for_unhandled_errors(self.twins)


def _drop_checking_for_unhandled_errors(twins: Twins) -> None:
    """
    Drop httpchart's connection and collect it: nothing it made may hold an
    unhandled error.  Twisted's is dropped afterwards, whatever it logs.
    """
    unhandled: list[dict[str, Any]] = []

    def watch(event: dict[str, Any]) -> None:
        if "Unhandled error in Deferred" in (event.get("log_format") or ""):
            unhandled.append(event)

    globalLogPublisher.addObserver(watch)
    try:
        twins.ours.rig.close()
        del twins.ours
        gc.collect()
    finally:
        globalLogPublisher.removeObserver(watch)
    assert not unhandled, f"httpchart left an unhandled error after {twins.history}"
    twins.twisted.close()
    del twins.twisted
    gc.collect()
    gc.freeze()


def test_same_random_inputs_differ_only_as_listed(report: Callable[[str], None]) -> None:
    SameInputs.seen = Counter()
    SameInputs.steps = Counter()
    with frozen_heap():
        run_state_machine_as_test(SameInputs, settings=BOUNDS)
    steps = SameInputs.steps
    report(
        f"differential against Twisted: {steps['sequences']} sequences, "
        f"{steps['compared']} steps compared, {steps['httpchart only']} more checked on "
        f"httpchart after a divergence; differences seen: {dict(SameInputs.seen.most_common())}"
    )
    assert steps["compared"] > steps["sequences"]
    assert len(SameInputs.seen) >= len(DIFFERENCES) // 2


@pytest.mark.parametrize("difference", DIFFERENCES, ids=lambda d: d.title.strip("`.*"))
def test_listed_difference_shows_on_its_witness(difference: Difference) -> None:
    twins, steps = replay(difference.witness)
    try:
        assert steps[-1] is not None, "the last step was not compared"
        assert twins.differences[-1:] == [difference]
        if not difference.hidden:
            assert steps[-1].differing
        earlier = [d for d in twins.differences[:-1] if d.diverges]
        assert not earlier, f"the witness diverged earlier: {earlier}"
    finally:
        twins.close()


def test_every_listed_difference_is_in_the_documentation() -> None:
    documented = titles(DOCS.read_text())
    listed = {d.title for d in DIFFERENCES} | set(NORMALISED)
    assert listed <= documented, sorted(listed - documented)


def test_differences_are_listed_once() -> None:
    assert len({d.title for d in DIFFERENCES}) == len(DIFFERENCES)
