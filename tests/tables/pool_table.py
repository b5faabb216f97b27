"""
The pool's per-key transition table, written down by hand: every
(state, event) cell of HostPool, as rows (one per guard branch) or as an
impossible cell with the reason it cannot happen.

tests/test_chart_table.py proves the chart declares exactly these rows;
tests/test_pool_checker.py drives the running pool through every row.
"""

from __future__ import annotations

from .transition_table import Impossible, Row

E = "EMPTY"
A = "ACTIVE"
Q = "QUEUING"
C = "CLOSED"

STATES = (E, A, Q, C)
EVENTS = (
    "request",
    "request_new",
    "connected",
    "connect_failed",
    "adopt",
    "release",
    "lost_idle",
    "lost_busy",
    "lost_closing",
    "expire",
    "evict",
    "displace",
    "wait_expired",
    "cancel",
    "slot_free",
    "close_idle",
    "close",
    "grace_over",
)

_NOTHING_HELD = "the key holds no connection, so none can open, come back or be lost"

_NO_IDLE_HERE = "a key with waiting requests hands every connection that comes back to them"
_NO_WAITER = "no request waits here"
_ONLY_ACTIVE_IDLE = (
    "only a key without waiters holds idle connections, and they are acted on at once "
    "(an idle timer that comes for a connection no longer idle does not expire it, and "
    "they are looked at only while idle)"
)
_SLOTS_GO_TO_WAITERS = (
    "the pool reserves a slot only for a key with waiters, which takes it before "
    "anything can make them leave"
)
_GRACE_AFTER_CLOSE = "the grace period starts when close() is handled, which closes the key"
_FORGOTTEN = (
    "a key left with nothing is forgotten by the pool (leave_pool), and a new one is "
    "given an event at once: closeCachedConnections() never finds one empty"
)
_CLOSED_HOLDS_NO_IDLE = "close() closed every idle connection, and none becomes idle again"

