"""
The tunnel set-up's transition table, written down by hand: every (state,
event) cell of TunnelSetup, as rows (one per guard branch) or as an
impossible cell with the reason it cannot happen.

tests/test_chart_table.py proves the chart declares exactly these rows;
tests/test_tunnel_table.py drives a real Tunnel through every row and every
impossible cell; tests/test_tunnel_checker.py runs every sequence of tunnel
inputs up to a depth against these rows.
"""

from __future__ import annotations

from .transition_table import Impossible, Row

CONNECTING = "CONNECTING"
REQUESTED = "REQUESTED"
REFUSING = "REFUSING"
HANDSHAKING = "HANDSHAKING"
OPEN = "OPEN"
FAILED = "FAILED"
CLOSED = "CLOSED"

STATES = (CONNECTING, REQUESTED, REFUSING, HANDSHAKING, OPEN, FAILED, CLOSED)
EVENTS = (
    "connected",
    "unreachable",
    "data",
    "reply",
    "bad_reply",
    "refusal_read",
    "handshake_done",
    "connection_lost",
    "timeout",
    "cancel",
)

_NOT_CONNECTED = "no connection to the proxy exists yet, so none can carry bytes or end"
_CONNECTED_ONCE = "the connection to the proxy is made once"
_READER_ONLY = "only the reply's reader reports it, and it reads only in REQUESTED"
_REFUSAL_ONLY = "only the refusal's reader reports it, and it reads only in REFUSING"
_TLS_ONLY = "TLS runs only from HANDSHAKING, and its handshake finishes once"
_SETTLED = "the set-up has settled: its timer is stopped and its Deferred has fired"
_GONE = "the connection is lost: nothing more comes from it"

