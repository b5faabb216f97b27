"""
L{Charted}: the base of a class whose instances each run a declared chart,
and the interface between the engines and such a model.

A subclass names its chart in C{chart}; when the class is created (and for
each subclass of it, which may override effects or guards), the chart is
compiled once for that class into L{CompiledEngine}, whose per-event
functions are then C{cls._fire.<event>(instance, *payload)}.  A subclass
annotates C{_fire} with its chart's typed event interface (a
C{typing.Protocol} with one method per event, taking the model and the
payload in the order the chart's C{inputs} declare it), so that C{mypy}
checks every event sent and its payload.

The engine-model interface (L{ChartModel}) is all the engines touch of a
model besides its guards and effects, and the class-level defaults of
L{Charted} cost an instance nothing until it handles an event:

  - C{_state}: the state's value (the field's name is the engine's
    C{state_field});
  - C{_observer}: called with the L{TransitionRecord} of every transition
    before its effects, when not C{None};
  - C{_step_queue}: the engine's own bookkeeping, C{None} exactly when no
    event of this model is being handled; a model asks L{Charted._in_step}
    rather than reading it;
  - C{_step_end_wanted} and C{_step_ended()}: a model that wants to act
    once the current step is over (the outermost event and everything queued
    behind it handled) calls L{Charted._when_step_ends}, which sets the
    flag and turns the queue into a list (so that the compiled dispatch,
    which ends a step at once while nothing is queued, looks further); the
    engine then resets the flag and calls C{_step_ended()};
  - C{_effect_failed(error, record, effect, payload)}: called by the
    engine, inside the step, when effect C{effect} of the transition
    C{record}, taken on an event that carried C{payload} (by name), raised
    C{error}.  The transition's later effects are skipped; events queued
    before and during the failure are still handled, in order.  The default
    re-raises, which ends the step and drops what is queued; a model that
    declares an error path in its chart fires its event here instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol

from statemachine import StateChart

from .engines import _BUSY, CompiledEngine
from .spec import ChartSpec, TransitionRecord


class ChartModel(Protocol):
    """
    What the engines require of a model, besides its guards and effects
    (see this module's docstring).
    """

    _observer: Callable[[TransitionRecord], object] | None
    _step_queue: object
    _step_end_wanted: bool

    def _step_ended(self) -> None:
        """
        The step during which L{Charted._when_step_ends} was called is over.
        """

    def _effect_failed(
        self, error: Exception, record: TransitionRecord, effect: str, payload: Mapping[str, Any]
    ) -> None:
        """
        Effect C{effect} of the transition C{record} raised C{error}.
        """


class Charted:
    """
    A model of a declared chart, compiled once per class.

    @cvar chart: The chart this class is a model of.
    """

    chart: ClassVar[type[StateChart[Any]]]
    _compiled: ClassVar[CompiledEngine]
    _fire: Any

    _observer: Any = None
    _step_queue: object = None
    _step_end_wanted: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._compile()

    @classmethod
    def _compile(cls) -> None:
        """
        Derive this class's dispatch from its chart.
        """
        cls._compiled = CompiledEngine(ChartSpec.of(cls.chart), cls)
        cls._fire = cls._compiled.fire

    def _in_step(self) -> bool:
        """
        Whether an engine is handling an event of this model right now.
        """
        return self._step_queue is not None

    def _when_step_ends(self) -> None:
        """
        Have L{_step_ended} called once the current step is over, or now if
        no step is running.
        """
        queue = self._step_queue
        if queue is None:
            self._step_ended()
        else:
            self._step_end_wanted = True
            if queue is _BUSY:
                # The compiled dispatch ends a step at once while its queue
                # is this marker: a list, even empty, makes it look further.
                self._step_queue = []

    def _step_ended(self) -> None:
        """
        The step is over; see L{_when_step_ends}.  Does nothing unless a
        model overrides it.
        """

    def _effect_failed(
        self, error: Exception, record: TransitionRecord, effect: str, payload: Mapping[str, Any]
    ) -> None:
        """
        An effect raised: by default, let the exception end the step and
        reach whoever sent the outermost event.
        """
        raise error
