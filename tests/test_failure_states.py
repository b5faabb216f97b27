"""
A chart's C{failure_states} documents which states mean failure; ChartSpec
reads and checks it.
"""

from __future__ import annotations

from typing import Any

import pytest
from statemachine import StateChart

from httpchart.statechart import ChartDefinitionError, ChartSpec, ConnectionLifecycle
from httpchart.statechart.declare import Input, event, goes, state


def _probe(failure_states: tuple[str, ...] | None) -> type[StateChart[Any]]:
    a = state("A", "a", initial=True)
    b = state("B", "b")
    namespace: dict[str, Any] = {
        "inputs": {"go": Input((), "go")},
        "a": a,
        "b": b,
        "go": event(goes(a, b, doc="x") | goes(b, a, doc="y")),
    }
    if failure_states is not None:
        namespace["failure_states"] = failure_states
    return type("Probe", (StateChart,), namespace)


def test_lifecycle_failure_states_are_read_in_declaration_order() -> None:
    spec = ChartSpec.of(ConnectionLifecycle)
    assert spec.failure_states == ("GENERATION_FAILED", "ABORTING", "CONNECTION_LOST")


def test_a_chart_without_failure_states_has_none() -> None:
    assert ChartSpec.of(_probe(None)).failure_states == ()


def test_an_unknown_failure_state_is_rejected() -> None:
    with pytest.raises(ChartDefinitionError, match=r"failure_states.*unknown: \['C'\]"):
        ChartSpec.of(_probe(("B", "C")))


def test_the_initial_state_cannot_be_a_failure_state() -> None:
    with pytest.raises(ChartDefinitionError, match="other than the initial one"):
        ChartSpec.of(_probe(("A",)))
