"""
The set-up of an HTTPS tunnel through an HTTP proxy, declared once.

To reach C{https://origin} through a proxy, the client connects to the
proxy, asks it C{CONNECT origin:443 HTTP/1.1}, and on a 2xx reply starts TLS
with the origin on that very connection; once the handshake is done, the
connection is handed to an ordinary HTTP/1.1 connection (the
L{ConnectionLifecycle}) and the tunnel only passes bytes and the end of the
connection on.  Every way this can go wrong ends in C{FAILED}, having failed
the set-up with one documented exception and closed what was opened: the
proxy unreachable, a malformed reply, a refusal (407 asking for credentials,
or any other status, whose body's start is read first), the connection lost
before TLS finished, the origin's certificate refused, the set-up's timer, or
the caller's cancellation.
"""

from __future__ import annotations

from typing import ClassVar

from .declare import Chart, Input, event, goes, state, stays


class TunnelSetup(Chart):
    """
    One tunnel through a proxy, from the connection to the proxy to the TLS
    connection with the origin handed over, or to its failure.
    """

    # CLOSED ends the chart: nothing can happen there.
    validate_trap_states = False

    failure_states: ClassVar[tuple[str, ...]] = ("FAILED",)

    inputs: ClassVar[dict[str, Input]] = {
        "connected": Input((), "The connection to the proxy is made."),
        "unreachable": Input(("reason",), "The proxy could not be connected to, for reason."),
        "data": Input(("data",), "Bytes arrived: from the proxy before TLS, plaintext after."),
        "reply": Input(("head",), "The head of the proxy's reply to CONNECT has been read: head."),
        "bad_reply": Input(("reason",), "The proxy's reply is not a valid HTTP head: reason."),
        "refusal_read": Input(
            (), "The refusal's body has been read, or as much of its start as is kept."
        ),
        "handshake_done": Input((), "The TLS handshake with the origin has finished."),
        "connection_lost": Input(("reason",), "The connection is lost, for reason."),
        "timeout": Input((), "The set-up took longer than its time limit."),
        "cancel": Input((), "The caller cancelled the set-up."),
    }

    outputs: ClassVar[dict[str, str]] = {
        "send_connect": "Write CONNECT origin HTTP/1.1 with Host and, with credentials, "
        "Proxy-Authorization.",
        "read_reply": "Feed the bytes to the reply's head reader, which reports reply or "
        "bad_reply once it can.",
        "start_tls": "Start TLS with the origin on the connection, verifying its certificate "
        "and host name.",
        "keep_refusal": "Keep the refusing head and the bytes after it as the body's start.",
        "keep_refusal_body": "Keep the bytes as more of the refusal's body, up to a bound.",
        "hand_over": "Stop the timer, connect the HTTP/1.1 connection to the TLS transport "
        "and give it to the caller.",
        "pass_on": "Give the plaintext to the HTTP/1.1 connection.",
        "pass_loss": "Tell the HTTP/1.1 connection its transport is lost.",
        "abort_transport": "Abort the connection to the proxy.",
        "stop_connecting": "Cancel the connection attempt to the proxy.",
        "fail_unreachable": "Fail the set-up with ProxyUnreachable.",
        "fail_bad_reply": "Fail the set-up with ProxyReplyMalformed, saying what is wrong.",
        "fail_overrun": "Fail the set-up with ProxyReplyMalformed: bytes followed the 2xx head.",
        "fail_no_reply": "Fail the set-up with TunnelLost: no reply to CONNECT.",
        "fail_authentication": "Fail the set-up with ProxyAuthenticationRequired (status, "
        "challenge, body's start).",
        "fail_refused": "Fail the set-up with TunnelRefused (status, reason, body's start).",
        "fail_lost": "Fail the set-up with TunnelLost: lost before TLS finished.",
        "fail_tls": "Fail the set-up with OriginTLSFailed.",
        "fail_timeout": "Fail the set-up with TunnelTimeout.",
        "fail_cancelled": "Fail the set-up with CancelledError.",
    }

    conditions: ClassVar[dict[str, str]] = {
        "accepted": "The reply's status is 2xx.",
        "overrun": "Bytes followed the reply's head, before TLS began.",
        "challenged": "The refusal's status is 407 Proxy Authentication Required, or 401 "
        "(which some proxies, tinyproxy among them, send for wrong credentials).",
        "tls_refused": "The loss is TLS's: a handshake error or a certificate refused.",
    }

    connecting = state("CONNECTING", "Connecting to the proxy.", initial=True)
    requested = state("REQUESTED", "CONNECT sent; waiting for the head of the proxy's reply.")
    refusing = state(
        "REFUSING", "The proxy answered with a non-2xx status; reading the start of its body."
    )
    handshaking = state("HANDSHAKING", "The proxy opened the tunnel; TLS with the origin began.")
    carrying = state("OPEN", "The tunnel carries an HTTP/1.1 connection over TLS with the origin.")
    failed = state("FAILED", "The set-up failed and said why; the connection is closed.")
    closed = state("CLOSED", "The tunnel's connection is lost and the HTTP/1.1 connection told.")

    connected = event(
        goes(
            connecting,
            requested,
            effects=("send_connect",),
            doc="Ask the proxy for a tunnel to the origin.",
        )
        | stays(
            failed,
            effects=("abort_transport",),
            doc="A connection made after the set-up was given up is aborted.",
        )
    )

    unreachable = event(
        goes(
            connecting,
            failed,
            effects=("fail_unreachable",),
            doc="The proxy refused the connection, or could not be found or reached.",
        )
        | stays(failed, doc="The cancelled attempt reports its end; already reported.")
    )

    data = event(
        stays(requested, effects=("read_reply",), doc="Part or all of the reply's head.")
        | stays(refusing, effects=("keep_refusal_body",), doc="More of the refusal's body.")
        | stays(carrying, effects=("pass_on",), doc="The origin's plaintext, for the connection.")
        | stays(failed, doc="Bytes after a failure are dropped.")
    )

    reply = event(
        goes(
            requested,
            handshaking,
            cond=("accepted",),
            unless=("overrun",),
            effects=("start_tls",),
            doc="The tunnel is open: TLS with the origin starts on it.",
        )
        | goes(
            requested,
            failed,
            cond=("accepted", "overrun"),
            effects=("abort_transport", "fail_overrun"),
            doc="Bytes came before the client's TLS hello: they cannot be the origin's.",
        )
        | goes(
            requested,
            refusing,
            unless=("accepted",),
            effects=("keep_refusal",),
            doc="The proxy refused; its body's start is read to say why.",
        )
    )

    bad_reply = event(
        goes(
            requested,
            failed,
            effects=("abort_transport", "fail_bad_reply"),
            doc="Not an HTTP reply, or a head beyond the limit.",
        )
    )

    refusal_read = event(
        goes(
            refusing,
            failed,
            cond=("challenged",),
            effects=("abort_transport", "fail_authentication"),
            doc="The proxy wants (other) credentials.",
        )
        | goes(
            refusing,
            failed,
            unless=("challenged",),
            effects=("abort_transport", "fail_refused"),
            doc="The proxy refused for another reason.",
        )
    )

    handshake_done = event(
        goes(
            handshaking,
            carrying,
            effects=("hand_over",),
            doc="The origin's certificate and name are verified: the connection is ready.",
        )
    )

    connection_lost = event(
        goes(
            requested,
            failed,
            effects=("fail_no_reply",),
            doc="The proxy closed before replying.",
        )
        | goes(
            refusing,
            failed,
            cond=("challenged",),
            effects=("fail_authentication",),
            doc="The refusal's body ended with the connection: credentials wanted.",
        )
        | goes(
            refusing,
            failed,
            unless=("challenged",),
            effects=("fail_refused",),
            doc="The refusal's body ended with the connection.",
        )
        | goes(
            handshaking,
            failed,
            cond=("tls_refused",),
            effects=("fail_tls",),
            doc="TLS with the origin failed: its certificate or name was refused.",
        )
        | goes(
            handshaking,
            failed,
            unless=("tls_refused",),
            effects=("fail_lost",),
            doc="The tunnel was lost before TLS finished.",
        )
        | goes(
            carrying,
            closed,
            effects=("pass_loss",),
            doc="The connection ends; the HTTP/1.1 connection is told.",
        )
        | stays(failed, doc="The loss that follows a failure; already reported.")
    )

    timeout = event(
        goes(
            connecting,
            failed,
            effects=("stop_connecting", "fail_timeout"),
            doc="The proxy did not accept the connection in time.",
        )
        | goes(
            requested,
            failed,
            effects=("abort_transport", "fail_timeout"),
            doc="The proxy did not reply in time.",
        )
        | goes(
            refusing,
            failed,
            cond=("challenged",),
            effects=("abort_transport", "fail_authentication"),
            doc="The refusal's body did not end in time: what came is reported.",
        )
        | goes(
            refusing,
            failed,
            unless=("challenged",),
            effects=("abort_transport", "fail_refused"),
            doc="The refusal's body did not end in time: what came is reported.",
        )
        | goes(
            handshaking,
            failed,
            effects=("abort_transport", "fail_timeout"),
            doc="TLS with the origin did not finish in time.",
        )
    )

    cancel = event(
        goes(
            connecting,
            failed,
            effects=("stop_connecting", "fail_cancelled"),
            doc="Given up while connecting to the proxy.",
        )
        | goes(
            requested,
            failed,
            effects=("abort_transport", "fail_cancelled"),
            doc="Given up while waiting for the reply.",
        )
        | goes(
            refusing,
            failed,
            effects=("abort_transport", "fail_cancelled"),
            doc="Given up while reading a refusal.",
        )
        | goes(
            handshaking,
            failed,
            effects=("abort_transport", "fail_cancelled"),
            doc="Given up during TLS with the origin.",
        )
    )
