"""
A real Tunnel follows every cell of tests/tables/tunnel_table.py, on both engines.

Each row has a scenario: inputs that bring a tunnel (tests/support/tunnel_rig.py)
into the row's state, then the input that makes the row's event happen.  The
test checks that the row's transition was taken, that every transition the
input caused is a row, that the effects ran in the declared order, and what
the caller and the proxy see: the set-up's outcome (the documented exception
with what it keeps, or the HTTP/1.1 connection), the bytes written, TLS,
the abort.  Impossible cells raise LifecycleError and change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure

from httpchart.protocol import (
    OriginTLSFailed,
    ProxyAuthenticationRequired,
    ProxyReplyMalformed,
    ProxyUnreachable,
    TunnelLost,
    TunnelRefused,
    TunnelTimeout,
)
from httpchart.protocol.tunnel import ReplyHead
from httpchart.statechart import LifecycleError, TransitionRecord

from .support.tunnel_rig import TunnelRig, tls_error
from .tables import tunnel_table as t
from .tables.transition_table import Impossible, Row

OK = b"HTTP/1.1 200 Connection established\r\n\r\n"
REFUSED = b"HTTP/1.1 500 Unable to connect\r\nContent-Length: 8\r\n\r\n"
CHALLENGE = (
    b"HTTP/1.0 407 Proxy Authentication Required\r\n"
    b'Proxy-Authenticate: Basic realm="test"\r\nContent-Length: 6\r\n\r\n'
)

Action = Callable[[TunnelRig], None]


def feed(data: bytes) -> Action:
    return lambda rig: rig.feed(data)


def connect(rig: TunnelRig) -> None:
    rig.connect()


def refuse(rig: TunnelRig) -> None:
    rig.refuse()


def lose(rig: TunnelRig) -> None:
    rig.lose()


def lose_tls(rig: TunnelRig) -> None:
    rig.lose(tls_error())


def tick(rig: TunnelRig) -> None:
    rig.tick()


def cancel(rig: TunnelRig) -> None:
    rig.cancel()


def handshake(rig: TunnelRig) -> None:
    rig.handshake()


def connect_late(rig: TunnelRig) -> None:
    rig.cancel()
    rig.connect()


AT = {
    t.CONNECTING: (),
    t.REQUESTED: (connect,),
    t.REFUSING: (connect, feed(REFUSED)),
    "REFUSING(407)": (connect, feed(CHALLENGE)),
    t.HANDSHAKING: (connect, feed(OK)),
    t.OPEN: (connect, feed(OK), handshake),
    t.FAILED: (connect, feed(b"garbage\r\n\r\n")),
}

# (state, event, guard) -> (how to get there, the input, what the caller sees)
SCENARIOS: dict[tuple[str, str, str], tuple[tuple[Action, ...], Action, Any]] = {
    (t.CONNECTING, "connected", ""): ((), connect, None),
    (t.CONNECTING, "unreachable", ""): ((), refuse, ProxyUnreachable),
    (t.CONNECTING, "timeout", ""): ((), tick, TunnelTimeout),
    (t.CONNECTING, "cancel", ""): ((), cancel, CancelledError),
    (t.REQUESTED, "data", ""): (AT[t.REQUESTED], feed(b"HTTP/1.1 2"), None),
    (t.REQUESTED, "reply", "accepted and not overrun"): (AT[t.REQUESTED], feed(OK), None),
    (t.REQUESTED, "reply", "accepted and overrun"): (
        AT[t.REQUESTED],
        feed(OK + b"\x16\x03"),
        ProxyReplyMalformed,
    ),
    (t.REQUESTED, "reply", "not accepted"): (AT[t.REQUESTED], feed(REFUSED), None),
    (t.REQUESTED, "bad_reply", ""): (
        AT[t.REQUESTED],
        feed(b"SSH-2.0-OpenSSH\r\n\r\n"),
        ProxyReplyMalformed,
    ),
    (t.REQUESTED, "connection_lost", ""): (AT[t.REQUESTED], lose, TunnelLost),
    (t.REQUESTED, "timeout", ""): (AT[t.REQUESTED], tick, TunnelTimeout),
    (t.REQUESTED, "cancel", ""): (AT[t.REQUESTED], cancel, CancelledError),
    (t.REFUSING, "data", ""): (AT[t.REFUSING], feed(b"no"), None),
    (t.REFUSING, "refusal_read", "challenged"): (
        AT["REFUSING(407)"],
        feed(b"denied"),
        ProxyAuthenticationRequired,
    ),
    (t.REFUSING, "refusal_read", "not challenged"): (
        AT[t.REFUSING],
        feed(b"no route"),
        TunnelRefused,
    ),
    (t.REFUSING, "connection_lost", "challenged"): (
        AT["REFUSING(407)"],
        lose,
        ProxyAuthenticationRequired,
    ),
    (t.REFUSING, "connection_lost", "not challenged"): (AT[t.REFUSING], lose, TunnelRefused),
    (t.REFUSING, "timeout", "challenged"): (
        AT["REFUSING(407)"],
        tick,
        ProxyAuthenticationRequired,
    ),
    (t.REFUSING, "timeout", "not challenged"): (AT[t.REFUSING], tick, TunnelRefused),
    (t.REFUSING, "cancel", ""): (AT[t.REFUSING], cancel, CancelledError),
    (t.HANDSHAKING, "handshake_done", ""): (AT[t.HANDSHAKING], handshake, "connection"),
    (t.HANDSHAKING, "connection_lost", "tls_refused"): (
        AT[t.HANDSHAKING],
        lose_tls,
        OriginTLSFailed,
    ),
    (t.HANDSHAKING, "connection_lost", "not tls_refused"): (
        AT[t.HANDSHAKING],
        lose,
        TunnelLost,
    ),
    (t.HANDSHAKING, "timeout", ""): (AT[t.HANDSHAKING], tick, TunnelTimeout),
    (t.HANDSHAKING, "cancel", ""): (AT[t.HANDSHAKING], cancel, CancelledError),
    (t.OPEN, "data", ""): (AT[t.OPEN], feed(b"HTTP/1.1 200 OK\r\n"), "connection"),
    (t.OPEN, "connection_lost", ""): (AT[t.OPEN], lose, "connection"),
    (t.FAILED, "connected", ""): ((), connect_late, CancelledError),
    (t.FAILED, "unreachable", ""): ((), cancel, CancelledError),
    (t.FAILED, "data", ""): (AT[t.FAILED], feed(b"more"), ProxyReplyMalformed),
    (t.FAILED, "connection_lost", ""): (AT[t.FAILED], lose, ProxyReplyMalformed),
}

ENGINES = pytest.mark.parametrize("engine", ["compiled", "reference"])


def _record(row: Row) -> TransitionRecord:
    return TransitionRecord(row.state, row.event, row.target, row.effects)


def test_every_row_has_a_scenario() -> None:
    assert set(SCENARIOS) == {(r.state, r.event, r.guard) for r in t.ROWS}


@ENGINES
@pytest.mark.parametrize("row", t.ROWS, ids=lambda r: f"{r.state}-{r.event}-{r.guard}")
def test_the_tunnel_takes_the_row(engine: str, row: Row) -> None:
    path, action, expected = SCENARIOS[row.state, row.event, row.guard]
    rig = TunnelRig(engine)
    for step in path:
        step(rig)
    records, effects = rig.act(action)
    table = {_record(r) for r in t.ROWS}
    assert _record(row) in records
    assert set(records) <= table
    assert effects == [effect for record in records for effect in record.effects]
    assert len(rig.outcomes) <= 1
    if expected is None:
        assert rig.outcomes == []
    elif expected == "connection":
        assert rig.outcomes == [rig.inner]
    else:
        (outcome,) = rig.outcomes
        assert isinstance(outcome, Failure)
        assert outcome.check(expected)
    if rig.state == t.FAILED and rig.transport is not None:
        assert rig.transport.aborted or rig.lost
    assert not rig.clock.getDelayedCalls() or rig.state in (
        t.CONNECTING,
        t.REQUESTED,
        t.REFUSING,
        t.HANDSHAKING,
    )


@ENGINES
@pytest.mark.parametrize(
    "cell",
    [c for c in t.TABLE if isinstance(c, Impossible)],
    ids=lambda c: f"{c.state}-{c.event}",
)
def test_an_impossible_cell_raises_and_changes_nothing(engine: str, cell: Impossible) -> None:
    rig = TunnelRig(engine)
    path = AT.get(cell.state, (connect, feed(OK), handshake, lose))
    for step in path:
        step(rig)
    assert rig.state == cell.state
    payloads: dict[str, tuple[Any, ...]] = {
        "data": (b"x",),
        "reply": (ReplyHead(200, b"OK", (), None, b""),),
        "bad_reply": (Failure(ValueError("bad")),),
        "unreachable": (Failure(ValueError("no")),),
        "connection_lost": (Failure(ValueError("gone")),),
    }
    with pytest.raises(LifecycleError):
        getattr(rig.tunnel._fire, cell.event)(rig.tunnel, *payloads.get(cell.event, ()))
    assert rig.state == cell.state


def test_connect_asks_for_the_origin_with_host_and_credentials() -> None:
    rig = TunnelRig(credentials=True)
    rig.connect()
    assert rig.written() == (
        b"CONNECT origin.example:443 HTTP/1.1\r\nHost: origin.example:443\r\n"
        b"Proxy-Authorization: Basic dXNlcjpzZWNyZXQ=\r\n\r\n"
    )


def test_without_credentials_no_authorization_is_sent() -> None:
    rig = TunnelRig()
    rig.connect()
    assert b"Proxy-Authorization" not in rig.written()


def test_tls_starts_with_the_origins_creator_on_a_2xx_and_the_connection_gets_it() -> None:
    rig = TunnelRig()
    rig.connect()
    rig.feed(OK[:10])
    rig.feed(OK[10:])
    assert rig.transport is not None
    assert rig.transport.TLS
    assert rig.transport.creator is rig.creator
    rig.handshake()
    inner = rig.inner
    assert inner is not None
    assert inner.transport is rig.transport
    assert rig.outcomes == [inner]
    rig.feed(b"plain")
    rig.lose()
    assert inner.received == [b"plain"]
    assert len(inner.lost) == 1


def test_interim_replies_are_skipped() -> None:
    rig = TunnelRig()
    rig.connect()
    rig.feed(b"HTTP/1.1 100 Continue\r\n\r\n" + OK)
    assert rig.state == t.HANDSHAKING


def test_407_keeps_status_challenge_and_body_and_says_credentials_were_missing() -> None:
    rig = TunnelRig()
    rig.connect()
    rig.feed(CHALLENGE + b"denied")
    (failure,) = rig.outcomes
    assert isinstance(failure, Failure)
    error = failure.value
    assert isinstance(error, ProxyAuthenticationRequired)
    assert (error.status, error.reason) == (407, b"Proxy Authentication Required")
    assert error.challenge == (b'Basic realm="test"',)
    assert error.body == b"denied"
    assert not error.credentials_sent
    assert "requires credentials" in str(error)
    assert 'Basic realm="test"' in str(error)


def test_refused_credentials_are_said_so_and_never_shown() -> None:
    rig = TunnelRig(credentials=True)
    rig.connect()
    rig.feed(b"HTTP/1.0 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
    (failure,) = rig.outcomes
    assert isinstance(failure, Failure)
    error = failure.value
    assert isinstance(error, ProxyAuthenticationRequired)
    assert error.status == 401
    assert error.credentials_sent
    for shown in (str(error), repr(error), repr(rig.endpoint), repr(rig.proxy)):
        assert "secret" not in shown
        assert "dXNlcjpzZWNyZXQ" not in shown


def test_a_refusal_keeps_status_reason_and_the_start_of_a_long_body() -> None:
    rig = TunnelRig()
    rig.connect()
    rig.feed(b"HTTP/1.1 502 Bad Gateway\r\n\r\n" + b"x" * 5000)
    (failure,) = rig.outcomes
    assert isinstance(failure, Failure)
    error = failure.value
    assert isinstance(error, TunnelRefused)
    assert not isinstance(error, ProxyAuthenticationRequired)
    assert (error.status, error.reason) == (502, b"Bad Gateway")
    assert error.body == b"x" * TunnelRefused.kept
    assert rig.transport is not None
    assert rig.transport.aborted
    assert str(error).startswith(
        "the proxy 127.0.0.1:3128 refused a tunnel to origin.example:443: 502 Bad Gateway: xxx"
    )


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200\r\nBad Header\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n folded: value\r\n\r\n",
        b"HTTP/1.1 500 No\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 500 No\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/2 200\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70000,
    ],
)
def test_malformed_replies_fail_the_set_up(reply: bytes) -> None:
    rig = TunnelRig()
    rig.connect()
    rig.feed(reply)
    (failure,) = rig.outcomes
    assert isinstance(failure, Failure)
    assert failure.check(ProxyReplyMalformed)
    assert rig.state == t.FAILED
    assert rig.transport is not None
    assert rig.transport.aborted


def test_a_tls_failure_keeps_the_tls_error() -> None:
    rig = TunnelRig()
    rig.connect()
    rig.feed(OK)
    rig.lose(tls_error())
    (failure,) = rig.outcomes
    assert isinstance(failure, Failure)
    assert isinstance(failure.value, OriginTLSFailed)
    assert "certificate verify failed" in str(failure.value)


def test_unreachable_says_the_proxy_refused() -> None:
    rig = TunnelRig(credentials=True)
    rig.refuse()
    (failure,) = rig.outcomes
    assert isinstance(failure, Failure)
    assert str(failure.value).startswith("the proxy 127.0.0.1:3128 refused the connection")
