"""
L{Charted}: the base of a class whose instances each run a declared chart.

A subclass names its chart in C{chart}; when the class is created (and for
each subclass of it, which may override effects or guards), the chart is
compiled once for that class into L{CompiledEngine}, whose per-event
functions are then C{cls._fire.<event>(instance, *payload)}.  The class-level
defaults are what the engines expect of a model, and cost an instance
nothing until it handles an event.
"""

from __future__ import annotations

from typing import Any, ClassVar

from statemachine import StateChart

from .engines import CompiledEngine
from .spec import ChartSpec


class Charted:
    """
    A model of a declared chart, compiled once per class.

    @cvar chart: The chart this class is a model of.
    """

    chart: ClassVar[type[StateChart[Any]]]
    _compiled: ClassVar[CompiledEngine]
    _fire: Any

    _pending_events: object = None
    _observer: Any = None
    _after_step: Any = None

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
