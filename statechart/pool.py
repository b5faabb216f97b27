"""
The connections a pool keeps for one key (one scheme, host and port),
declared once.

A pool holds, for each key, its connections (being opened, busy with a
request, idle, or being closed by the pool) and the requests waiting for one.
This chart decides what happens to that host's share of the pool when a
request arrives, a connection opens or fails to, a connection comes back idle
or is lost, a timer fires, a waiting request is cancelled, or the pool is
closed.  The shell (L{httpchart.protocol.pool}) keeps the counts and the
queue, turns what happens into these events and implements the effects.

Its states say whether the host holds anything and whether requests wait:

  - C{EMPTY}: no connection and no waiting request;
  - C{ACTIVE}: connections, and no request waiting;
  - C{QUEUING}: requests waiting, in first-in-first-out order, because the
    limits leave no room and no connection is idle; the host never holds an
    idle connection here, since one that comes back goes to the first waiter;
  - C{CLOSED}: the pool was closed; requests are refused, and connections
    still busy are closed as soon as they come back.

Every connection the host holds counts against the pool's limits until its
loss is reported, including one the pool is closing.  Guards read the counts;
each is a pure question about them, and each cell's guards are exhaustive and
mutually exclusive, as for every chart.
"""

from __future__ import annotations

from typing import ClassVar

from statemachine import State

from ._library import TransitionList
from .declare import Chart, Input, event, goes, state, stays


def _arriving(empty: State, active: State, queuing: State, closed: State) -> TransitionList:
    """
    What a request for a connection does, new or not, except in C{ACTIVE},
    where the two differ.
    """
    transitions: TransitionList = (
        goes(
            empty,
            active,
            cond=("room",),
            effects=("open_connection",),
            doc="Nothing held and room: open a connection for the request.",
        )
        | goes(
            empty,
            queuing,
            unless=("room",),
            effects=("enqueue", "make_room"),
            doc="The pool's total limit is reached by other keys: wait, and close "
            "another key's idle connection if there is one.",
        )
        | stays(
            queuing,
            effects=("enqueue", "make_room"),
            doc="Others already wait: join the end of the queue, never overtaking them.",
        )
        | stays(closed, effects=("refuse",), doc="The pool is closed: refuse the request.")
    )
    return transitions


