"""
What httpchart assumes of python-statemachine beyond its public API: one
test per assumption that L{httpchart.statechart._library} rests on, each
failing with a message that says what a new release of the library changed.
"""

from __future__ import annotations

import contextlib
from types import SimpleNamespace
from typing import ClassVar

import pytest
import statemachine
from statemachine.callbacks import CallbackPriority, CallbackSpec, SpecReference
from statemachine.exceptions import TransitionNotAllowed

from httpchart.statechart import _library
from httpchart.statechart.declare import Input, event, goes, state, stays

CHANGED = f"python-statemachine {statemachine.__version__} changed: "


class Probe(_library.Chart):
    """
    A chart that uses every feature httpchart reads.
    """

    inputs: ClassVar[dict[str, Input]] = {
        "second": Input((), "declared first, named second"),
        "first": Input((), "declared second"),
    }
    outputs: ClassVar[dict[str, str]] = {"act": "acts", "again": "acts again"}
    conditions: ClassVar[dict[str, str]] = {"ready": "is ready"}

    idle = state("IDLE", "idle", initial=True)
    busy = state("BUSY", "busy")

    second = event(
        goes(idle, busy, cond=("ready",), effects=("act", "again"), doc="go")
        | stays(idle, unless=("ready",), doc="wait")
    )
    first = event(goes(busy, idle, doc="back") | stays(idle, doc="nothing"))


def test_a_chart_lists_its_events_in_declaration_order_in_events() -> None:
    assert hasattr(Probe, "_events"), CHANGED + "a chart class has no '_events' any more"
    assert _library.event_names(Probe) == ("second", "first"), (
        CHANGED + "'_events' no longer lists a chart's events in declaration order"
    )


def test_transition_callbacks_are_callback_specs_that_say_what_was_declared() -> None:
    (go, wait) = [t for t in Probe.idle.transitions if [str(e) for e in t.events] == ["second"]]
    guards = [spec for spec in go.cond if not spec.is_convention]
    effects = [spec for spec in go.after if not spec.is_convention]
    assert all(isinstance(spec, CallbackSpec) for spec in (*guards, *effects)), (
        CHANGED + "a transition's callbacks are no longer CallbackSpecs"
    )
    assert [str(spec.func) for spec in guards] == ["ready"], (
        CHANGED + "a guard's CallbackSpec.func is no longer its declared name"
    )
    assert [str(spec.func) for spec in effects] == ["act", "again"], (
        CHANGED + "effects in 'after' no longer come back as declared, in order"
    )
    assert all(spec.priority == CallbackPriority.INLINE for spec in (*guards, *effects)), (
        CHANGED + "callbacks declared with a transition are no longer CallbackPriority.INLINE"
    )
    assert all(spec.reference is SpecReference.NAME for spec in (*guards, *effects)), (
        CHANGED + "a callback given by name is no longer SpecReference.NAME"
    )
    (unless,) = [spec for spec in wait.cond if not spec.is_convention]
    assert (guards[0].expected_value, unless.expected_value) == (True, False), (
        CHANGED + "CallbackSpec.expected_value no longer tells 'cond' from 'unless'"
    )


def test_naming_conventions_are_marked_as_such() -> None:
    conventions = [spec for spec in Probe.busy.enter if spec.is_convention]
    assert conventions, CHANGED + "a state's convention callbacks are gone or unmarked"
    assert all(
        not callback.inline or callback.name != "on_enter_busy"
        for callback in _library.declared_states(Probe)[1].callbacks
    ), CHANGED + "convention callbacks (on_enter_<state>) are no longer marked is_convention"


def test_the_library_reads_a_declaration_as_plain_data() -> None:
    idle, busy = _library.declared_states(Probe)
    assert (idle.id, idle.value, idle.initial, busy.initial) == ("idle", "IDLE", True, False)
    go = idle.transitions[0]
    assert (go.events, go.targets, go.internal, go.doc) == (("second",), ("BUSY",), False, "go")
    assert [c.name for c in go.effects] == ["act", "again"]
    assert [(c.name, c.expected) for c in idle.transitions[1].guards] == [("ready", False)]
    assert idle.transitions[1].internal, CHANGED + "a transition's 'internal' flag moved"


def test_state_to_returns_a_transition_list_that_combines_and_iterates() -> None:
    start, end = state("A", "a", initial=True), state("B", "b")
    one, two = start.to(end), end.to(start)
    assert isinstance(one, _library.TransitionList), (
        CHANGED + "State.to() no longer returns statemachine.transition_list.TransitionList"
    )
    assert [t.target for t in one | two] == [end, start], (
        CHANGED + "TransitionList no longer combines with '|' and iterates in order"
    )


def test_a_listener_is_handed_the_declared_transition_object() -> None:
    seen: list[int] = []
    listener = SimpleNamespace(
        on_transition=lambda transition: seen.append(_library.transition_key(transition)),
        ready=lambda: True,
        act=lambda: None,
        again=lambda: None,
    )
    machine = Probe(listeners=[listener])
    machine.send("second")
    declared = _library.declared_states(Probe)[0].transitions[0]
    assert seen == [declared.key], (
        CHANGED + "on_transition no longer receives the transition object the class declares"
    )


def test_discarding_the_queue_forgets_events_queued_before_a_failure() -> None:
    ran: list[str] = []

    def act() -> None:
        machine.send("first")
        raise RuntimeError("fails after queueing 'first'")

    listener = SimpleNamespace(ready=lambda: True, act=act, again=lambda: ran.append("again"))
    machine = Probe(listeners=[listener])
    with contextlib.suppress(RuntimeError):
        machine.send("second")
    assert callable(getattr(getattr(machine, "_engine", None), "clear", None)), (
        CHANGED + "a machine no longer has _engine.clear()"
    )
    _library.discard_queue(machine)
    assert machine.configuration_values == {"BUSY"}
    machine.send("first")
    assert machine.configuration_values == {"IDLE"}, (
        CHANGED + "_engine.clear() no longer drops the events queued before a failure"
    )


def test_the_chart_settings_let_errors_out_and_refuse_undeclared_cells() -> None:
    def act() -> None:
        raise KeyError("from an effect")

    listener = SimpleNamespace(ready=lambda: True, act=act, again=lambda: None)
    machine = Probe(listeners=[listener])
    with pytest.raises(KeyError, match="from an effect"):
        machine.send("second")
    _library.discard_queue(machine)
    assert machine.configuration_values == {"BUSY"}
    with pytest.raises(TransitionNotAllowed):
        machine.send("second")
    assert machine.configuration_values == {"BUSY"}, (
        CHANGED + "an event with no transition in the state changed it"
    )
