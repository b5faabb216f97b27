"""
The declared chart has exactly the transitions of the transition table, and
the declaration is checked when it is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from statemachine import StateChart

from httpchart.statechart import CHARTS as ALL_CHARTS
from httpchart.statechart import (
    BodyDelivery,
    ChartDefinitionError,
    ChartSpec,
    ConnectionLifecycle,
    HostPool,
    LifecycleError,
    ResponseParsing,
    TunnelSetup,
)
from httpchart.statechart.declare import Input, event, goes, state, stays

from .tables import body_table as body
from .tables import parsing_table as parsing
from .tables import pool_table as pool
from .tables import transition_table as connection
from .tables import tunnel_table as tunnel
from .tables.transition_table import Impossible, Row

SPEC = ChartSpec.of(ConnectionLifecycle)

Key = tuple[str, str, frozenset[str], str, tuple[str, ...]]


@dataclass(frozen=True)
class Tabled:
    """
    A declared chart and the hand-written table it must match.
    """

    chart: type[StateChart[Any]]
    states: tuple[str, ...]
    events: tuple[str, ...]
    table: tuple[Row | Impossible, ...]

    @property
    def spec(self) -> ChartSpec:
        return ChartSpec.of(self.chart)

    @property
    def rows(self) -> tuple[Row, ...]:
        return tuple(entry for entry in self.table if isinstance(entry, Row))

    @property
    def impossible(self) -> tuple[Impossible, ...]:
        return tuple(entry for entry in self.table if isinstance(entry, Impossible))


CHARTS = [
    Tabled(ConnectionLifecycle, connection.STATES, connection.EVENTS, connection.TABLE),
    Tabled(ResponseParsing, parsing.STATES, parsing.EVENTS, parsing.TABLE),
    Tabled(BodyDelivery, body.STATES, body.EVENTS, body.TABLE),
    Tabled(TunnelSetup, tunnel.STATES, tunnel.EVENTS, tunnel.TABLE),
    Tabled(HostPool, pool.STATES, pool.EVENTS, pool.TABLE),
]
each_chart = pytest.mark.parametrize("tabled", CHARTS, ids=lambda t: t.chart.__name__)


def _declared(spec: ChartSpec) -> set[Key]:
    return {
        (b.source, b.event, frozenset(map(str, b.guards)), b.target, b.effects)
        for b in spec.all_branches()
    }


def _tabled(rows: tuple[Row, ...]) -> set[Key]:
    return {(r.state, r.event, r.guards, r.target, r.effects) for r in rows}


def test_every_chart_has_a_table() -> None:
    assert {t.chart for t in CHARTS} == set(ALL_CHARTS)


@each_chart
def test_chart_has_the_tables_states_and_events_in_order(tabled: Tabled) -> None:
    assert tabled.spec.states == tabled.states
    assert tabled.spec.events == tabled.events
    assert tabled.spec.initial == tabled.states[0]


@each_chart
def test_table_covers_every_cell_exactly_once(tabled: Tabled) -> None:
    rows, impossible = tabled.rows, tabled.impossible
    cells = [(r.state, r.event) for r in rows] + [(c.state, c.event) for c in impossible]
    assert set(cells) == {(s, e) for s in tabled.states for e in tabled.events}
    assert not {(c.state, c.event) for c in impossible} & {(r.state, r.event) for r in rows}
    assert len(set(rows)) == len(rows)


@each_chart
def test_chart_declares_every_row_of_the_table(tabled: Tabled) -> None:
    assert _tabled(tabled.rows) - _declared(tabled.spec) == set()


@each_chart
def test_chart_declares_nothing_the_table_lacks(tabled: Tabled) -> None:
    assert _declared(tabled.spec) - _tabled(tabled.rows) == set()


@each_chart
def test_impossible_cells_have_no_transition(tabled: Tabled) -> None:
    for cell in tabled.impossible:
        assert tabled.spec.cell(cell.state, cell.event) == ()
        assert cell.why


@each_chart
def test_a_transition_is_internal_exactly_when_it_stays_put(tabled: Tabled) -> None:
    for branch in tabled.spec.all_branches():
        assert branch.internal == (branch.source == branch.target), branch


@each_chart
def test_every_state_event_and_transition_is_documented(tabled: Tabled) -> None:
    spec = tabled.spec
    assert all(spec.state_docs[s] for s in spec.states)
    assert all(spec.event_docs[e] for e in spec.events)
    assert [b.record for b in spec.all_branches() if not b.doc] == []


def test_connection_lost_is_the_only_terminal_state() -> None:
    assert SPEC.terminal_states() == ("CONNECTION_LOST",)


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
