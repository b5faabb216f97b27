"""
Watching connections change state.

A single connection takes an C{observer} that receives each
L{TransitionRecord} (see L{HTTP11ClientProtocol}).  A connection pool takes a
L{ConnectionObserver} instead: the same record, preceded by the number the
pool gave the connection, so that one observer can follow every connection it
opens.  This module holds the observers httpchart ships:

  - L{log_transition} emits each transition as a L{twisted.logger} event in
    the L{TRANSITIONS} namespace;
  - L{Trace} writes one line per transition to a text stream, as
    C{httpchart get --trace} and C{httpchart demo} print them.

Nothing is observed unless someone passes an observer: a connection without
one skips observation altogether, so the hooks cost nothing when unused.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import IO

from twisted.logger import Logger

from httpchart.statechart import TransitionRecord

ConnectionObserver = Callable[[int, TransitionRecord], object]
"""
Called with a connection's number and each L{TransitionRecord} of that
connection, before the transition's effects run.
"""

TRANSITIONS = "httpchart.protocol.transitions"
"""
The L{twisted.logger} namespace of the events L{log_transition} emits.
"""

_transitions = Logger(namespace=TRANSITIONS)


def log_transition(connection: int, record: TransitionRecord) -> None:
    """
    A L{ConnectionObserver} that emits every transition as a debug-level
    L{twisted.logger} event in the L{TRANSITIONS} namespace.

    The event carries C{connection} (the connection's number), C{source},
    C{event}, C{target} and C{effects} (a tuple of effect names, in the order
    they run), so log observers can filter and aggregate on them.
    """
    _transitions.debug(
        "#{connection} {source} --{event}--> {target} / {effect_list}",
        connection=connection,
        source=record.source,
        event=record.event,
        target=record.target,
        effects=record.effects,
        effect_list=", ".join(record.effects) or "-",
    )


def format_transition(elapsed: float, connection: int, record: TransitionRecord) -> str:
    """
    One transition as a line of text: time since the start in milliseconds,
    the connection's number, the transition and its effects.
    """
    effects = ", ".join(record.effects) or "-"
    return (
        f"{elapsed * 1000:9.1f}ms  #{connection}  "
        f"{record.source} --{record.event}--> {record.target}  / {effects}"
    )


class Trace:
    """
    A L{ConnectionObserver} that writes each transition to C{out} as a line
    of L{format_transition}, timed from the trace's creation.
    """

    def __init__(self, out: IO[str], clock: Callable[[], float] = time.monotonic) -> None:
        self._out = out
        self._clock = clock
        self._started = clock()

    def __call__(self, connection: int, record: TransitionRecord) -> None:
        elapsed = self._clock() - self._started
        self._out.write(format_transition(elapsed, connection, record) + "\n")
        self._out.flush()