class HostPool(Chart):
    """
    One key's connections and waiting requests in a connection pool.
    """

    # The compiled engine tests this state first (a hint for speed only): a
    # key with connections and nobody waiting takes every request's events.
    busiest_states: ClassVar[tuple[str, ...]] = ("ACTIVE",)

    inputs: ClassVar[dict[str, Input]] = {
        "request": Input(("waiter",), "A request wants a connection (getConnection)."),
        "request_new": Input(
            ("waiter",),
            "A request wants a new connection: a retry, after its reused connection failed.",
        ),
        "connected": Input(
            ("waiter", "connection"), "A connection opened for a waiter is established."
        ),
        "connect_failed": Input(
            ("waiter", "reason"), "Opening a connection for a waiter failed or was cancelled."
        ),
        "adopt": Input(
            ("connection",),
            "A connection the pool did not open is handed to it (Twisted's "
            "_putConnection with a foreign connection): it counts as busy.",
        ),
        "release": Input(("connection",), "A busy connection finished its response and is idle."),
        "lost_idle": Input(("connection",), "An idle connection is gone: the server closed it."),
        "lost_busy": Input(("connection",), "A connection handed out to a request is gone."),
        "lost_closing": Input(("connection",), "A connection the pool was closing is gone."),
        "expire": Input(
            ("connection",),
            "An idle connection's timer fired: the pool's idle timeout, or the "
            "server's Keep-Alive timeout.",
        ),
        "evict": Input(
            ("connection",),
            "An idle connection turned out stale when a request looked for one: its "
            "transport is closing, it is not quiescent, or the server's close (or "
            "stray bytes) is waiting on its socket.",
        ),
        "displace": Input(
            ("connection",),
            "Another key's request waits only because the pool's total limit is "
            "reached: this idle connection is closed to make room.",
        ),
        "wait_expired": Input(("waiter",), "A waiting request's wait_timeout has passed."),
        "cancel": Input(("waiter",), "A waiting request's Deferred was cancelled."),
        "slot_free": Input((), "The pool reserved a free slot for this key's first waiter."),
        "close_idle": Input((), "closeCachedConnections(): close every idle connection."),
        "close": Input((), "close(): the pool stops for good."),
        "grace_over": Input(
            (), "close()'s grace period for busy connections is over (at once without one)."
        ),
    }

    outputs: ClassVar[dict[str, str]] = {
        "open_connection": "Open a new connection for the request (it counts as connecting).",
        "hand_idle": "Hand the connection idle longest to the request (a reuse).",
        "enqueue": "Put the request at the end of the queue and start its wait timer.",
        "make_room": "If only the pool's total limit keeps the request waiting, close the "
        "idle connection of another key that has been idle longest.",
        "refuse": "Fail the request with PoolClosed.",
        "hand_new": "Hand the new connection to the request it was opened for (busy).",
        "fail_connect": "Fail the request with the reason the connection could not open.",
        "forget_connecting": "Stop counting the connection that did not open.",
        "register": "Count the foreign connection as busy.",
        "retire": "Close the released connection: it has carried as many requests as "
        "it may, or the server asked for no more.",
        "keep_idle": "Keep the released connection idle and start its idle timer: "
        "idle_timeout, shortened to let go before the server does (its Keep-Alive "
        "timeout, or the idle time after which it last closed a connection).",
        "drop_oldest_idle": "Close the connection idle longest (maxPersistentPerHost).",
        "hand_released": "Hand the released connection to the first waiter (a reuse).",
        "forget_idle": "Stop counting the lost idle connection, cancel its timer, and note "
        "how long it was idle: the server's idle timeout, which later idle connections "
        "are let go before.",
        "forget_busy": "Stop counting the lost busy connection.",
        "forget_closing": "Stop counting the closed connection and tell whoever waits for it.",
        "leave_pool": "Nothing is left of this key: the pool forgets it, its counters "
        "going into the pool's totals, so that a client visiting many hosts does not "
        "grow the pool.",
        "free_slot": "Tell the pool a slot is free, so that the oldest waiter it may serve "
        "gets it.",
        "expire_idle": "Close the idle connection whose timer fired.",
        "evict_idle": "Close the stale idle connection.",
        "displace_idle": "Close the idle connection to make room for another key.",
        "fail_wait": "Remove the request from the queue and fail it with PoolWaitTimeout.",
        "withdraw": "Remove the cancelled request from the queue.",
        "open_for_waiter": "Take the first waiter off the queue and open a connection for it.",
        "close_all_idle": "Close every idle connection, and abort those still open after "
        "the grace period.",
        "fail_waiters": "Fail every waiting request with PoolClosed.",
        "cancel_connecting": "Cancel the connections being opened; their requests fail with "
        "PoolClosed.",
        "close_busy_later": "Start the grace period busy connections have to finish (its end "
        "is grace_over; without a grace period, it is over at once).",
        "abort_busy": "Abort the connections still busy; they count as closing until gone.",
    }

    conditions: ClassVar[dict[str, str]] = {
        "idle": "The key holds an idle connection.",
        "room": "Opening one more connection keeps within max_connections_per_host and "
        "max_connections.",
        "last": "This is the only connection the key holds.",
        "single": "Exactly one request waits.",
        "holding": "The key holds at least one connection.",
        "spent": "The released connection has carried max_requests_per_connection "
        "requests, the server's Keep-Alive allows no more, or its transport is closing.",
        "idle_full": "The key already holds maxPersistentPerHost idle connections.",
    }

    failure_states: ClassVar[tuple[str, ...]] = ("CLOSED",)
    """
    The state that means the pool is finished.  Documentation only.
    """

    empty = state("EMPTY", "No connection and no waiting request.", initial=True)
    active = state(
        "ACTIVE",
        "The key holds connections (opening, busy, idle or closing) and no request waits.",
    )
    queuing = state(
        "QUEUING",
        "Requests wait, first in first out: the limits leave no room and no "
        "connection is idle.  The key holds no idle connection here.",
    )
    closed = state(
        "CLOSED",
        "The pool is closed: requests are refused with PoolClosed, and busy "
        "connections are closed when they come back.",
    )

    request = event(
        _arriving(empty, active, queuing, closed)
        | stays(
            active,
            cond=("idle",),
            effects=("hand_idle",),
            doc="Reuse the connection idle longest, as Twisted's pool does.",
        )
        | stays(
            active,
            cond=("room",),
            unless=("idle",),
            effects=("open_connection",),
            doc="Nothing idle and room: open a connection.",
        )
        | goes(
            active,
            queuing,
            unless=("idle", "room"),
            effects=("enqueue", "make_room"),
            doc="Nothing idle and no room: wait in the queue.",
        ),
    )

    request_new = event(
        _arriving(empty, active, queuing, closed)
        | stays(
            active,
            cond=("room",),
            effects=("open_connection",),
            doc="A retry asks for a new connection and there is room: open one.",
        )
        | stays(
            active,
            cond=("idle",),
            unless=("room",),
            effects=("hand_idle",),
            doc="No room for a new connection: reuse the connection idle longest.",
        )
        | goes(
            active,
            queuing,
            unless=("room", "idle"),
            effects=("enqueue", "make_room"),
            doc="No room and nothing idle: wait in the queue.",
        ),
    )

    connected = event(
        stays(
            active,
            queuing,
            effects=("hand_new",),
            doc="The new connection goes to the request it was opened for.",
        ),
    )

    connect_failed = event(
        goes(
            active,
            empty,
            cond=("last",),
            effects=("forget_connecting", "fail_connect", "free_slot", "leave_pool"),
            doc="The only connection could not open: the request fails.",
        )
        | stays(
            active,
            unless=("last",),
            effects=("forget_connecting", "fail_connect", "free_slot"),
            doc="The connection could not open: the request fails.",
        )
        | stays(
            queuing,
            effects=("forget_connecting", "fail_connect", "free_slot"),
            doc="The connection could not open: its request fails and the slot goes to a waiter.",
        )
        | stays(
            closed,
            effects=("forget_connecting", "fail_connect"),
            doc="Opening failed or was cancelled by close(): its request already knows.",
        ),
    )

    adopt = event(
        goes(empty, active, effects=("register",), doc="The key now holds it, busy.")
        | stays(active, queuing, closed, effects=("register",), doc="Counted as busy."),
    )

    release = event(
        stays(
            active,
            cond=("spent",),
            effects=("retire",),
            doc="The connection may carry no more requests: close it.",
        )
        | stays(
            active,
            cond=("idle_full",),
            unless=("spent",),
            effects=("drop_oldest_idle", "keep_idle"),
            doc="Keep it idle, closing the connection idle longest to stay within "
            "maxPersistentPerHost.",
        )
        | stays(
            active,
            unless=("spent", "idle_full"),
            effects=("keep_idle",),
            doc="Keep it idle for the next request.",
        )
        | stays(
            queuing,
            cond=("spent",),
            effects=("retire",),
            doc="Close it; its loss frees the slot for the first waiter.",
        )
        | goes(
            queuing,
            active,
            cond=("single",),
            unless=("spent",),
            effects=("hand_released",),
            doc="The only waiter gets it.",
        )
        | stays(
            queuing,
            unless=("spent", "single"),
            effects=("hand_released",),
            doc="The first waiter gets it; others still wait.",
        )
        | stays(closed, effects=("retire",), doc="The pool is closed: close the connection."),
    )

    lost_idle = event(
        goes(
            active,
            empty,
            cond=("last",),
            effects=("forget_idle", "free_slot", "leave_pool"),
            doc="The server closed the only connection, idle: it leaves the pool at once.",
        )
        | stays(
            active,
            unless=("last",),
            effects=("forget_idle", "free_slot"),
            doc="The server closed an idle connection: it leaves the pool at once.",
        ),
    )

    lost_busy = event(
        goes(
            active,
            empty,
            cond=("last",),
            effects=("forget_busy", "free_slot", "leave_pool"),
            doc="The only connection, busy, is gone (its request has its own outcome).",
        )
        | stays(
            active,
            unless=("last",),
            effects=("forget_busy", "free_slot"),
            doc="A busy connection is gone.",
        )
        | stays(
            queuing,
            effects=("forget_busy", "free_slot"),
            doc="A busy connection is gone: its slot goes to a waiter.",
        )
        | stays(closed, effects=("forget_busy",), doc="A busy connection is gone."),
    )

    lost_closing = event(
        goes(
            active,
            empty,
            cond=("last",),
            effects=("forget_closing", "free_slot", "leave_pool"),
            doc="The last connection the pool was closing is gone.",
        )
        | stays(
            active,
            unless=("last",),
            effects=("forget_closing", "free_slot"),
            doc="A connection the pool was closing is gone.",
        )
        | stays(
            queuing,
            effects=("forget_closing", "free_slot"),
            doc="A connection the pool was closing is gone: its slot goes to a waiter.",
        )
        | stays(closed, effects=("forget_closing",), doc="One more connection closed."),
    )

    expire = event(
        stays(active, effects=("expire_idle",), doc="Idle too long: close it."),
    )

    evict = event(
        stays(active, effects=("evict_idle",), doc="Stale: close it, never hand it out."),
    )

    displace = event(
        stays(active, effects=("displace_idle",), doc="Closed to make room for another key."),
    )

    wait_expired = event(
        goes(
            queuing,
            active,
            cond=("single", "holding"),
            effects=("fail_wait",),
            doc="The only waiter waited too long: it fails with PoolWaitTimeout.",
        )
        | goes(
            queuing,
            empty,
            cond=("single",),
            unless=("holding",),
            effects=("fail_wait", "leave_pool"),
            doc="The only waiter, queued behind other keys, waited too long.",
        )
        | stays(
            queuing,
            unless=("single",),
            effects=("fail_wait",),
            doc="A waiter waited too long; the others keep their places.",
        ),
    )

    cancel = event(
        goes(
            queuing,
            active,
            cond=("single", "holding"),
            effects=("withdraw",),
            doc="The only waiter was cancelled.",
        )
        | goes(
            queuing,
            empty,
            cond=("single",),
            unless=("holding",),
            effects=("withdraw", "leave_pool"),
            doc="The only waiter, queued behind other keys, was cancelled.",
        )
        | stays(
            queuing,
            unless=("single",),
            effects=("withdraw",),
            doc="A waiter was cancelled; the others keep their places.",
        ),
    )

    slot_free = event(
        goes(
            queuing,
            active,
            cond=("single",),
            effects=("open_for_waiter",),
            doc="The only waiter gets a new connection.",
        )
        | stays(
            queuing,
            unless=("single",),
            effects=("open_for_waiter",),
            doc="The first waiter gets a new connection; the others still wait.",
        ),
    )

    close_idle = event(
        stays(active, effects=("close_all_idle",), doc="Close the idle connections.")
        | stays(queuing, closed, doc="No idle connection here: nothing to close."),
    )

    close = event(
        goes(empty, closed, doc="Nothing held: closed at once.")
        | goes(
            active,
            closed,
            effects=("close_all_idle", "cancel_connecting", "close_busy_later"),
            doc="Close the idle connections, stop opening new ones, and let the busy "
            "ones finish within the grace period.",
        )
        | goes(
            queuing,
            closed,
            effects=("fail_waiters", "cancel_connecting", "close_busy_later"),
            doc="Fail the waiting requests, stop opening new connections, and let "
            "the busy ones finish within the grace period.",
        )
        | stays(closed, doc="Already closed."),
    )

    grace_over = event(
        stays(
            closed,
            effects=("abort_busy",),
            doc="Abort what is still busy: the pool is closed and may not wait longer.",
        ),
    )
