"""
Every sequence of tunnel inputs up to a depth keeps every promise the
tunnel's set-up makes (tests/support/tunnel_checker.py says which), on both engines,
and reaches every row of its table.

The depth is C{HTTPCHART_TUNNEL_CHECK_DEPTH} (7 by default: some 1.4 million
sequences; every row is reached from depth 4); the reference engine runs
two inputs shallower and must build the same graph.  The checker itself is
checked: tunnels broken on purpose must be caught.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from twisted.python.failure import Failure

from httpchart.protocol import OriginTLSFailed
from httpchart.protocol.tunnel import Tunnel

from .support.rig import spied
from .support.tunnel_checker import TABLE_RECORDS, TunnelViolation, explore

DEPTH = int(os.environ.get("HTTPCHART_TUNNEL_CHECK_DEPTH", "7"))
REFERENCE_DEPTH = max(DEPTH - 2, 4)


def test_every_sequence_keeps_every_promise_and_reaches_every_row(
    report: Callable[[str], None],
) -> None:
    exploration = explore("compiled", DEPTH)
    report(exploration.summary())
    assert exploration.rows() == TABLE_RECORDS


def test_the_reference_engine_builds_the_same_graph(report: Callable[[str], None]) -> None:
    reference = explore("reference", REFERENCE_DEPTH)
    report(reference.summary())
    compiled = explore("compiled", REFERENCE_DEPTH)
    assert reference.graph == compiled.graph
    assert reference.sequences() == compiled.sequences()


class _LeavesFailuresOpen(Tunnel):
    def _abort_transport(self) -> None:
        pass


class _ForgetsTheTimer(Tunnel):
    def _stop_timer(self) -> None:
        pass


class _ReportsEveryLossAsTLS(Tunnel):
    def _fail_lost(self, reason: Failure) -> None:
        self._fail(OriginTLSFailed(reason, **self._where()))


class _HandsOverTwice(Tunnel):
    def _pass_loss(self, reason: Failure) -> None:
        Tunnel._pass_loss(self, reason)
        Tunnel._pass_loss(self, reason)


@pytest.mark.parametrize(
    ("broken", "complaint"),
    [
        (_LeavesFailuresOpen, "left the connection to the proxy open"),
        (_ForgetsTheTimer, "timer pending"),
        (_ReportsEveryLossAsTLS, "OriginTLSFailed does not fit lost"),
        (_HandsOverTwice, "told of 2 losses"),
    ],
    ids=lambda value: value.__name__.strip("_") if isinstance(value, type) else "complaint",
)
def test_a_broken_tunnel_is_caught(broken: type[Any], complaint: str) -> None:
    with pytest.raises(TunnelViolation, match=complaint):
        explore("compiled", 5, spied(broken))
