"""
The exhaustive checker of the pool (tests/support/pool_checker.py): every sequence
of the pool's inputs up to a depth keeps the pool's invariants, takes only
transitions of the pool's table, and takes every one of them; the
reference engine takes the same transitions as the compiled one.

C{HTTPCHART_POOL_CHECK_DEPTH} sets the depth (5 by default, which reaches
every row; C{make check-deep} takes it to 6); the reference engine, slower
by two orders of magnitude, goes two inputs less deep.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from httpchart.protocol import HTTPConnectionPool
from httpchart.statechart import TransitionRecord

from .support.pool_checker import INPUTS, ReferencePool, explore
from .tables import pool_table

DEPTH = int(os.environ.get("HTTPCHART_POOL_CHECK_DEPTH", "5"))
REFERENCE_DEPTH = max(1, DEPTH - 2)
ROWS = {TransitionRecord(row.state, row.event, row.target, row.effects) for row in pool_table.ROWS}


def test_every_sequence_keeps_the_invariants_and_covers_the_table(
    report: Callable[[str], None],
) -> None:
    started = time.monotonic()
    coverage = explore(HTTPConnectionPool, DEPTH)
    report(
        f"pool, compiled engine, depth {DEPTH}: {coverage.sequences} sequences, "
        f"{coverage.steps} inputs applied, {len(coverage.records & ROWS)}/{len(ROWS)} "
        f"table rows, {time.monotonic() - started:.1f} s"
    )
    assert coverage.failures[:5] == []
    assert coverage.records - ROWS == set()
    if DEPTH >= 5:
        assert ROWS - coverage.records == set()


def test_the_reference_engine_takes_the_same_transitions(
    report: Callable[[str], None],
) -> None:
    started = time.monotonic()
    coverage = explore(ReferencePool, REFERENCE_DEPTH, twin=HTTPConnectionPool)
    report(
        f"pool, reference engine against compiled, depth {REFERENCE_DEPTH}: "
        f"{coverage.sequences} sequences, {len(coverage.records & ROWS)}/{len(ROWS)} "
        f"table rows, {time.monotonic() - started:.1f} s"
    )
    assert coverage.failures[:5] == []
    assert coverage.records - ROWS == set()
    assert coverage.sequences >= len(INPUTS)
