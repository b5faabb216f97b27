"""
Everything httpchart needs of python-statemachine beyond its public API, in
one place.

The public API (C{StateChart}, C{State}, C{Event}, C{state.to(...)},
C{Chart.states}, C{send}, listeners, C{TransitionNotAllowed}) is used where
it is needed.  What is not public is confined here, each piece behind a
function that returns plain data, so that a new release of the library that
changes one of these details breaks this module only, and
C{tests/test_library_assumptions.py} (one test per assumption) says which:

  1. a chart class lists its events, in declaration order, in C{_events};
  2. a transition's callbacks (C{cond}, C{after}, C{before}, C{on},
     C{validators}) and a state's C{enter} and C{exit} iterate as
     C{CallbackSpec}s whose C{func}, C{is_convention}, C{priority}
     (C{CallbackPriority.INLINE} when declared in the transition),
     C{reference} (C{SpecReference.NAME} for a name) and C{expected_value}
     (C{False} for an C{unless} guard) say what was declared;
  3. C{state.to(...)} returns a C{TransitionList}, which C{|} combines and
     which iterates over its transitions;
  4. a machine's pending events can be dropped with C{_engine.clear()}, which
     the reference engine does after an event fails so that the next event
     does not run stale ones;
  5. the class settings of L{Chart}, which every httpchart chart derives
     from, make the library raise C{TransitionNotAllowed} for an undeclared
     cell, let exceptions out of callbacks instead of turning them into
     events, and keep an internal transition free of exit and entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from statemachine import StateChart
from statemachine.callbacks import CallbackPriority, CallbackSpec, SpecReference
from statemachine.transition_list import TransitionList

__all__ = [
    "Callback",
    "Chart",
    "DeclaredState",
    "DeclaredTransition",
    "TransitionList",
    "declared_states",
    "discard_queue",
    "event_names",
    "transition_key",
]


class Chart(StateChart[Any]):
    """
    The base of httpchart's charts: the library's settings its engines rely
    on, set once.
    """

    allow_event_without_transition = False
    catch_errors_as_events = False
    enable_self_transition_entries = False
    atomic_configuration_update = True


@dataclass(frozen=True)
class Callback:
    """
    One callback declared on a transition or state (the library's own
    naming conventions, such as C{on_enter_<state>}, left out).

    @ivar name: What was declared: a name, or the C{repr} of anything else.
    @ivar inline: Whether it was declared with the transition or state
        itself, rather than found by a naming convention or decorator.
    @ivar plain: Whether it is a plain identifier (not a callable, property
        or boolean expression).
    @ivar expected: What a guard must return (C{False} for C{unless}).
    """

    name: str
    inline: bool
    plain: bool
    expected: bool


@dataclass(frozen=True)
class DeclaredTransition:
    """
    One transition as the library holds it, as plain data.

    @ivar key: Identifies the transition object for as long as its class
        lives; L{transition_key} gives the same key for the object a
        listener is handed.
    """

    key: int
    events: tuple[str, ...]
    targets: tuple[str, ...]
    internal: bool
    guards: tuple[Callback, ...]
    effects: tuple[Callback, ...]
    others: dict[str, tuple[Callback, ...]]
    doc: str
    text: str


@dataclass(frozen=True)
class DeclaredState:
    """
    One state as the library holds it, as plain data.

    @ivar id: The class attribute it was assigned to.
    @ivar value: Its value.
    @ivar nested: Whether it has substates or history.
    @ivar callbacks: Its declared C{enter} and C{exit} callbacks.
    """

    id: str
    value: str
    doc: str
    initial: bool
    nested: bool
    callbacks: tuple[Callback, ...]
    transitions: tuple[DeclaredTransition, ...]


def event_names(chart: type[StateChart[Any]]) -> tuple[str, ...]:
    """
    The names of C{chart}'s events, in declaration order.
    """
    return tuple(str(name) for name in chart._events)


def declared_states(chart: type[StateChart[Any]]) -> tuple[DeclaredState, ...]:
    """
    C{chart}'s states in declaration order, each with its transitions in
    declaration order.
    """
    return tuple(
        DeclaredState(
            id=str(declared.id),
            value=str(declared.value),
            doc=_doc(declared),
            initial=bool(declared.initial),
            nested=bool(declared.states or getattr(declared, "history", None)),
            callbacks=_callbacks(declared.enter) + _callbacks(declared.exit),
            transitions=tuple(_transition(t) for t in declared.transitions),
        )
        for declared in chart.states
    )


def transition_key(transition: object) -> int:
    """
    The key of the library's C{transition} object, as in
    L{DeclaredTransition.key}.
    """
    return id(transition)


def discard_queue(machine: StateChart[Any]) -> None:
    """
    Forget the events C{machine} has queued but not handled yet.
    """
    machine._engine.clear()


def _transition(transition: Any) -> DeclaredTransition:
    return DeclaredTransition(
        key=transition_key(transition),
        events=tuple(str(name) for name in transition.events),
        targets=tuple(str(target.value) for target in transition.targets),
        internal=bool(transition.internal),
        guards=_callbacks(transition.cond),
        effects=_callbacks(transition.after),
        others={
            "validators": _callbacks(transition.validators),
            "before": _callbacks(transition.before),
            "on": _callbacks(transition.on),
        },
        doc=_doc(transition),
        text=str(transition),
    )


def _callbacks(group: Iterable[CallbackSpec]) -> tuple[Callback, ...]:
    return tuple(
        Callback(
            name=str(spec.func) if spec.reference is SpecReference.NAME else repr(spec.func),
            inline=spec.priority == CallbackPriority.INLINE,
            plain=spec.reference is SpecReference.NAME and str(spec.func).isidentifier(),
            expected=spec.expected_value is not False,
        )
        for spec in group
        if not spec.is_convention
    )


def _doc(declared: object) -> str:
    doc = getattr(declared, "__doc__", None) or ""
    if doc == type(declared).__doc__:
        return ""
    return " ".join(doc.split())
