"""
L{Timeouts}: how long a connection waits, and L{TimedOut}, what a request
fails with when it waited too long.

The connection's chart starts and stops each timer by name (its effects
C{start_total_timer}, C{start_response_timer}, C{stop_timers}, ...), in
the states the timer guards, and a timer that expires is the chart's
C{timeout} event (or C{continue_timeout} for C{expect_continue}).  Behind
those names, L{Deadlines} keeps the deadlines of one connection and a
single L{IDelayedCall} for the earliest of them: bytes arriving only move
the read deadline forward (a float assignment), and the call, when it
fires early, looks again and re-arms itself for what is now the earliest
deadline.  A connection therefore holds at most one delayed call, and none
outside the states its timers guard.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from twisted.internet.error import TimeoutError
from twisted.internet.interfaces import IDelayedCall, IReactorTime

TimerName = Literal["response", "read", "total", "expect_continue"]
_SLACK = 1e-6


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
    inside Twisted's usual wrapper: L{ResponseNeverReceived} when no byte
    of the response arrived, L{ResponseFailed} (or a body that ends with
    it) otherwise; code that traps L{twisted.internet.error.TimeoutError}
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


class Deadlines:
    """
    The deadlines of one connection's timers, behind one delayed call.

    Each C{start_*} or C{stop_*} sets or clears one deadline; L{stop}
    clears them all and cancels the call.  When the call fires, the first
    deadline that has passed is reported to C{expired} with the timer's
    name; if none has (the read deadline moved since the call was armed),
    the call is armed again for the earliest one.

    @ivar clock: Where time comes from and the call is scheduled.
    @ivar read_from: When the silence the read timer measures began.
    @ivar paused: Whether the transport is paused by the response's
        consumer, in which case silence does not count.
    """

    __slots__ = (
        "call",
        "clock",
        "continue_at",
        "expired",
        "paused",
        "read_for",
        "read_from",
        "response_at",
        "timeouts",
        "total_at",
    )

    def __init__(
        self,
        timeouts: Timeouts,
        clock: IReactorTime,
        expired: Callable[[TimerName], None],
    ) -> None:
        self.timeouts = timeouts
        self.clock = clock
        self.expired = expired
        self.call: IDelayedCall | None = None
        self.total_at: float | None = None
        self.response_at: float | None = None
        self.continue_at: float | None = None
        self.read_for: float | None = None
        self.read_from = 0.0
        self.paused = False

    def start_total(self) -> None:
        limit = self.timeouts.total
        if limit is not None:
            self.total_at = self.clock.seconds() + limit
            self._arm()

    def start_response(self) -> None:
        limit = self.timeouts.response
        if limit is not None:
            self.response_at = self.clock.seconds() + limit
            self._arm()

    def start_continue(self) -> None:
        limit = self.timeouts.expect_continue
        if limit is not None:
            self.continue_at = self.clock.seconds() + limit
            self._arm()

    def start_read(self) -> None:
        limit = self.timeouts.read
        if limit is not None:
            self.read_for = limit
            self.read_from = self.clock.seconds()
            self._arm()

    def restart_read(self) -> None:
        """
        Bytes arrived: the silence starts again.  Only a float moves; the
        call, if it fires before the new deadline, re-arms itself.
        """
        if self.read_for is not None:
            self.read_from = self.clock.seconds()

    def stop_response(self) -> None:
        self.response_at = None
        self._idle()

    def stop_continue(self) -> None:
        self.continue_at = None
        self._idle()

    def stop_read(self) -> None:
        self.read_for = None
        self._idle()

    def _idle(self) -> None:
        """
        Cancel the call once no deadline is left for it.
        """
        if self.call is not None and self._earliest() is None:
            self.call.cancel()
            self.call = None

    def stop(self) -> None:
        """
        Clear every deadline and cancel the call.
        """
        self.total_at = self.response_at = self.continue_at = self.read_for = None
        self.paused = False
        call, self.call = self.call, None
        if call is not None:
            call.cancel()

    def _earliest(self) -> float | None:
        read_at = None if self.read_for is None else self.read_from + self.read_for
        deadlines = (self.total_at, self.response_at, self.continue_at, read_at)
        candidates = [at for at in deadlines if at is not None]
        return min(candidates) if candidates else None

    def _arm(self) -> None:
        earliest = self._earliest()
        if earliest is None:
            return
        call = self.call
        delay = max(earliest - self.clock.seconds(), 0.0)
        if call is None:
            self.call = self.clock.callLater(delay, self._fire)
        elif call.getTime() > earliest:
            call.reset(delay)

    def _fire(self) -> None:
        self.call = None
        now = self.clock.seconds()
        if self.paused and self.read_for is not None:
            self.read_from = now
        which = self._passed(now)
        if which is None:
            self._arm()
        else:
            self.expired(which)

    def _passed(self, now: float) -> TimerName | None:
        # A call armed for a deadline may run a rounding error before it.
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
