"""
Small helpers for declaring charts with python-statemachine.

They keep a chart's class body readable as a table: every transition names its
source, target, guards and effects in one call, and carries a docstring that
says what the transition means.  The helpers only build python-statemachine
objects; nothing here runs at event time.

A chart derives from L{Chart}, which sets the library's options the engines
rely on.

Conventions the rest of httpchart relies on:

  - Effects are declared in the library's C{after} group, so they run once the
    machine is already in the target state.  Effects fire Deferreds and call
    user code, and that code must see the connection's new state, exactly as
    Twisted's own class changes C{_state} before it acts.
  - A transition that does not change the state is declared C{internal}: no
    exit or entry happens and the state stays put.
  - Guards and effects are names, never callables or expressions, so the
    declaration can be rendered, compared with the transition table and
    compiled into a fast dispatch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from statemachine import Event, State

from ._library import Chart, TransitionList

__all__ = ["Chart", "Input", "event", "goes", "state", "stays"]


class Input(NamedTuple):
    """
    What an event reports and what it carries.

    @ivar carries: The names of the event's payload; a guard or effect may
        take any of them as parameters.
    @ivar doc: What happened when this event is sent.
    """

    carries: tuple[str, ...]
    doc: str


def state(value: str, doc: str, *, initial: bool = False) -> State:
    """
    Declare a state whose value and display name are C{value}.

    @param value: The state's name, used as its value so that a bound model
        field holds this very string.
    @param doc: What being in this state means.
    @param initial: Whether the chart starts here.
    """
    declared = State(value, value=value, initial=initial)
    declared.__doc__ = doc
    return declared


def goes(
    source: State,
    target: State,
    *,
    doc: str,
    cond: Sequence[str] = (),
    unless: Sequence[str] = (),
    effects: Sequence[str] = (),
) -> TransitionList:
    """
    Declare a transition from C{source} to a different C{target}.

    @param doc: What the transition means, in a sentence or two.
    @param cond: Guard names that must all hold.
    @param unless: Guard names that must all be false.
    @param effects: Effect names, run in order after the state has changed.
    """
    transitions = source.to(target, cond=list(cond), unless=list(unless), after=list(effects))
    return _documented(transitions, doc)


def stays(
    *sources: State,
    doc: str,
    cond: Sequence[str] = (),
    unless: Sequence[str] = (),
    effects: Sequence[str] = (),
) -> TransitionList:
    """
    Declare, for each of C{sources}, an internal transition: the event is
    handled (its effects run, possibly none) and the state does not change.

    An internal transition with no effects is how a chart says "this event is
    ignored here, on purpose"; leaving the cell undeclared says instead that
    the event cannot happen in that state.
    """
    transitions = TransitionList()
    for source in sources:
        transitions = transitions | source.to.itself(
            internal=True, cond=list(cond), unless=list(unless), after=list(effects)
        )
    return _documented(transitions, doc)


def event(transitions: TransitionList) -> Event:
    """
    Declare an event made of C{transitions}; the class attribute it is
    assigned to becomes its name, and the chart's C{inputs} say what it means
    and carries.
    """
    return Event(transitions)


def _documented(transitions: TransitionList, doc: str) -> TransitionList:
    for transition in transitions:
        transition.__doc__ = doc
    return transitions
