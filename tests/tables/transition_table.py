"""
The connection lifecycle's transition table, written down by hand.

This is the specification the declared chart is checked against: every
(state, event) cell of the eight states and fourteen events appears here, either
as one or more rows (one per guard branch) or as an impossible cell with the
reason it cannot happen.  A row says which target state the cell leads to (the
same state for an event handled without a state change, or ignored) and which
effects run, in order.

tests/test_chart_table.py proves the chart declares exactly these rows;
tests/test_protocol_table.py drives the running protocol through every cell.
"""

from __future__ import annotations

from dataclasses import dataclass

Q = "QUIESCENT"
AC = "AWAITING_CONTINUE"
T = "TRANSMITTING"
TARR = "TRANSMITTING_AFTER_RECEIVING_RESPONSE"
GF = "GENERATION_FAILED"
W = "WAITING"
A = "ABORTING"
CL = "CONNECTION_LOST"

STATES = (Q, AC, T, TARR, GF, W, A, CL)
EVENTS = (
    "issue",
    "write_done",
    "write_failed",
    "data",
    "head_received",
    "continue_received",
    "response_done",
    "bad_response",
    "connection_lost",
    "abort",
    "cancel",
    "timeout",
    "continue_timeout",
    "effect_failed",
)

# The error path: what every state does when an effect raised; where the
# request was not fully sent, it fails as RequestGenerationFailed first.
FAILED = (
    "log_effect_failure",
    "stop_timers",
    "stop_writing",
    "abort_transport",
    "fail_outstanding",
)
FAILED_UNSENT = (*FAILED[:4], "fail_request", FAILED[4])


@dataclass(frozen=True)
class Row:
    """
    A declared branch of a cell.

    @ivar guard: The condition, as C{"a and not b"}; empty when unguarded.
    """

    state: str
    event: str
    guard: str
    target: str
    effects: tuple[str, ...]

    @property
    def guards(self) -> frozenset[str]:
        return frozenset(self.guard.split(" and ")) if self.guard else frozenset()


@dataclass(frozen=True)
class Impossible:
    """
    A cell with no transition: the event cannot happen in that state.
    """

    state: str
    event: str
    why: str


_WRITE_FIRES_ONCE = (
    "the request's writeTo Deferred fires once, and this state is only entered "
    "before any write or after the write's outcome was handled"
)

_NO_TIMER = (
    "no timer runs in this state: every transition out of the states a timer "
    "guards stops it, and a timer fires from the reactor, never inside a step"
)
_NO_CONTINUE_TIMER = "the expect_continue timer runs only while awaiting '100 Continue'"
_HEAD_WRITTEN_AT_ONCE = (
    "only the head is written, synchronously; no writeTo Deferred is pending until the body is sent"
)
_STOPS = ("stop_timers",)