TABLE: tuple[Row | Impossible, ...] = (
    # EMPTY
    Row(E, "request", "room", A, ("open_connection",)),
    Row(E, "request", "not room", Q, ("enqueue", "make_room")),
    Row(E, "request_new", "room", A, ("open_connection",)),
    Row(E, "request_new", "not room", Q, ("enqueue", "make_room")),
    Impossible(E, "connected", _NOTHING_HELD),
    Impossible(E, "connect_failed", _NOTHING_HELD),
    Row(E, "adopt", "", A, ("register",)),
    Impossible(E, "release", _NOTHING_HELD),
    Impossible(E, "lost_idle", _NOTHING_HELD),
    Impossible(E, "lost_busy", _NOTHING_HELD),
    Impossible(E, "lost_closing", _NOTHING_HELD),
    Impossible(E, "expire", _ONLY_ACTIVE_IDLE),
    Impossible(E, "evict", _ONLY_ACTIVE_IDLE),
    Impossible(E, "displace", _ONLY_ACTIVE_IDLE),
    Impossible(E, "wait_expired", _NO_WAITER),
    Impossible(E, "cancel", _NO_WAITER),
    Impossible(E, "slot_free", _SLOTS_GO_TO_WAITERS),
    Impossible(E, "close_idle", _FORGOTTEN),
    Row(E, "close", "", C, ()),
    Impossible(E, "grace_over", _GRACE_AFTER_CLOSE),
    # ACTIVE
    Row(A, "request", "idle", A, ("hand_idle",)),
    Row(A, "request", "room and not idle", A, ("open_connection",)),
    Row(A, "request", "not idle and not room", Q, ("enqueue", "make_room")),
    Row(A, "request_new", "room", A, ("open_connection",)),
    Row(A, "request_new", "idle and not room", A, ("hand_idle",)),
    Row(A, "request_new", "not room and not idle", Q, ("enqueue", "make_room")),
    Row(A, "connected", "", A, ("hand_new",)),
    Row(
        A,
        "connect_failed",
        "last",
        E,
        ("forget_connecting", "fail_connect", "free_slot", "leave_pool"),
    ),
    Row(A, "connect_failed", "not last", A, ("forget_connecting", "fail_connect", "free_slot")),
    Row(A, "adopt", "", A, ("register",)),
    Row(A, "release", "spent", A, ("retire",)),
    Row(A, "release", "idle_full and not spent", A, ("drop_oldest_idle", "keep_idle")),
    Row(A, "release", "not spent and not idle_full", A, ("keep_idle",)),
    Row(A, "lost_idle", "last", E, ("forget_idle", "free_slot", "leave_pool")),
    Row(A, "lost_idle", "not last", A, ("forget_idle", "free_slot")),
    Row(A, "lost_busy", "last", E, ("forget_busy", "free_slot", "leave_pool")),
    Row(A, "lost_busy", "not last", A, ("forget_busy", "free_slot")),
    Row(A, "lost_closing", "last", E, ("forget_closing", "free_slot", "leave_pool")),
    Row(A, "lost_closing", "not last", A, ("forget_closing", "free_slot")),
    Row(A, "expire", "", A, ("expire_idle",)),
    Row(A, "evict", "", A, ("evict_idle",)),
    Row(A, "displace", "", A, ("displace_idle",)),
    Impossible(A, "wait_expired", _NO_WAITER),
    Impossible(A, "cancel", _NO_WAITER),
    Impossible(A, "slot_free", _SLOTS_GO_TO_WAITERS),
    Row(A, "close_idle", "", A, ("close_all_idle",)),
    Row(A, "close", "", C, ("close_all_idle", "cancel_connecting", "close_busy_later")),
    Impossible(A, "grace_over", _GRACE_AFTER_CLOSE),
    # QUEUING
    Row(Q, "request", "", Q, ("enqueue", "make_room")),
    Row(Q, "request_new", "", Q, ("enqueue", "make_room")),
    Row(Q, "connected", "", Q, ("hand_new",)),
    Row(Q, "connect_failed", "", Q, ("forget_connecting", "fail_connect", "free_slot")),
    Row(Q, "adopt", "", Q, ("register",)),
    Row(Q, "release", "spent", Q, ("retire",)),
    Row(Q, "release", "single and not spent", A, ("hand_released",)),
    Row(Q, "release", "not spent and not single", Q, ("hand_released",)),
    Impossible(Q, "lost_idle", _NO_IDLE_HERE),
    Row(Q, "lost_busy", "", Q, ("forget_busy", "free_slot")),
    Row(Q, "lost_closing", "", Q, ("forget_closing", "free_slot")),
    Impossible(Q, "expire", _ONLY_ACTIVE_IDLE),
    Impossible(Q, "evict", _ONLY_ACTIVE_IDLE),
    Impossible(Q, "displace", _ONLY_ACTIVE_IDLE),
    Row(Q, "wait_expired", "single and holding", A, ("fail_wait",)),
    Row(Q, "wait_expired", "single and not holding", E, ("fail_wait", "leave_pool")),
    Row(Q, "wait_expired", "not single", Q, ("fail_wait",)),
    Row(Q, "cancel", "single and holding", A, ("withdraw",)),
    Row(Q, "cancel", "single and not holding", E, ("withdraw", "leave_pool")),
    Row(Q, "cancel", "not single", Q, ("withdraw",)),
    Row(Q, "slot_free", "single", A, ("open_for_waiter",)),
    Row(Q, "slot_free", "not single", Q, ("open_for_waiter",)),
    Row(Q, "close_idle", "", Q, ()),
    Row(Q, "close", "", C, ("fail_waiters", "cancel_connecting", "close_busy_later")),
    Impossible(Q, "grace_over", _GRACE_AFTER_CLOSE),
    # CLOSED
    Row(C, "request", "", C, ("refuse",)),
    Row(C, "request_new", "", C, ("refuse",)),
    Impossible(C, "connected", "close() cancelled every attempt, which then failed"),
    Row(C, "connect_failed", "", C, ("forget_connecting", "fail_connect")),
    Row(C, "adopt", "", C, ("register",)),
    Row(C, "release", "", C, ("retire",)),
    Impossible(C, "lost_idle", _CLOSED_HOLDS_NO_IDLE),
    Row(C, "lost_busy", "", C, ("forget_busy",)),
    Row(C, "lost_closing", "", C, ("forget_closing",)),
    Impossible(C, "expire", _ONLY_ACTIVE_IDLE),
    Impossible(C, "evict", _ONLY_ACTIVE_IDLE),
    Impossible(C, "displace", _ONLY_ACTIVE_IDLE),
    Impossible(C, "wait_expired", "close() failed every waiting request"),
    Impossible(C, "cancel", "close() failed every waiting request"),
    Impossible(C, "slot_free", _SLOTS_GO_TO_WAITERS),
    Row(C, "close_idle", "", C, ()),
    Row(C, "close", "", C, ()),
    Row(C, "grace_over", "", C, ("abort_busy",)),
)

ROWS = tuple(entry for entry in TABLE if isinstance(entry, Row))
IMPOSSIBLE = tuple(entry for entry in TABLE if isinstance(entry, Impossible))
