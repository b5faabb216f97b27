"""
L{Recorder}: keeps the transitions a chart takes, for the trace view.

A model reports each transition to its observer, when it has one, with the
L{TransitionRecord} of the branch taken.  A recorder is such an observer: it
appends the record, which the engines build once per declared branch and
share, so recording costs one append per transition.  A connection created
without an observer has none to call, so not recording costs nothing at all.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from .spec import TransitionRecord


class Recorder:
    """
    An observer that keeps the records of the transitions it is told about,
    oldest first.

    Pass it as a connection's C{observer} and hand its records to
    L{httpchart.diagrams.trace_dot} to see the path the connection took.

    @ivar limit: How many records are kept; older ones are dropped first.
        C{None} keeps them all, which suits one request; a long-lived
        connection is better served by a limit.
    @ivar dropped: How many records were dropped because of C{limit}.
    """

    def __init__(self, limit: int | None = None) -> None:
        if limit is not None and limit < 1:
            raise ValueError(f"a recorder's limit must be positive, not {limit}")
        self.limit = limit
        self.dropped = 0
        self._records: deque[TransitionRecord] = deque(maxlen=limit)

    def __call__(self, record: TransitionRecord) -> None:
        """
        Keep C{record}, dropping the oldest one if the limit is reached.
        """
        if len(self._records) == self.limit:
            self.dropped += 1
        self._records.append(record)

    @property
    def records(self) -> tuple[TransitionRecord, ...]:
        """
        The records kept, oldest first.
        """
        return tuple(self._records)

    @property
    def first_number(self) -> int:
        """
        The position in the whole run, counting from 1, of the oldest record
        kept: what the trace view numbers it.
        """
        return self.dropped + 1

    def __iter__(self) -> Iterator[TransitionRecord]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def clear(self) -> None:
        """
        Forget every record, to start a new trace.
        """
        self._records.clear()
        self.dropped = 0
