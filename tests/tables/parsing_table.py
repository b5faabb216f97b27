"""
The response parser's transition table, written down by hand: every
(state, event) cell of ResponseParsing.  See tests/tables/transition_table.py for
the form.
"""

from __future__ import annotations

from .transition_table import Impossible, Row

HEAD = "HEAD"
BODY = "BODY"
CHUNKED = "CHUNKED"
UNTIL_CLOSE = "UNTIL_CLOSE"
DONE = "DONE"
FINISHED = "FINISHED"
FAILED = "FAILED"

STATES = (HEAD, BODY, CHUNKED, UNTIL_CLOSE, DONE, FINISHED, FAILED)
EVENTS = ("begin", "head_done", "body", "complete", "lost")

_MID_BODY = "llhttp reports heads, message starts and ends only between bodies"
_HALTED = "llhttp is halted once the response is over, and nothing feeds it after a loss"
_LOST_ONCE = "the connection disconnects a parser once"
_AFTER_DONE = "after a complete response llhttp reports a new message's start first, which halts it"

TABLE: tuple[Row | Impossible, ...] = (
    Row(HEAD, "begin", "", HEAD, ()),
    Row(HEAD, "head_done", "informational", HEAD, ("skip_informational",)),
    Row(
        HEAD,
        "head_done",
        "bodiless and not informational",
        FINISHED,
        ("announce_complete", "open_response", "finish_body", "deliver_head", "halt"),
    ),
    Row(
        HEAD,
        "head_done",
        "chunked and not informational and not bodiless",
        CHUNKED,
        ("pause_transport", "open_response", "deliver_head"),
    ),
    Row(
        HEAD,
        "head_done",
        "sized and not informational and not bodiless and not chunked",
        BODY,
        ("pause_transport", "open_response", "deliver_head"),
    ),
    Row(
        HEAD,
        "head_done",
        "not informational and not bodiless and not chunked and not sized",
        UNTIL_CLOSE,
        ("pause_transport", "open_response", "deliver_head"),
    ),
    Impossible(HEAD, "body", "llhttp reports body bytes only after a head"),
    Row(HEAD, "complete", "", HEAD, ()),
    Row(HEAD, "lost", "received", FAILED, ("fail_head",)),
    Row(HEAD, "lost", "not received", FAILED, ("fail_unanswered",)),
    Impossible(BODY, "begin", _MID_BODY),
    Impossible(BODY, "head_done", _MID_BODY),
    Row(BODY, "body", "", BODY, ("deliver_body",)),
    Row(BODY, "complete", "", DONE, ("announce_complete",)),
    Row(BODY, "lost", "", FAILED, ("fail_body",)),
    Impossible(CHUNKED, "begin", _MID_BODY),
    Impossible(CHUNKED, "head_done", _MID_BODY),
    Row(CHUNKED, "body", "", CHUNKED, ("deliver_body",)),
    Row(CHUNKED, "complete", "", DONE, ("announce_complete",)),
    Row(CHUNKED, "lost", "", FAILED, ("fail_body",)),
    Impossible(UNTIL_CLOSE, "begin", _MID_BODY),
    Impossible(UNTIL_CLOSE, "head_done", _MID_BODY),
    Row(UNTIL_CLOSE, "body", "", UNTIL_CLOSE, ("deliver_body",)),
    Impossible(UNTIL_CLOSE, "complete", "only the close ends such a body, and llhttp is not told"),
    Row(
        UNTIL_CLOSE,
        "lost",
        "not cut_short",
        FINISHED,
        ("announce_complete", "finish_body_uncertain"),
    ),
    Row(UNTIL_CLOSE, "lost", "cut_short", FAILED, ("fail_body",)),
    Row(DONE, "begin", "", DONE, ("note_stray", "halt")),
    Impossible(DONE, "head_done", _AFTER_DONE),
    Impossible(DONE, "body", _AFTER_DONE),
    Impossible(DONE, "complete", _AFTER_DONE),
    Row(DONE, "lost", "", FINISHED, ("finish_body",)),
    Impossible(FINISHED, "begin", _HALTED),
    Impossible(FINISHED, "head_done", _HALTED),
    Impossible(FINISHED, "body", _HALTED),
    Impossible(FINISHED, "complete", _HALTED),
    Row(FINISHED, "lost", "", FINISHED, ()),
    Impossible(FAILED, "begin", _HALTED),
    Impossible(FAILED, "head_done", _HALTED),
    Impossible(FAILED, "body", _HALTED),
    Impossible(FAILED, "complete", _HALTED),
    Impossible(FAILED, "lost", _LOST_ONCE),
)
