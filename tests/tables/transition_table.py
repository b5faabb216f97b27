"""
The connection lifecycle's transition table, written down by hand.

This is the specification the declared chart is checked against: every
(state, event) cell of the seven states and ten events appears here, either
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
T = "TRANSMITTING"
TARR = "TRANSMITTING_AFTER_RECEIVING_RESPONSE"
GF = "GENERATION_FAILED"
W = "WAITING"
A = "ABORTING"
CL = "CONNECTION_LOST"

STATES = (Q, T, TARR, GF, W, A, CL)
EVENTS = (
    "issue",
    "write_done",
    "write_failed",
    "data",
    "response_done",
    "bad_response",
    "connection_lost",
    "abort",
    "cancel",
    "effect_failed",
)

# The error path: what every state does when an effect raised; where the
# request was not fully sent, it fails as RequestGenerationFailed first.
FAILED = ("log_effect_failure", "stop_writing", "abort_transport", "fail_outstanding")
FAILED_UNSENT = (*FAILED[:3], "fail_request", FAILED[3])


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

TABLE: tuple[Row | Impossible, ...] = (
    # QUIESCENT
    Row(Q, "issue", "not withdrawn and not closing", T, ("start_request",)),
    Row(Q, "issue", "closing and not withdrawn", Q, ("refuse_request",)),
    Row(Q, "issue", "withdrawn", Q, ()),
    Impossible(Q, "write_done", _WRITE_FIRES_ONCE),
    Impossible(Q, "write_failed", _WRITE_FIRES_ONCE),
    Row(Q, "data", "", A, ("lose_transport",)),
    Row(Q, "response_done", "", Q, ()),
    Row(Q, "bad_response", "", Q, ("log_bad_response",)),
    Row(Q, "connection_lost", "", CL, ("notify_lost",)),
    Row(Q, "abort", "", A, ("add_abort_waiter", "abort_transport")),
    Row(Q, "cancel", "", Q, ()),
    Row(Q, "effect_failed", "", A, FAILED),
    # TRANSMITTING
    Row(T, "issue", "", T, ("refuse_request",)),
    Row(T, "write_done", "", W, ("deliver_response",)),
    Row(T, "write_failed", "", GF, ("abort_transport", "fail_generation", "discard_parser")),
    Row(T, "data", "", T, ("feed_parser",)),
    Row(T, "response_done", "", TARR, ("deliver_response", "lose_transport", "release_parser")),
    Row(
        T,
        "bad_response",
        "",
        A,
        (
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
        ("notify_lost", "stop_writing", "fail_transmission", "discard_parser"),
    ),
    Row(
        T,
        "abort",
        "",
        A,
        ("add_abort_waiter", "stop_writing", "abort_transport", "deliver_response"),
    ),
    Row(T, "cancel", "", T, ("cancel_writing",)),
    Row(T, "effect_failed", "", A, FAILED_UNSENT),
    # TRANSMITTING_AFTER_RECEIVING_RESPONSE
    Row(TARR, "issue", "", TARR, ("refuse_request",)),
    Row(TARR, "write_done", "", TARR, ()),
    Row(TARR, "write_failed", "", TARR, ("log_late_write_failure",)),
    Row(TARR, "data", "", TARR, ()),
    Row(TARR, "response_done", "", TARR, ()),
    Row(TARR, "bad_response", "", TARR, ("log_bad_response",)),
    Row(TARR, "connection_lost", "", CL, ("notify_lost", "stop_writing")),
    Row(TARR, "abort", "", A, ("add_abort_waiter", "stop_writing", "abort_transport")),
    Row(TARR, "cancel", "", TARR, ("cancel_writing",)),
    Row(TARR, "effect_failed", "", A, FAILED),
    # GENERATION_FAILED
    Row(GF, "issue", "", GF, ("refuse_request",)),
    Impossible(GF, "write_done", _WRITE_FIRES_ONCE),
    Impossible(GF, "write_failed", _WRITE_FIRES_ONCE),
    Row(GF, "data", "", GF, ()),
    Row(GF, "response_done", "", GF, ()),
    Row(GF, "bad_response", "", GF, ("log_bad_response",)),
    Row(GF, "connection_lost", "", CL, ("notify_lost",)),
    Row(GF, "abort", "", A, ("add_abort_waiter",)),
    Row(GF, "cancel", "", GF, ()),
    Row(GF, "effect_failed", "", A, FAILED_UNSENT),
    # WAITING
    Row(W, "issue", "", W, ("refuse_request",)),
    Impossible(W, "write_done", _WRITE_FIRES_ONCE),
    Impossible(W, "write_failed", _WRITE_FIRES_ONCE),
    Row(W, "data", "", W, ("feed_parser",)),
    Row(
        W,
        "response_done",
        "reusable",
        Q,
        ("resume_transport", "notify_quiescent", "release_parser"),
    ),
    Row(W, "response_done", "not reusable", Q, ("lose_transport", "release_parser")),
    Row(W, "bad_response", "", A, ("log_bad_response", "lose_transport", "disconnect_parser")),
    Row(W, "connection_lost", "", CL, ("notify_lost", "disconnect_parser")),
    Row(W, "abort", "", A, ("add_abort_waiter", "abort_transport")),
    Row(W, "cancel", "", A, ("abort_transport", "cancel_parser")),
    Row(W, "effect_failed", "", A, FAILED),
    # ABORTING
    Row(A, "issue", "", A, ("refuse_request",)),
    Row(A, "write_done", "", A, ()),
    Row(A, "write_failed", "", A, ("log_late_write_failure",)),
    Row(A, "data", "", A, ()),
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
    Row(A, "effect_failed", "", A, FAILED),
    # CONNECTION_LOST
    Row(CL, "issue", "", CL, ("refuse_request",)),
    Row(CL, "write_done", "", CL, ()),
    Row(CL, "write_failed", "", CL, ("log_late_write_failure",)),
    Row(CL, "data", "", CL, ()),
    Row(CL, "response_done", "", CL, ()),
    Row(CL, "bad_response", "", CL, ("log_bad_response",)),
    Row(CL, "connection_lost", "", CL, ()),
    Row(CL, "abort", "", CL, ("confirm_abort",)),
    Row(CL, "cancel", "", CL, ()),
    Row(CL, "effect_failed", "", CL, ("log_effect_failure", "stop_writing", "fail_outstanding")),
)

ROWS = tuple(entry for entry in TABLE if isinstance(entry, Row))
IMPOSSIBLE = tuple(entry for entry in TABLE if isinstance(entry, Impossible))
