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
  - Guards are pure and total: the compiled engine calls a cell's guards
    at most once each per event, and only those its choice still depends
    on (a decision tree), python-statemachine's evaluates them branch by
    branch, and both must reach the same branch.
  - Effects run after the state has changed.  An event sent while another is
    being handled (typically from inside an effect) is queued and handled
    after it: run to completion.
  - If an effect raises, the transition's later effects are skipped, a note
    naming the effect and the transition is added to the exception, and the
    engine hands it to the model: C{model._effect_failed(error, record,
    effect)}, inside the step.  The events the model sends from there (its
    error path) are handled next, before the events queued earlier, which
    are then handled in order: a queued event must not act on a model whose
    error path has not run yet.  If C{_effect_failed} raises (L{Charted}'s default
    re-raises), the exception reaches whoever sent the outermost event and
    the queued events are dropped.
  - An event with no declared transition in the current state raises
    L{LifecycleError} and changes nothing.
  - If the model's C{_observer} is not C{None}, it is called with the
    L{TransitionRecord} of each transition, before that transition's effects
    run.  It must not raise.
  - The model's C{_step_queue} is not C{None} exactly while an event is
    being handled.  If the model's C{_step_end_wanted} is set when the
    outermost event and everything queued behind it have been handled (or
    the step ended in an exception), the engine resets it and calls
    C{model._step_ended()}: a model defers work to the end of the step that
    way (see L{httpchart.statechart.model}, which documents this
    engine-model interface).
"""

from __future__ import annotations

import functools
import inspect
import linecache
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any, Protocol

from statemachine.exceptions import TransitionNotAllowed

from . import _library
from .spec import Branch, ChartDefinitionError, ChartSpec, TransitionRecord

Payload = Mapping[str, Any]
_BUSY = ()


class LifecycleError(RuntimeError):
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

    @ivar fire: One function per event, named after it, taking the model and
        then the event's payload in the order the chart's inputs declare it.
    """

    fire: Any

    def send(self, model: Any, event: str, payload: Payload) -> None:
        """
        Handle C{event} with C{payload} on C{model}, or queue it if the model
        is already handling an event.
        """


class CompiledEngine:
    """
    The dispatch derived from a chart for one model class.  Build it once per
    class and share it between all instances.

    For each event the engine generates a function that looks at the state,
    tests the guards of that state's branches, sets the new state, tells the
    observer and calls the effects, all inline; C{source} holds the generated
    code, and tracebacks show it.

    Besides its state field, a model used with this engine has the
    attributes and methods of L{httpchart.statechart.model.ChartModel};
    L{httpchart.statechart.Charted} gives them class-level defaults that cost
    instances nothing.
    """

    def __init__(self, spec: ChartSpec, model_class: type, *, state_field: str = "_state") -> None:
        if not state_field.isidentifier():
            raise ChartDefinitionError(f"state field {state_field!r} is not a name")
        reserved = {
            "model",
            "state",
            "observer",
            "after",
            "failure",
            "pending",
            "handle",
            "payload",
        }
        for event, carries in spec.payloads.items():
            if reserved & set(carries):
                raise ChartDefinitionError(
                    f"{spec.name}: event {event!r} may not carry {sorted(reserved & set(carries))}"
                )
        self.spec = spec
        self.state_field = state_field
        names = {name: _resolve(spec, model_class, name) for name in (*spec.effects, *spec.guards)}
        namespace: dict[str, Any] = {
            "_BUSY": _BUSY,
            "_impossible": self._impossible,
            "_effect_raised": self._effect_raised,
            "_drain": _drain,
            "_abandon": _abandon,
        }
        namespace.update({f"f_{name}": function for name, (function, _) in names.items()})
        code = _Generator(spec, names, namespace, state_field, _busiest_first(spec))
        self.source = "\n".join(line for event in spec.events for line in code.event(event))
        filename = f"<httpchart dispatch of {spec.name} for {model_class.__qualname__}>"
        linecache.cache[filename] = (len(self.source), None, self.source.splitlines(True), filename)
        exec(compile(self.source, filename, "exec"), namespace)
        self.fire = SimpleNamespace(**{event: namespace[f"fire_{event}"] for event in spec.events})
        self._fired = {event: namespace[f"fire_{event}"] for event in spec.events}

    def send(self, model: Any, event: str, payload: Payload) -> None:
        fire = self._fired.get(event)
        if fire is None:
            raise LifecycleError(self.spec.name, getattr(model, self.state_field), event)
        fire(model, *[payload[name] for name in self.spec.payloads[event]])

    def _impossible(self, model: Any, event: str) -> None:
        raise LifecycleError(self.spec.name, getattr(model, self.state_field), event)

    def _effect_raised(
        self,
        model: Any,
        error: Exception,
        record: TransitionRecord,
        effect: str,
        payload: tuple[Any, ...],
    ) -> None:
        carries = self.spec.payloads[record.event]
        effect_raised(model, error, record, effect, dict(zip(carries, payload, strict=True)))


