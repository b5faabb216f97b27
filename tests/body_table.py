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

STATES = (INITIAL, CONNECTED, DEFERRED_CLOSE, FINISHED)
EVENTS = ("deliver", "data", "finished")

TABLE: tuple[Row | Impossible, ...] = (
    Row(INITIAL, "deliver", "", CONNECTED, ("attach", "flush", "resume_transport")),
    Row(INITIAL, "data", "", INITIAL, ("buffer",)),
    Row(INITIAL, "finished", "", DEFERRED_CLOSE, ("keep_reason",)),
    Impossible(CONNECTED, "deliver", "the body already has a consumer"),
    Row(CONNECTED, "data", "", CONNECTED, ("pass_on",)),
    Row(CONNECTED, "finished", "", FINISHED, ("keep_reason", "close_protocol")),
    Row(DEFERRED_CLOSE, "deliver", "", FINISHED, ("attach", "flush", "close_protocol")),
    Impossible(DEFERRED_CLOSE, "data", "the body has already ended"),
    Impossible(DEFERRED_CLOSE, "finished", "the body has already ended"),
    Impossible(FINISHED, "deliver", "the body has been delivered"),
    Impossible(FINISHED, "data", "the body has been delivered"),
    Impossible(FINISHED, "finished", "the body has been delivered"),
)