TABLE: tuple[Row | Impossible, ...] = (
    # CONNECTING
    Row(CONNECTING, "connected", "", REQUESTED, ("send_connect",)),
    Row(CONNECTING, "unreachable", "", FAILED, ("fail_unreachable",)),
    Impossible(CONNECTING, "data", _NOT_CONNECTED),
    Impossible(CONNECTING, "reply", _READER_ONLY),
    Impossible(CONNECTING, "bad_reply", _READER_ONLY),
    Impossible(CONNECTING, "refusal_read", _REFUSAL_ONLY),
    Impossible(CONNECTING, "handshake_done", _TLS_ONLY),
    Impossible(CONNECTING, "connection_lost", _NOT_CONNECTED),
    Row(CONNECTING, "timeout", "", FAILED, ("stop_connecting", "fail_timeout")),
    Row(CONNECTING, "cancel", "", FAILED, ("stop_connecting", "fail_cancelled")),
    # REQUESTED
    Impossible(REQUESTED, "connected", _CONNECTED_ONCE),
    Impossible(REQUESTED, "unreachable", _CONNECTED_ONCE),
    Row(REQUESTED, "data", "", REQUESTED, ("read_reply",)),
    Row(REQUESTED, "reply", "accepted and not overrun", HANDSHAKING, ("start_tls",)),
    Row(REQUESTED, "reply", "accepted and overrun", FAILED, ("abort_transport", "fail_overrun")),
    Row(REQUESTED, "reply", "not accepted", REFUSING, ("keep_refusal",)),
    Row(REQUESTED, "bad_reply", "", FAILED, ("abort_transport", "fail_bad_reply")),
    Impossible(REQUESTED, "refusal_read", _REFUSAL_ONLY),
    Impossible(REQUESTED, "handshake_done", _TLS_ONLY),
    Row(REQUESTED, "connection_lost", "", FAILED, ("fail_no_reply",)),
    Row(REQUESTED, "timeout", "", FAILED, ("abort_transport", "fail_timeout")),
    Row(REQUESTED, "cancel", "", FAILED, ("abort_transport", "fail_cancelled")),
    # REFUSING
    Impossible(REFUSING, "connected", _CONNECTED_ONCE),
    Impossible(REFUSING, "unreachable", _CONNECTED_ONCE),
    Row(REFUSING, "data", "", REFUSING, ("keep_refusal_body",)),
    Impossible(REFUSING, "reply", _READER_ONLY),
    Impossible(REFUSING, "bad_reply", _READER_ONLY),
    Row(
        REFUSING,
        "refusal_read",
        "challenged",
        FAILED,
        ("abort_transport", "fail_authentication"),
    ),
    Row(REFUSING, "refusal_read", "not challenged", FAILED, ("abort_transport", "fail_refused")),
    Impossible(REFUSING, "handshake_done", _TLS_ONLY),
    Row(REFUSING, "connection_lost", "challenged", FAILED, ("fail_authentication",)),
    Row(REFUSING, "connection_lost", "not challenged", FAILED, ("fail_refused",)),
    Row(REFUSING, "timeout", "challenged", FAILED, ("abort_transport", "fail_authentication")),
    Row(REFUSING, "timeout", "not challenged", FAILED, ("abort_transport", "fail_refused")),
    Row(REFUSING, "cancel", "", FAILED, ("abort_transport", "fail_cancelled")),
    # HANDSHAKING
    Impossible(HANDSHAKING, "connected", _CONNECTED_ONCE),
    Impossible(HANDSHAKING, "unreachable", _CONNECTED_ONCE),
    Impossible(
        HANDSHAKING,
        "data",
        "TLS delivers no plaintext before its handshake has finished",
    ),
    Impossible(HANDSHAKING, "reply", _READER_ONLY),
    Impossible(HANDSHAKING, "bad_reply", _READER_ONLY),
    Impossible(HANDSHAKING, "refusal_read", _REFUSAL_ONLY),
    Row(HANDSHAKING, "handshake_done", "", OPEN, ("hand_over",)),
    Row(HANDSHAKING, "connection_lost", "tls_refused", FAILED, ("fail_tls",)),
    Row(HANDSHAKING, "connection_lost", "not tls_refused", FAILED, ("fail_lost",)),
    Row(HANDSHAKING, "timeout", "", FAILED, ("abort_transport", "fail_timeout")),
    Row(HANDSHAKING, "cancel", "", FAILED, ("abort_transport", "fail_cancelled")),
    # OPEN
    Impossible(OPEN, "connected", _CONNECTED_ONCE),
    Impossible(OPEN, "unreachable", _CONNECTED_ONCE),
    Row(OPEN, "data", "", OPEN, ("pass_on",)),
    Impossible(OPEN, "reply", _READER_ONLY),
    Impossible(OPEN, "bad_reply", _READER_ONLY),
    Impossible(OPEN, "refusal_read", _REFUSAL_ONLY),
    Impossible(OPEN, "handshake_done", _TLS_ONLY),
    Row(OPEN, "connection_lost", "", CLOSED, ("pass_loss",)),
    Impossible(OPEN, "timeout", _SETTLED),
    Impossible(OPEN, "cancel", _SETTLED),
    # FAILED
    Row(FAILED, "connected", "", FAILED, ("abort_transport",)),
    Row(FAILED, "unreachable", "", FAILED, ()),
    Row(FAILED, "data", "", FAILED, ()),
    Impossible(FAILED, "reply", _READER_ONLY),
    Impossible(FAILED, "bad_reply", _READER_ONLY),
    Impossible(FAILED, "refusal_read", _REFUSAL_ONLY),
    Impossible(FAILED, "handshake_done", "TLS stops with the aborted connection"),
    Row(FAILED, "connection_lost", "", FAILED, ()),
    Impossible(FAILED, "timeout", _SETTLED),
    Impossible(FAILED, "cancel", _SETTLED),
    # CLOSED
    Impossible(CLOSED, "connected", _CONNECTED_ONCE),
    Impossible(CLOSED, "unreachable", _CONNECTED_ONCE),
    Impossible(CLOSED, "data", _GONE),
    Impossible(CLOSED, "reply", _READER_ONLY),
    Impossible(CLOSED, "bad_reply", _READER_ONLY),
    Impossible(CLOSED, "refusal_read", _REFUSAL_ONLY),
    Impossible(CLOSED, "handshake_done", _TLS_ONLY),
    Impossible(CLOSED, "connection_lost", _GONE),
    Impossible(CLOSED, "timeout", _SETTLED),
    Impossible(CLOSED, "cancel", _SETTLED),
)

ROWS = tuple(entry for entry in TABLE if isinstance(entry, Row))
