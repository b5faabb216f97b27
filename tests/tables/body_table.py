"""
The response body's transition table, written down by hand: every
(state, event) cell of BodyDelivery.  The impossible cells are the misuses
Twisted's Response reports with RuntimeError; LifecycleError is one.
"""

from __future__ import annotations

from .transition_table import Impossible, Row

INITIAL = "INITIAL"
CONNECTED = "CONNECTED"
DEFERRED_CLOSE = "DEFERRED_CLOSE"
FINISHED = "FINISHED"
DISCARDING = "DISCARDING"

STATES = (INITIAL, CONNECTED, DEFERRED_CLOSE, FINISHED, DISCARDING)
EVENTS = ("deliver", "data", "finished", "discard")

TABLE: tuple[Row | Impossible, ...] = (
    Row(INITIAL, "deliver", "", CONNECTED, ("attach", "flush", "resume_transport")),
    Row(INITIAL, "data", "", INITIAL, ("buffer",)),
    Row(INITIAL, "finished", "", DEFERRED_CLOSE, ("keep_reason",)),
    Row(
        INITIAL,
        "discard",
        "small_rest",
        DISCARDING,
        ("await_end", "drop_buffer", "resume_transport"),
    ),
    Row(
        INITIAL,
        "discard",
        "not small_rest",
        DISCARDING,
        ("await_end", "drop_buffer", "abort_transport"),
    ),
    Impossible(CONNECTED, "deliver", "the body already has a consumer"),
    Row(CONNECTED, "data", "", CONNECTED, ("pass_on",)),
    Row(CONNECTED, "finished", "", FINISHED, ("keep_reason", "close_protocol")),
    Row(
        CONNECTED,
        "discard",
        "small_rest",
        DISCARDING,
        ("await_end", "end_consumer", "resume_transport"),
    ),
    Row(
        CONNECTED,
        "discard",
        "not small_rest",
        DISCARDING,
        ("await_end", "end_consumer", "abort_transport"),
    ),
    Row(DEFERRED_CLOSE, "deliver", "", FINISHED, ("attach", "flush", "close_protocol")),
    Impossible(DEFERRED_CLOSE, "data", "the body has already ended"),
    Impossible(DEFERRED_CLOSE, "finished", "the body has already ended"),
    Row(
        DEFERRED_CLOSE,
        "discard",
        "",
        FINISHED,
        ("await_end", "drop_buffer", "report_discarded"),
    ),
    Impossible(FINISHED, "deliver", "the body has been delivered"),
    Impossible(FINISHED, "data", "the body has been delivered"),
    Impossible(FINISHED, "finished", "the body has been delivered"),
    Row(FINISHED, "discard", "", FINISHED, ("await_end", "report_discarded")),
    Impossible(DISCARDING, "deliver", "the body was discarded"),
    Row(DISCARDING, "data", "", DISCARDING, ()),
    Row(DISCARDING, "finished", "", FINISHED, ("keep_reason", "report_discarded")),
    Row(DISCARDING, "discard", "", DISCARDING, ("await_end",)),
)
