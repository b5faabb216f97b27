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
from typing import Any, Protocol

import pytest
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from httpchart.protocol import client, llhttp, pool_host, response, tunnel
from httpchart.protocol.response import Response
from httpchart.statechart import CHARTS, BodyDelivery, Charted, ChartSpec

# The names the interfaces import for type checking only.
NAMES = {**vars(client), **vars(llhttp), **vars(pool_host), **vars(response), **vars(tunnel)}


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


def mismatches(spec: ChartSpec, interface: Any, model: type) -> list[str]:
    """
    What is wrong with C{interface} as the typed events of C{spec}'s chart
    for C{model}, one message per fault; empty when nothing is.
    """
    methods = {
        name: member
        for name, member in vars(interface).items()
        if inspect.isfunction(member) and not name.startswith("_")
    }
    missing = [event for event in spec.events if event not in methods]
    stale = [name for name in methods if name not in spec.events]
    if missing or stale:
        return [
            f"{interface.__name__} must have one method per event of {spec.name} "
            f"(missing: {missing}, not events: {stale})"
        ]
    faults = []
    for event, method in methods.items():
        parameters = list(inspect.signature(method).parameters)
        if parameters != ["self", "model", *spec.payloads[event]]:
            faults.append(
                f"{interface.__name__}.{event} takes {parameters[1:]}; {spec.name}'s "
                f"inputs say (model, {', '.join(spec.payloads[event])})"
            )
            continue
        hints = typing.get_type_hints(method, localns=NAMES)
        if not (isinstance(hints.get("model"), type) and issubclass(model, hints["model"])):
            faults.append(f"{interface.__name__}.{event}'s model must be {model.__qualname__}")
        if any(name not in hints for name in spec.payloads[event]):
            faults.append(f"{interface.__name__}.{event} must annotate every payload")
    return faults


@pytest.mark.parametrize("chart", CHARTS, ids=lambda chart: chart.__name__)
def test_each_interface_lists_the_chart_s_events_with_their_payloads(chart: type) -> None:
    spec = ChartSpec.of(chart)
    for model in (m for m in _models() if m.chart is chart):
        assert mismatches(spec, _interface(model), model) == []


class _Stale(Protocol):
    def deliver(self, model: Response, protocol: Any) -> None: ...

    def data(self, model: Response, data: bytes) -> None: ...

    def finish(self, model: Response, reason: Failure) -> None: ...

    def discard(self, model: Response, deferred: Deferred[bool]) -> None: ...


class _Reordered(Protocol):
    def deliver(self, model: Response, protocol: Any) -> None: ...

    def data(self, model: Response, data: bytes) -> None: ...

    def finished(self, model: Response, why: Failure) -> None: ...

    def discard(self, model: Response, deferred: Deferred[bool]) -> None: ...


def test_a_stale_or_reordered_interface_is_named() -> None:
    spec = ChartSpec.of(BodyDelivery)
    assert mismatches(spec, _Stale, Response) == [
        "_Stale must have one method per event of BodyDelivery "
        "(missing: ['finished'], not events: ['finish'])"
    ]
    assert mismatches(spec, _Reordered, Response) == [
        "_Reordered.finished takes ['model', 'why']; BodyDelivery's inputs say (model, reason)"
    ]
