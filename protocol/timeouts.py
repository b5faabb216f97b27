"""
L{Timeouts}: how long a connection waits, and L{TimedOut}, what a request
fails with when it waited too long.

The connection's chart starts and stops each timer by name (its effects
C{start_total_timer}, C{start_response_timer}, C{stop_timers}, ...), in
the states the timer guards, and a timer that expires is the chart's
C{timeout} event (or C{continue_timeout} for C{expect_continue}).  Behind
those names, L{Deadlines} keeps the deadlines of one connection, and a
L{_Schedule} per clock keeps, for every connection with a deadline, the
time to look at it again, behind one L{IDelayedCall} for the earliest:
bytes arriving only move the read deadline forward (a float assignment),
a connection looked at early re-arms itself for what is now its earliest
deadline, and starting a request's timers is at most a push on a heap
rather than a delayed call of its own: a connection whose last request's
entry is still in the heap takes that entry over, since its new deadlines
come later.  When no connection of a clock has a deadline, the clock holds
no delayed call: no timer outlives the states it guards.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from typing import Any, Literal
from weakref import WeakKeyDictionary

from twisted.internet.error import TimeoutError
from twisted.internet.interfaces import IDelayedCall, IReactorTime

TimerName = Literal["response", "read", "total", "expect_continue"]
_SLACK = 1e-6
# Schedule entries are ordered by time, then by this ticket, unique to each
# entry, so that entries never compare their connections.
_tickets = count(1)


@dataclass(frozen=True)
class Timeouts:
    """
    How long a connection waits, in seconds; C{None} does not wait at all
    for that limit.

    @ivar response: From the moment the request is fully written until the
        response's head is complete.
    @ivar read: The longest silence allowed between two reads while a
        response's head or body is awaited.  Time the transport spends
        paused by the response's consumer does not count.
    @ivar total: From C{request()} until the response's body has ended (or
        the response failed).
    @ivar expect_continue: For a request with a body and C{Expect:
        100-continue}: how long to wait for C{100 Continue} (or a final
        response) before writing the body anyway.  C{None} waits as long as
        the other limits allow.
    """

    response: float | None = None
    read: float | None = None
    total: float | None = None
    expect_continue: float | None = 1.0

    def __post_init__(self) -> None:
        for name in ("response", "read", "total", "expect_continue"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"Timeouts.{name} must be positive or None, not {value!r}")


class TimedOut(TimeoutError):
    """
    A request waited longer than one of its L{Timeouts}.  It is the reason
    inside Twisted's usual wrapper: L{ResponseNeverReceived
    <twisted.web.client.ResponseNeverReceived>} when no byte of the
    response arrived, L{ResponseFailed <twisted.web.client.ResponseFailed>}
    (or a body that ends with it) otherwise; code that traps L{twisted.internet.error.TimeoutError}
    catches it.

    @ivar timeout: Which limit: C{"response"}, C{"read"} or C{"total"}.
    @ivar seconds: Its value.
    """

    def __init__(self, timeout: TimerName, seconds: float) -> None:
        TimeoutError.__init__(self, f"{timeout} timeout of {seconds:g} s")
        self.timeout = timeout
        self.seconds = seconds

    def __str__(self) -> str:
        return f"the {self.timeout} timeout of {self.seconds:g} s expired"


def default_clock() -> IReactorTime:
    """
    The global reactor, imported only when a connection needs a clock.
    """
    from twisted.internet import reactor

    clock: IReactorTime = reactor
    return clock


class _Schedule:
    """
    The connections of one clock that have a deadline, in a heap by the
    time each should be looked at, behind one delayed call for the
    earliest.

    An entry is valid while its ticket is its connection's; it is I{live}
    while the connection has a deadline, and I{resting} once the
    connection's deadlines are all cleared: a resting entry stays in the
    heap, and the connection's next deadline at or after its time takes it
    over instead of pushing a new one (the connection is then looked at
    early and re-arms, as for a read deadline that moved).  Re-armed and
    replaced entries go stale and are skipped; the heap is compacted, its
    resting entries let go, when the entries outnumber the live ones.
    When no entry is live the heap is forgotten with every resting entry
    in it (a new epoch), and the delayed call is cancelled.

    Invariant: while an entry is live, the delayed call is due no later
    than any valid entry.

    @ivar live: How many connections have a live entry.
    @ivar epoch: How many times the heap was forgotten: a resting entry
        of an older epoch is gone.
    """

    __slots__ = ("call", "clock", "epoch", "heap", "live")

    def __init__(self, clock: IReactorTime) -> None:
        self.clock = clock
        self.heap: list[tuple[float, int, Deadlines]] = []
        self.call: IDelayedCall | None = None
        self.live = 0
        self.epoch = 0

    def push(self, at: float, owner: Deadlines) -> None:
        heap = self.heap
        heapq.heappush(heap, (at, owner.generation, owner))
        self.live += 1
        call = self.call
        if call is None:
            self.call = self.clock.callLater(max(at - self.clock.seconds(), 0.0), self._fire)
        elif at < call.getTime() - _SLACK:
            call.reset(max(at - self.clock.seconds(), 0.0))
        if len(heap) > 4 * self.live + 64:
            self._compact()

    def _compact(self) -> None:
        """
        Keep only the live entries; resting ones are let go.
        """
        kept = []
        for entry in self.heap:
            owner = entry[2]
            if owner.generation == entry[1]:
                if owner.armed_at is None:
                    owner.rest_at = None
                    owner.generation = 0
                else:
                    kept.append(entry)
        heapq.heapify(kept)
        self.heap = kept

    def forget(self) -> None:
        """
        No entry is live: drop the heap, with its resting entries, and
        cancel the call.
        """
        self.heap = []
        self.epoch += 1
        call, self.call = self.call, None
        if call is not None:
            call.cancel()

    def _fire(self) -> None:
        self.call = None
        now = self.clock.seconds()
        heap = self.heap
        due = []
        while heap and heap[0][0] <= now + _SLACK:
            _, generation, owner = heapq.heappop(heap)
            if owner.generation == generation and owner.consume():
                due.append(owner)
        for owner in due:
            owner.due(now)
        if self.live == 0:
            self.forget()
        else:
            self._rearm()

    def _rearm(self) -> None:
        """
        Be due again for the earliest valid entry.  A connection that
        re-armed while the others were looked at made a call for its own
        time, which may be later.
        """
        heap = self.heap
        while heap[0][2].generation != heap[0][1]:
            heapq.heappop(heap)
        at = heap[0][0]
        call = self.call
        if call is None:
            self.call = self.clock.callLater(max(at - self.clock.seconds(), 0.0), self._fire)
        elif at < call.getTime() - _SLACK:
            call.reset(max(at - self.clock.seconds(), 0.0))


_schedules: WeakKeyDictionary[Any, _Schedule] = WeakKeyDictionary()


def _schedule_of(clock: IReactorTime) -> _Schedule:
    schedule = _schedules.get(clock)
    if schedule is None:
        schedule = _schedules[clock] = _Schedule(clock)
    return schedule


class Deadlines:
    """
    The deadlines of one connection's timers.

    Each C{start_*} or C{stop_*} sets or clears one deadline; L{stop}
    clears them all.  The connection has a live entry in its clock's
    schedule exactly while it has a deadline, armed for a time no later
    than its earliest one.  When that time comes, the first deadline that
    has passed is reported to C{expired} with the timer's name; if none has
    (the read deadline moved meanwhile, or the entry was taken over from a
    resting one), the connection is armed again for its earliest one.

    When its last deadline is cleared, the connection's entry rests rather
    than going stale: a connection that lives on (a pooled one between
    requests) starts its next request's timers, whose deadlines come after
    that entry's time, without a push on the heap or a new ticket.  A
    resting entry keeps no delayed call alive, and a connection that is
    lost never starts a timer again, so for it the entry is as good as
    stale.

    @ivar clock: Where time comes from; C{None} until a timer first needs
        it, then the global reactor (so that building a connection does not
        install a reactor).
    @ivar read_from: When the silence the read timer measures began.
    @ivar paused: Whether the transport is paused by the response's
        consumer, in which case silence does not count.
    @ivar armed_at: When the schedule will look at this connection, or
        C{None} when it has no live entry.
    @ivar rest_at: The time of this connection's resting entry, or C{None}
        when it has none; valid only while C{epoch} is the schedule's.
    @ivar epoch: The schedule's epoch when this connection last pushed.
    @ivar generation: The ticket of this connection's valid (live or
        resting) schedule entry (0 when it has none); stale entries hold
        older tickets.
    """

    __slots__ = (
        "armed_at",
        "clock",
        "continue_at",
        "epoch",
        "expired",
        "generation",
        "paused",
        "read_for",
        "read_from",
        "response_at",
        "rest_at",
        "schedule",
        "timeouts",
        "total_at",
    )

    def __init__(
        self,
        timeouts: Timeouts,
        clock: IReactorTime | None,
        expired: Callable[[TimerName], None],
    ) -> None:
        self.timeouts = timeouts
        self.clock = clock
        self.schedule: _Schedule | None = None
        self.expired = expired
        self.total_at: float | None = None
        self.response_at: float | None = None
        self.continue_at: float | None = None
        self.read_for: float | None = None
        self.read_from = 0.0
        self.paused = False
        self.armed_at: float | None = None
        self.rest_at: float | None = None
        self.epoch = 0
        self.generation = 0

    def start_total(self) -> None:
        limit = self.timeouts.total
        if limit is not None:
            self.total_at = at = self._now() + limit
            self._arm(at)

    def start_response(self) -> None:
        limit = self.timeouts.response
        if limit is not None:
            self.response_at = at = self._now() + limit
            self._arm(at)

    def start_continue(self) -> None:
        limit = self.timeouts.expect_continue
        if limit is not None:
            self.continue_at = at = self._now() + limit
            self._arm(at)

    def start_read(self) -> None:
        limit = self.timeouts.read
        if limit is not None:
            self.read_for = limit
            self.read_from = now = self._now()
            self._arm(now + limit)

    def restart_read(self) -> None:
        """
        Bytes arrived: the silence starts again.  Only a float moves; if the
        connection is looked at before the new deadline, it re-arms itself.
        """
        if self.read_for is not None:
            # start_read found the clock.
            self.read_from = self.clock.seconds()  # type: ignore[union-attr]

    def stop_response(self) -> None:
        self.response_at = None
        self._idle()

    def stop_continue(self) -> None:
        self.continue_at = None
        self._idle()

    def stop_read(self) -> None:
        self.read_for = None
        self._idle()

    def stop(self) -> None:
        """
        Clear every deadline; the connection's entry rests.
        """
        self.total_at = self.response_at = self.continue_at = self.read_for = None
        self.paused = False
        self._disarm()

    def _idle(self) -> None:
        """
        Let the entry rest once no deadline is left.
        """
        if (
            self.total_at is None
            and self.response_at is None
            and self.continue_at is None
            and self.read_for is None
        ):
            self._disarm()

    def _now(self) -> float:
        clock = self.clock
        if clock is None:
            clock = self.clock = default_clock()
        return clock.seconds()

    def _arm(self, at: float) -> None:
        schedule = self.schedule
        if schedule is None:
            schedule = self.schedule = _schedule_of(self.clock or default_clock())
        armed_at = self.armed_at
        if armed_at is not None:
            if at >= armed_at - _SLACK:
                return
            schedule.live -= 1
        else:
            rest_at = self.rest_at
            if rest_at is not None:
                self.rest_at = None
                if at >= rest_at - _SLACK and self.epoch == schedule.epoch:
                    # The schedule looks no later than any valid entry
                    # while one is live, and now this one is.
                    self.armed_at = rest_at
                    schedule.live += 1
                    return
        self.armed_at = at
        self.generation = next(_tickets)
        self.epoch = schedule.epoch
        schedule.push(at, self)

    def _disarm(self) -> None:
        armed_at = self.armed_at
        if armed_at is not None:
            self.armed_at = None
            self.rest_at = armed_at
            schedule: _Schedule = self.schedule  # type: ignore[assignment]
            schedule.live -= 1
            if schedule.live == 0:
                schedule.forget()

    def consume(self) -> bool:
        """
        The schedule took this connection's entry out.

        @return: Whether the entry was live, the connection due now;
            a resting entry is only gone.
        """
        self.generation = 0
        if self.armed_at is None:
            self.rest_at = None
            return False
        self.armed_at = None
        self.schedule.live -= 1  # type: ignore[union-attr]
        return True

    def due(self, now: float) -> None:
        """
        The time this connection was armed for has come: report the first
        deadline that passed, or arm again for the earliest.
        """
        if self.paused and self.read_for is not None:
            self.read_from = now
        which = self._passed(now)
        if which is not None:
            self.expired(which)
            return
        earliest = self._earliest()
        if earliest is not None:
            self._arm(earliest)

    def _earliest(self) -> float | None:
        read_at = None if self.read_for is None else self.read_from + self.read_for
        deadlines = (self.total_at, self.response_at, self.continue_at, read_at)
        candidates = [at for at in deadlines if at is not None]
        return min(candidates) if candidates else None

    def _passed(self, now: float) -> TimerName | None:
        # The schedule may look a rounding error before a deadline.
        now += _SLACK
        if self.total_at is not None and now >= self.total_at:
            return "total"
        if self.response_at is not None and now >= self.response_at:
            return "response"
        if self.read_for is not None and now >= self.read_from + self.read_for:
            return "read"
        if self.continue_at is not None and now >= self.continue_at:
            return "expect_continue"
        return None

    def seconds_of(self, which: TimerName) -> float:
        """
        The value of the limit called C{which}.
        """
        value: Any = getattr(self.timeouts, which)
        return float(value)
