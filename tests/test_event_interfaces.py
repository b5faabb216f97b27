"""
Every chart has a typed event interface, and it says exactly what the chart
declares: one method per event, taking the model and then the event's
payload by the names and in the order of the chart's C{inputs}.  A chart
that gains an event, or an interface that misspells or reorders one, fails
here with a message naming it; C{mypy --strict} then checks every call site
against the interface.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

import pytest

from httpchart.protocol import client, llhttp, response
from httpchart.statechart import CHARTS, Charted, ChartSpec

# The names the interfaces import for type checking only.
NAMES = {**vars(client), **vars(llhttp), **vars(response)}


def _models() -> list[type[Charted]]:
    found: list[type[Charted]] = []
    pending = list(Charted.__subclasses__())
    while pending:
        model = pending.pop()
        pending += model.__subclasses__()
        if model.__module__.startswith("httpchart."):
            found.append(model)
    return found


def _interface(model: type[Charted]) -> Any:
    return typing.get_type_hints(model)["_fire"]


@pytest.mark.parametrize("chart", CHARTS, ids=lambda chart: chart.__name__)
def test_each_chart_has_a_model_with_a_typed_event_interface(chart: type) -> None:
    models = [model for model in _models() if model.chart is chart]
    assert models, f"no model in httpchart.protocol runs {chart.__name__}"
    for model in models:
        interface = _interface(model)
        assert getattr(interface, "_is_protocol", False), (
            f"{model.__qualname__}._fire must be annotated with {chart.__name__}'s "
            "typed event interface (a typing.Protocol in httpchart.protocol.events)"
        )


@pytest.mark.parametrize("chart", CHARTS, ids=lambda chart: chart.__name__)
def test_each_interface_lists_the_chart_s_events_with_their_payloads(chart: type) -> None:
    spec = ChartSpec.of(chart)
    for model in (m for m in _models() if m.chart is chart):
        interface = _interface(model)
        methods = {
            name: member
            for name, member in vars(interface).items()
            if inspect.isfunction(member) and not name.startswith("_")
        }
        missing = [event for event in spec.events if event not in methods]
        stale = [name for name in methods if name not in spec.events]
        assert (missing, stale) == ([], []), (
            f"{interface.__name__} must have one method per event of {spec.name} "
            f"(missing: {missing}, not events: {stale})"
        )
        for event, method in methods.items():
            parameters = list(inspect.signature(method).parameters)
            expected = ["self", "model", *spec.payloads[event]]
            assert parameters == expected, (
                f"{interface.__name__}.{event} takes {parameters[1:]}; {spec.name}'s "
                f"inputs say (model, {', '.join(spec.payloads[event])})"
            )
            hints = typing.get_type_hints(method, localns=NAMES)
            assert hints["model"] is model or issubclass(model, hints["model"]), (
                f"{interface.__name__}.{event}'s model must be {model.__qualname__}"
            )
            assert all(name in hints for name in spec.payloads[event]), (
                f"{interface.__name__}.{event} must annotate every payload"
            )