TABLE: tuple[Row | Impossible, ...] = (
    # QUIESCENT
    Row(
        Q,
        "issue",
        "not withdrawn and not closing and not expects_continue",
        T,
        ("start_request", "start_total_timer"),
    ),
    Row(
        Q,
        "issue",
        "expects_continue and not withdrawn and not closing",
        AC,
        ("send_head", "start_total_timer", "start_continue_timer", "start_read_timer"),
    ),
    Row(Q, "issue", "closing and not withdrawn", Q, ("refuse_request",)),
    Row(Q, "issue", "withdrawn", Q, ()),
    Impossible(Q, "write_done", _WRITE_FIRES_ONCE),
    Impossible(Q, "write_failed", _WRITE_FIRES_ONCE),
    Row(Q, "data", "", A, ("lose_transport",)),
    Row(Q, "head_received", "", Q, ()),
    Row(Q, "continue_received", "", Q, ()),
    Row(Q, "response_done", "", Q, ()),
    Row(Q, "bad_response", "", Q, ("log_bad_response",)),
    Row(Q, "connection_lost", "", CL, ("notify_lost",)),
    Row(Q, "abort", "", A, ("add_abort_waiter", "abort_transport")),
    Row(Q, "cancel", "", Q, ()),
    Impossible(Q, "timeout", _NO_TIMER),
    Impossible(Q, "continue_timeout", _NO_CONTINUE_TIMER),
    Row(Q, "effect_failed", "", A, FAILED),
    # AWAITING_CONTINUE
    Row(AC, "issue", "", AC, ("refuse_request",)),
    Impossible(AC, "write_done", _HEAD_WRITTEN_AT_ONCE),
    Row(
        AC,
        "write_failed",
        "",
        GF,
        (*_STOPS, "abort_transport", "fail_generation", "discard_parser"),
    ),
    Row(AC, "data", "", AC, ("restart_read_timer", "feed_parser")),
    Row(AC, "head_received", "", W, ("stop_continue_timer", "withhold_body", "deliver_response")),
    Row(AC, "continue_received", "", T, ("stop_continue_timer", "stop_read_timer", "send_body")),
    Row(
        AC,
        "response_done",
        "",
        TARR,
        (*_STOPS, "deliver_response", "lose_transport", "release_parser"),
    ),
    Row(
        AC,
        "bad_response",
        "",
        A,
        (*_STOPS, "log_bad_response", "abort_transport", "deliver_response", "disconnect_parser"),
    ),
    Row(
        AC,
        "connection_lost",
        "",
        CL,
        ("notify_lost", *_STOPS, "fail_transmission", "discard_parser"),
    ),
    Row(
        AC,
        "abort",
        "",
        A,
        (*_STOPS, "add_abort_waiter", "abort_transport", "deliver_response"),
    ),
    Row(AC, "cancel", "", A, (*_STOPS, "abort_transport", "deliver_response", "cancel_parser")),
    Row(
        AC,
        "timeout",
        "",
        A,
        (*_STOPS, "abort_transport", "deliver_response", "disconnect_parser"),
    ),
    Row(AC, "continue_timeout", "", T, ("stop_continue_timer", "stop_read_timer", "send_body")),
    Row(AC, "effect_failed", "", A, FAILED_UNSENT),
    # TRANSMITTING
    Row(T, "issue", "", T, ("refuse_request",)),
    Row(
        T,
        "write_done",
        "not answered",
        W,
        ("deliver_response", "start_response_timer", "start_read_timer"),
    ),
    Row(T, "write_done", "answered", W, ("deliver_response", "start_read_timer")),
    Row(
        T, "write_failed", "", GF, (*_STOPS, "abort_transport", "fail_generation", "discard_parser")
    ),
    Row(T, "data", "", T, ("restart_read_timer", "feed_parser")),
    Row(T, "head_received", "", T, ()),
    Row(T, "continue_received", "", T, ()),
    Row(
        T,
        "response_done",
        "",
        TARR,
        (*_STOPS, "deliver_response", "lose_transport", "release_parser"),
    ),
    Row(
        T,
        "bad_response",
        "",
        A,
        (
            *_STOPS,
            "log_bad_response",
            "stop_writing",
            "abort_transport",
            "deliver_response",
            "disconnect_parser",
        ),
    ),
    Row(
        T,
        "connection_lost",
        "",
        CL,
        ("notify_lost", *_STOPS, "stop_writing", "fail_transmission", "discard_parser"),
    ),
    Row(
        T,
        "abort",
        "",
        A,
        (*_STOPS, "add_abort_waiter", "stop_writing", "abort_transport", "deliver_response"),
    ),
    Row(T, "cancel", "", T, ("cancel_writing",)),
    Row(
        T,
        "timeout",
        "",
        A,
        (*_STOPS, "stop_writing", "abort_transport", "deliver_response", "disconnect_parser"),
    ),
    Impossible(T, "continue_timeout", _NO_CONTINUE_TIMER),
    Row(T, "effect_failed", "", A, FAILED_UNSENT),
    # TRANSMITTING_AFTER_RECEIVING_RESPONSE
    Row(TARR, "issue", "", TARR, ("refuse_request",)),
    Row(TARR, "write_done", "", TARR, ()),
    Row(TARR, "write_failed", "", TARR, ("log_late_write_failure",)),
    Row(TARR, "data", "", TARR, ()),
    Row(TARR, "head_received", "", TARR, ()),
    Row(TARR, "continue_received", "", TARR, ()),
    Row(TARR, "response_done", "", TARR, ()),
    Row(TARR, "bad_response", "", TARR, ("log_bad_response",)),
    Row(TARR, "connection_lost", "", CL, ("notify_lost", "stop_writing")),
    Row(TARR, "abort", "", A, ("add_abort_waiter", "stop_writing", "abort_transport")),
    Row(TARR, "cancel", "", TARR, ("cancel_writing",)),
    Impossible(TARR, "timeout", _NO_TIMER),
    Impossible(TARR, "continue_timeout", _NO_CONTINUE_TIMER),
    Row(TARR, "effect_failed", "", A, FAILED),
    # GENERATION_FAILED
    Row(GF, "issue", "", GF, ("refuse_request",)),
    Impossible(GF, "write_done", _WRITE_FIRES_ONCE),
    Impossible(GF, "write_failed", _WRITE_FIRES_ONCE),
    Row(GF, "data", "", GF, ()),
    Row(GF, "head_received", "", GF, ()),
    Row(GF, "continue_received", "", GF, ()),
    Row(GF, "response_done", "", GF, ()),
    Row(GF, "bad_response", "", GF, ("log_bad_response",)),
    Row(GF, "connection_lost", "", CL, ("notify_lost",)),
    Row(GF, "abort", "", A, ("add_abort_waiter",)),
    Row(GF, "cancel", "", GF, ()),
    Impossible(GF, "timeout", _NO_TIMER),
    Impossible(GF, "continue_timeout", _NO_CONTINUE_TIMER),
    Row(GF, "effect_failed", "", A, FAILED_UNSENT),
    # WAITING
    Row(W, "issue", "", W, ("refuse_request",)),
    Impossible(W, "write_done", _WRITE_FIRES_ONCE),
    Impossible(W, "write_failed", _WRITE_FIRES_ONCE),
    Row(W, "data", "", W, ("restart_read_timer", "feed_parser")),
    Row(W, "head_received", "", W, ("stop_response_timer",)),
    Row(W, "continue_received", "", W, ()),
    Row(
        W,
        "response_done",
        "reusable",
        Q,
        (*_STOPS, "resume_transport", "notify_quiescent", "release_parser"),
    ),
    Row(W, "response_done", "not reusable", Q, (*_STOPS, "lose_transport", "release_parser")),
    Row(
        W,
        "bad_response",
        "",
        A,
        (*_STOPS, "log_bad_response", "lose_transport", "disconnect_parser"),
    ),
    Row(W, "connection_lost", "", CL, ("notify_lost", *_STOPS, "disconnect_parser")),
    Row(W, "abort", "", A, (*_STOPS, "add_abort_waiter", "abort_transport")),
    Row(W, "cancel", "", A, (*_STOPS, "abort_transport", "cancel_parser")),
    Row(W, "timeout", "", A, (*_STOPS, "abort_transport", "disconnect_parser")),
    Impossible(W, "continue_timeout", _NO_CONTINUE_TIMER),
    Row(W, "effect_failed", "", A, FAILED),
    # ABORTING
    Row(A, "issue", "", A, ("refuse_request",)),
    Row(A, "write_done", "", A, ()),
    Row(A, "write_failed", "", A, ("log_late_write_failure",)),
    Row(A, "data", "", A, ()),
    Row(A, "head_received", "", A, ()),
    Row(A, "continue_received", "", A, ()),
    Row(A, "response_done", "", A, ()),
    Row(A, "bad_response", "", A, ("log_bad_response",)),
    Row(
        A,
        "connection_lost",
        "",
        CL,
        ("notify_lost", "abort_parser", "fire_abort_waiters"),
    ),
    Row(A, "abort", "", A, ("add_abort_waiter",)),
    Row(A, "cancel", "", A, ("abort_transport", "cancel_parser")),
    Impossible(A, "timeout", _NO_TIMER),
    Impossible(A, "continue_timeout", _NO_CONTINUE_TIMER),
    Row(A, "effect_failed", "", A, FAILED),
    # CONNECTION_LOST
    Row(CL, "issue", "", CL, ("refuse_request",)),
    Row(CL, "write_done", "", CL, ()),
    Row(CL, "write_failed", "", CL, ("log_late_write_failure",)),
    Row(CL, "data", "", CL, ()),
    Row(CL, "head_received", "", CL, ()),
    Row(CL, "continue_received", "", CL, ()),
    Row(CL, "response_done", "", CL, ()),
    Row(CL, "bad_response", "", CL, ("log_bad_response",)),
    Row(CL, "connection_lost", "", CL, ()),
    Row(CL, "abort", "", CL, ("confirm_abort",)),
    Row(CL, "cancel", "", CL, ()),
    Impossible(CL, "timeout", _NO_TIMER),
    Impossible(CL, "continue_timeout", _NO_CONTINUE_TIMER),
    Row(
        CL,
        "effect_failed",
        "",
        CL,
        ("log_effect_failure", *_STOPS, "stop_writing", "fail_outstanding"),
    ),
)

ROWS = tuple(entry for entry in TABLE if isinstance(entry, Row))
IMPOSSIBLE = tuple(entry for entry in TABLE if isinstance(entry, Impossible))
