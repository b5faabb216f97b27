"""
The compiled engine chooses a cell's branch with a decision tree over its
guards: for every combination of guard values it takes the branch
python-statemachine's engine takes, and it calls a guard only while the
choice still depends on it.
"""

from __future__ import annotations

from itertools import product
from typing import Any, ClassVar

import pytest

from httpchart.statechart import ChartSpec, ReferenceEngine
from httpchart.statechart.declare import Chart, Input, event, goes, state, stays
from httpchart.statechart.model import Charted

GUARDS = ("fresh", "idle", "room")


class Choosing(Chart):
    """
    A cell shaped like the pool's request: four branches over three guards,
    the later branches negating the earlier branches' guards.
    """

    inputs: ClassVar[dict[str, Input]] = {
        "ask": Input((), "A request arrives."),
        "reset": Input((), "Back to the start."),
    }
    outputs: ClassVar[dict[str, str]] = {
        "open": "Open a new one.",
        "reuse": "Hand out an idle one.",
        "wait": "Queue the request.",
    }
    conditions: ClassVar[dict[str, str]] = {
        "fresh": "A new one is asked for.",
        "idle": "One is idle.",
        "room": "The limits leave room.",
    }
    ready = state("READY", "Taking requests.", initial=True)
    waiting = state("WAITING", "A request waits.")

    ask = event(
        stays(ready, cond=("fresh",), effects=("open",), doc="Open a new one.")
        | stays(ready, cond=("idle",), unless=("fresh",), effects=("reuse",), doc="Reuse.")
        | stays(ready, cond=("room",), unless=("fresh", "idle"), effects=("open",), doc="Open.")
        | goes(ready, waiting, unless=("fresh", "idle", "room"), effects=("wait",), doc="Wait.")
        | stays(waiting, effects=("wait",), doc="Wait behind the others.")
    )
    reset = event(goes(waiting, ready, doc="Start again.") | stays(ready, doc="Nothing to do."))


class Model(Charted):
    """
    Guards answer from C{values} and note that they were called; effects
    note that they ran.
    """

    chart = Choosing
    _state = "READY"

    def __init__(self, values: dict[str, bool]) -> None:
        self.values = values
        self.called: list[str] = []
        self.done: list[str] = []

    def _fresh(self) -> bool:
        self.called.append("fresh")
        return self.values["fresh"]

    def _idle(self) -> bool:
        self.called.append("idle")
        return self.values["idle"]

    def _room(self) -> bool:
        self.called.append("room")
        return self.values["room"]

    def _open(self) -> None:
        self.done.append("open")

    def _reuse(self) -> None:
        self.done.append("reuse")

    def _wait(self) -> None:
        self.done.append("wait")


COMBINATIONS = [
    dict(zip(GUARDS, values, strict=True)) for values in product((True, False), repeat=3)
]


@pytest.mark.parametrize("values", COMBINATIONS, ids=lambda v: ",".join(k for k in v if v[k]))
def test_the_compiled_choice_is_the_reference_engines(values: dict[str, bool]) -> None:
    compiled = Model(values)
    Model._fire.ask(compiled)
    reference = Model(values)
    ReferenceEngine(ChartSpec.of(Choosing), reference).fire.ask(reference)
    assert (compiled._state, compiled.done) == (reference._state, reference.done)


@pytest.mark.parametrize(
    ("values", "called"),
    [
        ({"fresh": True, "idle": True, "room": True}, ["fresh"]),
        ({"fresh": False, "idle": True, "room": False}, ["fresh", "idle"]),
        ({"fresh": False, "idle": False, "room": True}, ["fresh", "idle", "room"]),
        ({"fresh": False, "idle": False, "room": False}, ["fresh", "idle", "room"]),
    ],
)
def test_a_guard_is_called_only_while_the_choice_depends_on_it(
    values: dict[str, bool], called: list[str]
) -> None:
    model = Model(values)
    Model._fire.ask(model)
    assert model.called == called


def test_a_cell_without_guards_calls_none() -> None:
    model = Model(dict.fromkeys(GUARDS, False))
    Model._fire.ask(model)
    model.called.clear()
    Model._fire.ask(model)
    assert (model._state, model.called, model.done) == ("WAITING", [], ["wait", "wait"])


def test_the_generated_code_calls_each_guard_once_per_path() -> None:
    source: Any = Model._compiled.source
    handler = source.split("def handle_ask")[1].split("def ")[0]
    assert handler.count("f_fresh(") == 1
    assert handler.count("f_idle(") == 1
    assert handler.count("f_room(") == 1
