"""
Two ways of running a declared chart on a model object.

L{CompiledEngine} is what connections run.  It is built once per (chart,
model class) from the chart's L{ChartSpec}: every cell becomes a tuple of
branches whose guards and effects are already resolved to the model class's
functions, so an event costs a couple of dictionary lookups and the effect
calls themselves.

L{ReferenceEngine} hands the same model to python-statemachine's own engine.
It is slow (hundreds of microseconds per instance and per event) and exists so
that tests can prove the compiled engine takes the same transitions and runs
the same effects in the same order.

Both engines follow the same rules:

  - A chart names guards and effects abstractly; the model implements guard
    or effect C{name} as its method C{_name}, which keeps them out of the
    model's public interface.  Methods take, by name, any part of the event's
    payload they need.
  - The state lives in a field of the model (C{_state} by default) and holds
    the state's value.
  - Effects run after the state has changed.  An event sent while another is
    being handled (typically from inside an effect) is queued and handled
    after it: run to completion.  If an effect raises, the exception
    propagates to whoever sent the outermost event, with a note naming the
    state, event and effect, and the queued events are dropped.
  - An event with no declared transition in the current state raises
    L{LifecycleError} and changes nothing.
  - If the model's C{_observer} is not C{None}, it is called with the
    L{TransitionRecord} of each transition, before that transition's effects
    run.  It must not raise.
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any, Protocol

from statemachine.exceptions import TransitionNotAllowed

from .spec import Branch, ChartDefinitionError, ChartSpec, TransitionRecord

Payload = Mapping[str, Any]
_Call = Callable[[Any, Payload], Any]
_Compiled = tuple[
    tuple[tuple[_Call, bool], ...],
    str | None,
    tuple[tuple[str, _Call], ...],
    TransitionRecord,
]


class LifecycleError(Exception):
    """
    An event was sent in a state where the chart says it cannot happen.

    @ivar chart: The chart's name.
    @ivar state: The state the machine was in (and still is).
    @ivar event: The event's name.
    """

    def __init__(self, chart: str, state: str, event: str) -> None:
        super().__init__(f"{chart}: event {event!r} cannot happen in state {state}")
        self.chart = chart
        self.state = state
        self.event = event


class Engine(Protocol):
    """
    Runs a chart for one model.
    """

    def send(self, model: Any, event: str, payload: Payload) -> None:
        """
        Handle C{event} with C{payload} on C{model}, or queue it if the model
        is already handling an event.
        """


class CompiledEngine:
    """
    The dispatch derived from a chart for one model class.  Build it once per
    class and share it between all instances.

    Besides its state field, a model used with this engine has the attributes
    C{_pending_events} (C{None} when idle; the engine's queue while busy) and
    C{_observer}; class-level defaults of C{None} cost instances nothing.
    """

    def __init__(self, spec: ChartSpec, model_class: type, *, state_field: str = "_state") -> None:
        self.spec = spec
        self.state_field = state_field
        calls = {name: _resolve(spec, model_class, name) for name in (*spec.effects, *spec.guards)}
        self._table: dict[str, dict[str, tuple[_Compiled, ...]]] = {}
        for (source, name), branches in spec.branches.items():
            self._table.setdefault(source, {})[name] = tuple(
                _compile(branch, calls) for branch in branches
            )
        for source in spec.states:
            self._table.setdefault(source, {})

    def send(self, model: Any, event: str, payload: Payload) -> None:
        pending: deque[tuple[str, Payload]] | None = model._pending_events
        if pending is not None:
            pending.append((event, payload))
            return
        model._pending_events = pending = deque()
        try:
            self._step(model, event, payload)
            while pending:
                event, payload = pending.popleft()
                self._step(model, event, payload)
        finally:
            model._pending_events = None

    def _step(self, model: Any, event: str, payload: Payload) -> None:
        field = self.state_field
        source = getattr(model, field)
        branches = self._table[source].get(event)
        if branches is None:
            raise LifecycleError(self.spec.name, source, event)
        for guards, target, effects, record in branches:
            for check, expected in guards:
                if bool(check(model, payload)) is not expected:
                    break
            else:
                if target is not None:
                    setattr(model, field, target)
                observer = model._observer
                if observer is not None:
                    observer(record)
                for name, call in effects:
                    try:
                        call(model, payload)
                    except Exception as failure:
                        failure.add_note(
                            f"httpchart: raised by effect {name!r} of "
                            f"{source} --{event}--> {record.target}"
                        )
                        raise
                return
        raise LifecycleError(self.spec.name, source, event)


class ReferenceEngine:
    """
    python-statemachine's own engine, bound to one model instance.
    """

    def __init__(self, spec: ChartSpec, model: Any, *, state_field: str = "_state") -> None:
        self.spec = spec
        implementations = SimpleNamespace(
            **{name: getattr(model, "_" + name) for name in (*spec.effects, *spec.guards)}
        )
        self._machine = spec.chart(
            model=model,
            state_field=state_field,
            listeners=[implementations, _Observation(spec, model)],
        )

    def send(self, model: Any, event: str, payload: Payload) -> None:
        try:
            self._machine.send(event, **payload)
        except TransitionNotAllowed:
            self._machine._engine.clear()
            raise LifecycleError(self.spec.name, model._state, event) from None
        except Exception as failure:
            self._machine._engine.clear()
            failure.add_note(f"httpchart: raised while handling {event!r} (reference engine)")
            raise


class _Observation:
    """
    Reports the library's transitions to the model's observer, with the same
    records the compiled engine uses.
    """

    def __init__(self, spec: ChartSpec, model: Any) -> None:
        self._branches = spec.by_transition
        self._model = model

    def on_transition(self, transition: object) -> None:
        observer = self._model._observer
        if observer is not None:
            observer(self._branches[id(transition)].record)


def _resolve(spec: ChartSpec, model_class: type, name: str) -> _Call:
    function = getattr(model_class, "_" + name, None)
    if not inspect.isfunction(function):
        raise ChartDefinitionError(
            f"{model_class.__name__} must implement {spec.name}'s {name!r} as a "
            f"method named '_{name}'"
        )
    parameters = list(inspect.signature(function).parameters.values())[1:]
    names = tuple(p.name for p in parameters)
    for p in parameters:
        if p.kind not in (p.POSITIONAL_OR_KEYWORD, p.POSITIONAL_ONLY):
            raise ChartDefinitionError(
                f"{model_class.__name__}._{name}: parameters must be plain names"
            )
    for branch in spec.all_branches():
        if name in branch.effects or any(g.name == name for g in branch.guards):
            missing = set(names) - set(spec.payloads[branch.event])
            if missing:
                raise ChartDefinitionError(
                    f"{model_class.__name__}._{name} takes {sorted(missing)}, which "
                    f"event {branch.event!r} does not carry"
                )
    return _bind(function, names)


def _bind(function: Callable[..., Any], names: tuple[str, ...]) -> _Call:
    if not names:
        return lambda model, payload: function(model)
    if len(names) == 1:
        (only,) = names
        return lambda model, payload: function(model, payload[only])
    return lambda model, payload: function(model, *[payload[n] for n in names])


def _compile(branch: Branch, calls: Mapping[str, _Call]) -> _Compiled:
    return (
        tuple((calls[guard.name], guard.expected) for guard in branch.guards),
        None if branch.internal else branch.target,
        tuple((name, calls[name]) for name in branch.effects),
        branch.record,
    )
