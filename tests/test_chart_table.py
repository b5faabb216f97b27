"""
The declared chart has exactly the transitions of the transition table, and
the declaration is checked when it is read.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from statemachine import StateChart

from httpchart.statechart import (
    ChartDefinitionError,
    ChartSpec,
    ConnectionLifecycle,
    LifecycleError,
)
from httpchart.statechart.declare import Input, event, goes, state, stays

from .transition_table import EVENTS, IMPOSSIBLE, ROWS, STATES

SPEC = ChartSpec.of(ConnectionLifecycle)


def _declared() -> set[tuple[str, str, frozenset[str], str, tuple[str, ...]]]:
    return {
        (b.source, b.event, frozenset(map(str, b.guards)), b.target, b.effects)
        for b in SPEC.all_branches()
    }


def _tabled() -> set[tuple[str, str, frozenset[str], str, tuple[str, ...]]]:
    return {(r.state, r.event, r.guards, r.target, r.effects) for r in ROWS}


def test_chart_has_the_tables_states_and_events_in_order() -> None:
    assert SPEC.states == STATES
    assert SPEC.events == EVENTS
    assert SPEC.initial == "QUIESCENT"


def test_table_covers_every_cell_exactly_once() -> None:
    cells = [(r.state, r.event) for r in ROWS] + [(c.state, c.event) for c in IMPOSSIBLE]
    assert set(cells) == {(s, e) for s in STATES for e in EVENTS}
    assert not {(c.state, c.event) for c in IMPOSSIBLE} & {(r.state, r.event) for r in ROWS}
    assert len(set(ROWS)) == len(ROWS)


def test_chart_declares_every_row_of_the_table() -> None:
    assert _tabled() - _declared() == set()


def test_chart_declares_nothing_the_table_lacks() -> None:
    assert _declared() - _tabled() == set()


def test_impossible_cells_have_no_transition() -> None:
    for cell in IMPOSSIBLE:
        assert SPEC.cell(cell.state, cell.event) == ()
        assert cell.why


def test_a_transition_is_internal_exactly_when_it_stays_put() -> None:
    for branch in SPEC.all_branches():
        assert branch.internal == (branch.source == branch.target), branch


def test_connection_lost_is_the_only_terminal_state() -> None:
    assert SPEC.terminal_states() == ("CONNECTION_LOST",)


def test_every_state_event_and_transition_is_documented() -> None:
    assert all(SPEC.state_docs[s] for s in SPEC.states)
    assert all(SPEC.event_docs[e] for e in SPEC.events)
    undocumented = [b.record for b in SPEC.all_branches() if not b.doc]
    assert undocumented == []


def test_every_effect_and_guard_is_described() -> None:
    assert set(SPEC.effect_docs) == set(SPEC.effects)
    assert set(SPEC.guard_docs) == set(SPEC.guards)
    assert all(SPEC.effect_docs.values())
    assert all(SPEC.guard_docs.values())


def test_an_undescribed_effect_is_rejected() -> None:
    a = state("A", "a", initial=True)
    b = state("B", "b")
    go = event(goes(a, b, effects=("jump",), doc="x") | goes(b, a, doc="y"))
    with pytest.raises(ChartDefinitionError, match=r"outputs must describe.*'jump'"):
        ChartSpec.of(_chart(a=a, b=b, go=go))


def test_every_event_declares_its_payload() -> None:
    assert set(SPEC.payloads) == set(SPEC.events)
    assert SPEC.payloads["issue"] == ("request", "deferred")


def test_lifecycle_error_names_chart_state_and_event() -> None:
    error = LifecycleError("ConnectionLifecycle", "WAITING", "write_done")
    assert (error.state, error.event) == ("WAITING", "write_done")
    assert str(error) == "ConnectionLifecycle: event 'write_done' cannot happen in state WAITING"


def _chart(**members: Any) -> type[StateChart[Any]]:
    namespace: dict[str, Any] = {"inputs": {"go": Input((), "go")}}
    namespace.update(members)
    return type("Probe", (StateChart,), namespace)


def test_overlapping_guards_are_rejected() -> None:
    a = state("A", "a", initial=True)
    b = state("B", "b")
    go = event(goes(a, b, cond=("ready",), doc="x") | stays(a, cond=("set",), doc="y"))
    back = event(goes(b, a, doc="z"))
    with pytest.raises(ChartDefinitionError, match="exhaustive and mutually exclusive"):
        ChartSpec.of(
            _chart(
                a=a,
                b=b,
                go=go,
                back=back,
                inputs={"go": Input((), "go"), "back": Input((), "back")},
            )
        )


def test_a_guard_expression_is_rejected() -> None:
    a = state("A", "a", initial=True)
    b = state("B", "b")
    go = event(a.to(b, cond="ready and set") | b.to(a))
    with pytest.raises(ChartDefinitionError, match="plain name"):
        ChartSpec.of(_chart(a=a, b=b, go=go))


def test_on_callbacks_are_rejected_in_favour_of_effects() -> None:
    a = state("A", "a", initial=True)
    b = state("B", "b")
    go = event(a.to(b, on="act") | b.to(a))
    with pytest.raises(ChartDefinitionError, match="on callbacks are not supported"):
        ChartSpec.of(_chart(a=a, b=b, go=go))


def test_missing_payload_declaration_is_rejected() -> None:
    a = state("A", "a", initial=True)
    b = state("B", "b")
    go = event(goes(a, b, doc="x") | goes(b, a, doc="y"))
    leave = event(goes(a, b, doc="x"))
    with pytest.raises(ChartDefinitionError, match="missing: \\['leave'\\]"):
        ChartSpec.of(_chart(a=a, b=b, go=go, leave=leave))


def test_an_effect_named_like_an_event_is_rejected() -> None:
    a = state("A", "a", initial=True)
    b = state("B", "b")
    go = event(goes(a, b, effects=("go",), doc="x") | goes(b, a, doc="y"))
    with pytest.raises(ChartDefinitionError, match="named like events"):
        ChartSpec.of(_chart(a=a, b=b, go=go))


class _Unimplemented(StateChart[Any]):
    inputs: ClassVar[dict[str, Input]] = {"go": Input(("value",), "go")}
    outputs: ClassVar[dict[str, str]] = {"jump": "jump"}
    a = state("A", "a", initial=True)
    b = state("B", "b")
    go = event(goes(a, b, effects=("jump",), doc="x") | goes(b, a, doc="y"))


def test_a_model_must_implement_every_effect() -> None:
    from httpchart.statechart import CompiledEngine

    class Model:
        pass

    with pytest.raises(ChartDefinitionError, match="'_jump'"):
        CompiledEngine(ChartSpec.of(_Unimplemented), Model)


def test_an_effect_may_only_take_what_its_events_carry() -> None:
    from httpchart.statechart import CompiledEngine

    class Model:
        def _jump(self, height: int) -> None:
            raise AssertionError("never called")

    with pytest.raises(ChartDefinitionError, match="takes \\['height'\\]"):
        CompiledEngine(ChartSpec.of(_Unimplemented), Model)
