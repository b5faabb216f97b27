"""
What a declared chart says, read once from its python-statemachine class.

L{ChartSpec.of} walks the class through the library's own introspection
(C{Chart.states}, each state's C{transitions}, their C{cond} and C{after}
callbacks; the parts of it that are not the library's public API live in
L{httpchart.statechart._library}) and keeps the result as plain data: for
every (state, event) cell, the branches that may handle it, and everything
the chart says about itself (its documentation, its states' names and
meanings, its vocabularies).  The compiled engine, the diagrams, the
documentation and the tests read this data; none of them walks the class
again.

The walk also checks the declaration, so that a chart that cannot be executed
or documented faithfully is rejected when it is first used rather than when a
connection misbehaves:

  - states are flat (no compound, parallel or history states) and have no
    entry or exit callbacks of their own;
  - every transition has one event and one target, its guards are plain
    names (C{cond} and C{unless}), and its effects are plain names in the
    C{after} group; C{before}, C{on} and validators are not used;
  - every event is described by an L{Input} in the chart's C{inputs}
    mapping, every effect in C{outputs} and every guard in C{conditions},
    and guards and effects are not named like events;
  - in every cell the guards are exhaustive and mutually exclusive: for each
    assignment of truth values to the guards used in the cell, exactly one
    branch is enabled;
  - the chart's optional C{failure_states}, which only documents the chart,
    names declared states other than the initial one.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from statemachine import StateChart

from . import _library
from .declare import Input


class ChartDefinitionError(Exception):
    """
    A chart class cannot be used by httpchart; the message says which state,
    transition or name is at fault.
    """


class TransitionRecord(NamedTuple):
    """
    One transition taken: where from, on which event, where to, and the
    effects it ran, in order.  Records are built once per declared branch and
    shared, so observing a transition allocates nothing.
    """

    source: str
    event: str
    target: str
    effects: tuple[str, ...]


@dataclass(frozen=True)
class Guard:
    """
    A guard of a branch: the guard called C{name} must return C{expected}.
    """

    name: str
    expected: bool

    def __str__(self) -> str:
        return self.name if self.expected else f"not {self.name}"


@dataclass(frozen=True)
class Branch:
    """
    One declared way of handling an event in a state.

    @ivar record: The record of taking this branch.
    @ivar guards: All must hold for the branch to be taken.
    @ivar internal: C{True} when the state does not change.
    @ivar doc: What taking this branch means.
    """

    record: TransitionRecord
    guards: tuple[Guard, ...]
    internal: bool
    doc: str

    @property
    def source(self) -> str:
        return self.record.source

    @property
    def event(self) -> str:
        return self.record.event

    @property
    def target(self) -> str:
        return self.record.target

    @property
    def effects(self) -> tuple[str, ...]:
        return self.record.effects

    @property
    def guard_text(self) -> str:
        """
        The guards as one condition, for example C{"closing and not withdrawn"};
        empty when the branch is unguarded.
        """
        return " and ".join(str(guard) for guard in self.guards)

    def enabled(self, truth: Mapping[str, bool]) -> bool:
        """
        Whether this branch is taken when its guards evaluate to C{truth}.
        """
        return all(truth[guard.name] == guard.expected for guard in self.guards)


@dataclass(frozen=True)
class ChartSpec:
    """
    The content of a declared chart, as data.

    @ivar chart: The python-statemachine class it was read from; only the
        reference engine uses it.
    @ivar module: The module that declares the chart.
    @ivar doc: What the chart is, from its docstring.
    @ivar states: State values in declaration order.
    @ivar state_ids: For each state value, the class attribute that declares
        it (the diagrams name their nodes so).
    @ivar initial: The initial state's value.
    @ivar events: Event names in declaration order.
    @ivar payloads: For each event, the names of its payload.
    @ivar branches: For each (state, event) cell that is declared, its
        branches in declaration order.  Undeclared cells cannot happen.
    @ivar state_docs: What each state means.
    @ivar event_docs: What each event reports.
    @ivar effect_docs: What each effect does.
    @ivar guard_docs: What each guard tests.
    @ivar by_transition: The branch of each python-statemachine transition,
        keyed by L{_library.transition_key}: what the reference engine
        reports to the observer.
    @ivar failure_states: The states the chart's C{failure_states} names,
        in declaration order: entering one means the exchange failed or the
        connection is finished.  Only the documentation uses it.
    """

    chart: type[StateChart[Any]]
    module: str
    doc: str
    states: tuple[str, ...]
    state_ids: Mapping[str, str]
    initial: str
    events: tuple[str, ...]
    payloads: Mapping[str, tuple[str, ...]]
    branches: Mapping[tuple[str, str], tuple[Branch, ...]]
    state_docs: Mapping[str, str]
    event_docs: Mapping[str, str]
    effect_docs: Mapping[str, str]
    guard_docs: Mapping[str, str]
    by_transition: Mapping[int, Branch]
    failure_states: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.chart.__name__

    @property
    def effects(self) -> tuple[str, ...]:
        """
        Every effect name the chart uses, in order of first use.
        """
        return _unique(e for b in self.all_branches() for e in b.effects)

    @property
    def guards(self) -> tuple[str, ...]:
        """
        Every guard name the chart uses, in order of first use.
        """
        return _unique(g.name for b in self.all_branches() for g in b.guards)

    def all_branches(self) -> Iterable[Branch]:
        """
        Every branch, ordered by state then event as declared.
        """
        for source in self.states:
            for name in self.events:
                yield from self.branches.get((source, name), ())

    def cell(self, source: str, event: str) -> tuple[Branch, ...]:
        """
        The branches handling C{event} in C{source}; empty when it cannot
        happen there.
        """
        return self.branches.get((source, event), ())

    def terminal_states(self) -> tuple[str, ...]:
        """
        States that no transition leaves.
        """
        return tuple(
            source
            for source in self.states
            if all(b.internal for name in self.events for b in self.cell(source, name))
        )

    @staticmethod
    def of(chart: type[StateChart[Any]]) -> ChartSpec:
        """
        Read and check C{chart}; the result is cached per class.

        @raise ChartDefinitionError: If the class breaks one of the rules in
            this module's docstring.
        """
        return _read(chart)


@functools.cache
def _read(chart: type[StateChart[Any]]) -> ChartSpec:
    events = _library.event_names(chart)
    inputs: dict[str, Input] = dict(getattr(chart, "inputs", {}))
    _check_inputs(chart, events, inputs)

    declared_states = _library.declared_states(chart)
    initials = [declared.value for declared in declared_states if declared.initial]
    if len(initials) != 1:
        raise ChartDefinitionError(f"{chart.__name__} needs exactly one initial state")

    states: list[str] = []
    state_ids: dict[str, str] = {}
    state_docs: dict[str, str] = {}
    cells: dict[tuple[str, str], list[Branch]] = {}
    by_transition: dict[int, Branch] = {}
    for declared in declared_states:
        where = f"{chart.__name__}.{declared.id}"
        if declared.nested:
            raise ChartDefinitionError(f"{where}: nested states are not supported")
        if _declared_names(declared.callbacks, where, "entry/exit"):
            raise ChartDefinitionError(
                f"{where}: state entry and exit callbacks are not supported; "
                "declare effects on transitions"
            )
        states.append(declared.value)
        state_ids[declared.value] = declared.id
        state_docs[declared.value] = declared.doc
        for transition in declared.transitions:
            branch = _branch(chart, transition, declared.value)
            cells.setdefault((declared.value, branch.event), []).append(branch)
            by_transition[transition.key] = branch

    branches = {cell: tuple(found) for cell, found in cells.items()}
    _check_names(chart, events, branches)
    for (source, name), found in branches.items():
        _check_exhaustive(chart, source, name, found)
    effects = _unique(e for found in branches.values() for b in found for e in b.effects)
    guards = _unique(g.name for found in branches.values() for b in found for g in b.guards)
    effect_docs = _described(chart, "outputs", effects)
    guard_docs = _described(chart, "conditions", guards)

    return ChartSpec(
        chart=chart,
        module=chart.__module__,
        doc=" ".join((chart.__doc__ or "").split()),
        states=tuple(states),
        state_ids=state_ids,
        initial=initials[0],
        events=events,
        payloads={name: inputs[name].carries for name in events},
        branches=branches,
        state_docs=state_docs,
        event_docs={name: " ".join(inputs[name].doc.split()) for name in events},
        effect_docs=effect_docs,
        guard_docs=guard_docs,
        by_transition=by_transition,
        failure_states=_failure_states(chart, states, initials[0]),
    )


def _branch(
    chart: type[StateChart[Any]], transition: _library.DeclaredTransition, source: str
) -> Branch:
    where = f"{chart.__name__}: {transition.text}"
    if len(transition.events) != 1:
        raise ChartDefinitionError(f"{where}: a transition needs exactly one event")
    if len(transition.targets) != 1:
        raise ChartDefinitionError(f"{where}: a transition needs exactly one target")
    for label, group in transition.others.items():
        if _declared_names(group, where, label):
            raise ChartDefinitionError(
                f"{where}: {label} callbacks are not supported; declare effects in 'after'"
            )
    guards = tuple(
        Guard(callback.name, callback.expected)
        for callback in _checked(transition.guards, where, "guard")
    )
    effects = tuple(callback.name for callback in _checked(transition.effects, where, "effect"))
    target = transition.targets[0]
    if transition.internal and target != source:
        raise ChartDefinitionError(f"{where}: an internal transition must stay put")
    record = TransitionRecord(source, transition.events[0], target, effects)
    return Branch(record, guards, transition.internal, transition.doc)


def _checked(group: Iterable[_library.Callback], where: str, label: str) -> list[_library.Callback]:
    found = []
    for callback in group:
        if not callback.inline:
            raise ChartDefinitionError(
                f"{where}: {label} {callback.name!r} must be declared inline"
            )
        if not callback.plain:
            raise ChartDefinitionError(f"{where}: {label} {callback.name!r} must be a plain name")
        found.append(callback)
    return found


def _declared_names(group: Iterable[_library.Callback], where: str, label: str) -> list[str]:
    return [callback.name for callback in _checked(group, where, label)]


def _check_inputs(
    chart: type[StateChart[Any]], events: tuple[str, ...], inputs: dict[str, Input]
) -> None:
    missing = [name for name in events if name not in inputs]
    unknown = [name for name in inputs if name not in events]
    if missing or unknown:
        raise ChartDefinitionError(
            f"{chart.__name__}.inputs must describe every event and nothing else "
            f"(missing: {missing}, unknown: {unknown})"
        )


def _described(
    chart: type[StateChart[Any]], attribute: str, used: tuple[str, ...]
) -> dict[str, str]:
    docs: dict[str, str] = dict(getattr(chart, attribute, {}))
    missing = [name for name in used if not docs.get(name)]
    unused = [name for name in docs if name not in used]
    if missing or unused:
        raise ChartDefinitionError(
            f"{chart.__name__}.{attribute} must describe every name used and nothing else "
            f"(missing: {missing}, unused: {unused})"
        )
    return {name: " ".join(docs[name].split()) for name in used}


def _failure_states(
    chart: type[StateChart[Any]], states: list[str], initial: str
) -> tuple[str, ...]:
    declared = tuple(getattr(chart, "failure_states", ()))
    unknown = [name for name in declared if name not in states]
    if unknown or initial in declared:
        raise ChartDefinitionError(
            f"{chart.__name__}.failure_states must name states other than the initial "
            f"one (unknown: {unknown})"
        )
    return tuple(name for name in states if name in declared)


def _check_names(
    chart: type[StateChart[Any]],
    events: tuple[str, ...],
    branches: Mapping[tuple[str, str], tuple[Branch, ...]],
) -> None:
    used = {e for found in branches.values() for b in found for e in b.effects}
    used |= {g.name for found in branches.values() for b in found for g in b.guards}
    clashes = sorted(used & set(events))
    if clashes:
        raise ChartDefinitionError(
            f"{chart.__name__}: guards and effects may not be named like events: {clashes}"
        )


def _check_exhaustive(
    chart: type[StateChart[Any]], source: str, name: str, found: tuple[Branch, ...]
) -> None:
    guard_names = _unique(g.name for b in found for g in b.guards)
    for values in itertools.product((False, True), repeat=len(guard_names)):
        truth = dict(zip(guard_names, values, strict=True))
        enabled = [b for b in found if b.enabled(truth)]
        if len(enabled) != 1:
            raise ChartDefinitionError(
                f"{chart.__name__}: event {name!r} in state {source} enables "
                f"{len(enabled)} branches when {truth}; guards must be exhaustive "
                "and mutually exclusive"
            )


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))