class ReferenceEngine:
    """
    python-statemachine's own engine, bound to one model instance.

    Effects reach the library wrapped, so that one that raises is handed to
    the model exactly as the compiled engine hands it, and the rest of its
    transition's effects are skipped.
    """

    def __init__(self, spec: ChartSpec, model: Any, *, state_field: str = "_state") -> None:
        self.spec = spec
        self._model = model
        self._branches = spec.by_transition
        self._record: TransitionRecord | None = None
        self._payload: Payload = {}
        self._failed = False
        self._urgent = False
        implementations = SimpleNamespace(
            **{name: self._effect(name, getattr(model, "_" + name)) for name in spec.effects},
            **{name: getattr(model, "_" + name) for name in spec.guards},
        )
        self._machine = spec.chart(
            model=model,
            state_field=state_field,
            listeners=[implementations, self],
        )
        self.fire = SimpleNamespace(**{event: self._firing(event) for event in spec.events})

    def send(self, model: Any, event: str, payload: Payload) -> None:
        if model._step_queue is not None:
            if self._urgent:
                # The error path: the library's internal queue comes before
                # the events sent earlier.
                self._machine.raise_(event, **payload)
            else:
                self._machine.send(event, **payload)
            return
        model._step_queue = _BUSY
        try:
            self._machine.send(event, **payload)
        except TransitionNotAllowed:
            _library.discard_queue(self._machine)
            raise LifecycleError(self.spec.name, model._state, event) from None
        except Exception:
            _library.discard_queue(self._machine)
            raise
        finally:
            model._step_queue = None
            if model._step_end_wanted:
                model._step_end_wanted = False
                model._step_ended()

    def on_transition(self, transition: object, **arguments: Any) -> None:
        """
        The library takes a transition: note its record and payload for the
        effects, and report it to the model's observer.
        """
        record = self._record = self._branches[_library.transition_key(transition)].record
        self._payload = {name: arguments[name] for name in self.spec.payloads[record.event]}
        self._failed = False
        observer = self._model._observer
        if observer is not None:
            observer(record)

    def _effect(self, name: str, implementation: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(implementation)
        def run(*args: Any, **kwargs: Any) -> Any:
            if self._failed:
                return None
            try:
                return implementation(*args, **kwargs)
            except Exception as error:
                self._failed = True
                assert self._record is not None
                self._urgent = True
                try:
                    effect_raised(self._model, error, self._record, name, self._payload)
                finally:
                    self._urgent = False
                return None

        run.__signature__ = inspect.signature(implementation)  # type: ignore[attr-defined]
        return run

    def _firing(self, event: str) -> Callable[..., None]:
        carries = self.spec.payloads[event]

        def fire(model: Any, *payload: Any) -> None:
            self.send(model, event, dict(zip(carries, payload, strict=True)))

        return fire


def effect_raised(
    model: Any, error: Exception, record: TransitionRecord, effect: str, payload: Payload
) -> None:
    """
    What both engines do when effect C{effect} of the transition C{record},
    taken on an event carrying C{payload}, raised C{error}: name the
    transition on the exception, and hand it to the model.
    """
    error.add_note(
        f"httpchart: raised by the effect {effect!r} of {record.source} --{record.event}--> "
        f"{record.target} {list(record.effects)}"
    )
    queue = model._step_queue
    earlier = len(queue) if isinstance(queue, list) else 0
    model._effect_failed(error, record, effect, payload)
    queue = model._step_queue
    if earlier and isinstance(queue, list) and len(queue) > earlier:
        # What the model sent on its error path goes before what was queued.
        queue[:] = queue[earlier:] + queue[:earlier]


def _drain(model: Any) -> None:
    """
    The outermost event of a step has been handled and events were queued
    behind it, or the model wants the end of the step (its queue is then a
    list, maybe empty; see L{httpchart.statechart.Charted._when_step_ends}):
    handle the queued events in order, then end the step.
    """
    try:
        pending = model._step_queue
        while pending is not _BUSY and pending:
            handle, payload = pending.pop(0)
            if not pending:
                model._step_queue = _BUSY
            handle(model, *payload)
            pending = model._step_queue
    finally:
        model._step_queue = None
        if model._step_end_wanted:
            model._step_end_wanted = False
            model._step_ended()


def _abandon(model: Any) -> None:
    """
    End the step, which is over or ended in an exception: forget what is
    queued, and call C{model._step_ended()} if the model asked for it.
    """
    model._step_queue = None
    if model._step_end_wanted:
        model._step_end_wanted = False
        model._step_ended()


def _busiest_first(spec: ChartSpec) -> tuple[str, ...]:
    """
    The chart's states, those its optional C{busiest_states} names first:
    the order in which the compiled dispatch tests the state, which only
    changes how fast it finds it.
    """
    busiest = tuple(getattr(spec.chart, "busiest_states", ()))
    unknown = set(busiest) - set(spec.states)
    if unknown:
        raise ChartDefinitionError(f"{spec.name}: busiest_states names no state {sorted(unknown)}")
    return (*busiest, *(state for state in spec.states if state not in busiest))


def _resolve(spec: ChartSpec, model_class: type, name: str) -> tuple[Any, tuple[str, ...]]:
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
    return function, names


class _Generator:
    """
    Writes the code of the compiled dispatch: per event, C{handle_<event>}
    (choose and take the branch) and C{fire_<event>} (the same, wrapped in
    the run-to-completion bookkeeping).  A step in which nothing was queued
    and nobody asked for its end costs C{fire_<event>} two tests and
    two assignments; the rest of the bookkeeping is in L{_drain} and
    L{_abandon}.  The state is tested against the states of the event's
    cells in the order C{states} gives (the busiest first).
    """

    def __init__(
        self,
        spec: ChartSpec,
        names: Mapping[str, tuple[Any, tuple[str, ...]]],
        namespace: dict[str, Any],
        state_field: str,
        states: tuple[str, ...],
    ) -> None:
        self.spec = spec
        self.states = states
        self.names = names
        self.namespace = namespace
        self.state_field = state_field
        self.branches = 0

    def event(self, event: str) -> list[str]:
        carries = self.spec.payloads[event]
        signature = "".join(f", {name}" for name in carries)
        arguments = "(" + "".join(f"{name}, " for name in carries) + ")"
        body = self._switch(event)
        lines = [f"def handle_{event}(model{signature}):"]
        lines += [f"    {line}" for line in body]
        lines += [
            "",
            f"def fire_{event}(model{signature}):",
            "    if model._step_queue is not None:",
            "        pending = model._step_queue",
            "        if pending is _BUSY:",
            f"            model._step_queue = [(handle_{event}, {arguments})]",
            "        else:",
            f"            pending.append((handle_{event}, {arguments}))",
            "        return",
            "    model._step_queue = _BUSY",
            "    try:",
        ]
        lines += [f"        {line}" for line in body]
        lines += [
            "    except BaseException:",
            "        _abandon(model)",
            "        raise",
            "    if model._step_queue is _BUSY:",
            "        model._step_queue = None",
            "    else:",
            "        _drain(model)",
            "",
        ]
        return lines

    def _switch(self, event: str) -> list[str]:
        lines = [f"state = model.{self.state_field}"]
        keyword = "if"
        for source in self.states:
            branches = self.spec.cell(source, event)
            if not branches:
                continue
            lines.append(f"{keyword} state == {source!r}:")
            lines += [f"    {line}" for line in self._cell(event, branches)]
            keyword = "elif"
        if keyword == "if":
            return [f"_impossible(model, {event!r})"]
        lines += ["else:", f"    _impossible(model, {event!r})"]
        return lines

    def _cell(self, event: str, branches: tuple[Branch, ...]) -> list[str]:
        if not branches[0].guards:
            return self._take(branches[0])
        order = tuple(dict.fromkeys(guard.name for branch in branches for guard in branch.guards))
        return self._decide(event, branches, order, {})

    def _decide(
        self,
        event: str,
        branches: tuple[Branch, ...],
        order: tuple[str, ...],
        known: dict[str, bool],
    ) -> list[str]:
        """
        The code choosing among C{branches} once the guards in C{known} have
        the values it gives: a tree that calls each further guard only if
        the choice still depends on it, in the order C{order} gives.  The
        spec has checked that a cell's guards are exhaustive and mutually
        exclusive, so the first branch whose guards all hold is the one.
        """
        possible = [
            branch
            for branch in branches
            if all(known.get(g.name, g.expected) == g.expected for g in branch.guards)
        ]
        if not possible:
            return [f"_impossible(model, {event!r})"]
        for branch in possible:
            if all(guard.name in known for guard in branch.guards):
                return self._take(branch)
        name = next(
            name
            for name in order
            if name not in known
            and any(guard.name == name for branch in possible for guard in branch.guards)
        )
        lines = [f"if {self._call(name)}:"]
        for value in (True, False):
            if not value:
                lines.append("else:")
            chosen = self._decide(event, branches, order, {**known, name: value})
            lines += [f"    {line}" for line in chosen]
        return lines

    def _take(self, branch: Branch) -> list[str]:
        self.branches += 1
        record = f"r_{self.branches}"
        self.namespace[record] = branch.record
        lines = []
        if not branch.internal:
            lines.append(f"model.{self.state_field} = {branch.target!r}")
        lines += [
            "observer = model._observer",
            "if observer is not None:",
            f"    observer({record})",
        ]
        payload = "(" + "".join(f"{name}, " for name in self.spec.payloads[branch.event]) + ")"
        return lines + self._effects(record, branch.effects, payload)

    def _effects(self, record: str, effects: tuple[str, ...], payload: str) -> list[str]:
        # Each effect runs only if the ones before it returned: a nest of
        # try/else, which costs nothing until an effect raises.
        if not effects:
            return []
        first, rest = effects[0], effects[1:]
        lines = [
            "try:",
            f"    {self._call(first)}",
            "except Exception as failure:",
            f"    _effect_raised(model, failure, {record}, {first!r}, {payload})",
        ]
        if rest:
            lines.append("else:")
            lines += [f"    {line}" for line in self._effects(record, rest, payload)]
        return lines

    def _call(self, name: str) -> str:
        return f"f_{name}(model{''.join(f', {argument}' for argument in self.names[name][1])})"
