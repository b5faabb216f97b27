"""
The exhaustive checker, for the tunnel's set-up: every sequence of tunnel
inputs (L{ALPHABET}) up to a depth, driven through a real L{Tunnel} with the
fakes of tests/support/tunnel_rig.py, with the tunnel's promises checked after every
step.

As for the connection (tests/support/checker.py), a configuration is expanded once:
L{fingerprint} says what a configuration is, and to take a step from one the
checker replays the sequence that first reached it on a fresh tunnel.

After every step, L{check_step} checks:

  - nothing raised out of the tunnel's public calls;
  - every transition taken is a row of tests/tables/tunnel_table.py, the rows chain
    from the state before the step to the state after it, and the effects
    that ran are exactly the rows' effects, in order;
  - the set-up's Deferred fires at most once; it has fired exactly in OPEN,
    CLOSED and FAILED; in OPEN and CLOSED with the HTTP/1.1 connection, in
    FAILED with a documented exception that fits the step that caused it (a
    refusal only from the proxy's bytes, the loss or the timer; a 407 or
    401 refusal as ProxyAuthenticationRequired, any other as TunnelRefused;
    a TLS failure only from a loss carrying TLS's error...);
  - the set-up's timer is pending exactly while the set-up is under way;
  - in FAILED, a connection to the proxy that is not lost has been aborted:
    nothing stays open, so nothing can be left in a pool;
  - the HTTP/1.1 connection exists exactly in OPEN and CLOSED, has received
    exactly the plaintext that came after the handshake, and has been told
    of the loss exactly in CLOSED;
  - no Deferred reported an unhandled error.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.defer import CancelledError
from twisted.logger import globalLogPublisher
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
from httpchart.statechart import TransitionRecord

from ..tables import tunnel_table as t
from .checker import frozen_heap
from .tunnel_rig import SpyTunnel, TunnelRig, tls_error

TABLE_RECORDS = frozenset(TransitionRecord(r.state, r.event, r.target, r.effects) for r in t.ROWS)
UNDER_WAY = (t.CONNECTING, t.REQUESTED, t.REFUSING, t.HANDSHAKING)

OK = b"HTTP/1.1 200 Connection established\r\n\r\n"


@dataclass(frozen=True)
class TunnelInput:
    """
    One thing that can happen to a tunnel.

    @ivar kind: C{connect}, C{refuse}, C{bytes} (from the proxy, before
        TLS), C{handshake}, C{plaintext} (after it), C{lose}, C{lose_tls},
        C{tick} or C{cancel}.
    """

    name: str
    kind: str
    data: bytes = b""

    def enabled(self, rig: TunnelRig) -> bool:
        transport = rig.transport
        live = transport is not None and not rig.lost
        if self.kind == "connect":
            return transport is None
        if self.kind == "refuse":
            return transport is None and not rig.proxy_endpoint.attempts[-1][1].called
        if self.kind == "bytes":
            return live and transport is not None and not transport.TLS
        if self.kind in ("handshake", "lose_tls"):
            tls = live and transport is not None and transport.TLS and not transport.aborted
            return tls and not rig.handshaken
        if self.kind == "plaintext":
            return live and rig.handshaken
        if self.kind == "lose":
            return live
        return True

    def apply(self, rig: TunnelRig) -> None:
        if self.kind == "connect":
            rig.connect()
        elif self.kind == "refuse":
            rig.refuse()
        elif self.kind in ("bytes", "plaintext"):
            rig.feed(self.data)
        elif self.kind == "handshake":
            rig.handshake()
        elif self.kind == "lose":
            rig.lose()
        elif self.kind == "lose_tls":
            rig.lose(tls_error())
        elif self.kind == "tick":
            rig.tick()
        else:
            rig.cancel()


ALPHABET: tuple[TunnelInput, ...] = (
    TunnelInput("connected", "connect"),
    TunnelInput("refused", "refuse"),
    TunnelInput("200", "bytes", OK),
    TunnelInput("200+bytes", "bytes", OK + b"\x16\x03\x01"),
    TunnelInput("head cut", "bytes", b"HTTP/1.1 200 Conn"),
    TunnelInput("500 (4 bytes)", "bytes", b"HTTP/1.1 500 No\r\nContent-Length: 4\r\n\r\n"),
    TunnelInput(
        "407 (4 bytes)",
        "bytes",
        b"HTTP/1.0 407 Auth\r\nProxy-Authenticate: Basic\r\nContent-Length: 4\r\n\r\n",
    ),
    TunnelInput("502 (until close)", "bytes", b"HTTP/1.1 502 Bad Gateway\r\n\r\n"),
    TunnelInput("2 bytes", "bytes", b"ab"),
    TunnelInput("garbage", "bytes", b"garbage\r\n\r\n"),
    TunnelInput("handshake", "handshake"),
    TunnelInput("plaintext", "plaintext", b"HTTP/1.1 200 OK\r\n"),
    TunnelInput("lost", "lose"),
    TunnelInput("lost (TLS error)", "lose_tls"),
    TunnelInput("timer", "tick"),
    TunnelInput("cancel", "cancel"),
)


class TunnelViolation(AssertionError):
    """
    A promise the tunnel broke, with the input sequence that broke it.
    """

    def __init__(self, steps: list[str], message: str) -> None:
        super().__init__(f"{message}\n  sequence: {' ; '.join(steps) or '(none)'}")


@dataclass
class TunnelRun:
    """
    One tunnel driven through a sequence of inputs.
    """

    rig: TunnelRig
    steps: list[str] = field(default_factory=list)
    plaintext: list[bytes] = field(default_factory=list)

    def fail(self, message: str) -> TunnelViolation:
        return TunnelViolation(self.steps, message)


def fingerprint(run: TunnelRun) -> tuple[object, ...]:
    """
    Everything the tunnel's future depends on: its state, the reply's reader
    (the bytes it holds), the refusal kept (status, body's start, bytes
    received), whether the set-up's Deferred fired and with what, the
    fakes' flags (connected, TLS, aborted, lost, handshaken, the attempt
    settled), the timer, and what the HTTP/1.1 connection was given.
    """
    rig = run.rig
    tunnel = rig.tunnel
    transport = rig.transport
    refusal = tunnel._refusal
    return (
        rig.state,
        tunnel._reader._buffer,
        None if refusal is None else refusal.status,
        tunnel._body,
        tunnel._received,
        tuple(_describe(outcome, rig) for outcome in rig.outcomes),
        None if transport is None else (transport.TLS, transport.aborted),
        rig.lost,
        rig.handshaken,
        rig.proxy_endpoint.attempts[-1][1].called,
        bool(rig.clock.getDelayedCalls()),
        None if rig.inner is None else (len(rig.inner.received), len(rig.inner.lost)),
    )


def _describe(outcome: object, rig: TunnelRig) -> str:
    if isinstance(outcome, Failure):
        return outcome.type.__name__
    return "connection" if outcome is rig.inner else repr(outcome)


# What each failure may come from.
FITS: dict[type[BaseException], frozenset[str]] = {
    ProxyUnreachable: frozenset({"refuse"}),
    ProxyReplyMalformed: frozenset({"bytes"}),
    ProxyAuthenticationRequired: frozenset({"bytes", "lose", "tick"}),
    TunnelRefused: frozenset({"bytes", "lose", "tick"}),
    TunnelLost: frozenset({"lose"}),
    OriginTLSFailed: frozenset({"lose_tls"}),
    TunnelTimeout: frozenset({"tick"}),
    CancelledError: frozenset({"cancel"}),
}


def advance(run: TunnelRun, entry: TunnelInput, *, check: bool = True) -> None:
    """
    Apply C{entry}, and (with C{check}) check every promise.
    """
    rig = run.rig
    state = rig.state
    fired = len(rig.outcomes)
    raised: list[BaseException] = []

    handshaken = rig.handshaken
    rig.records.clear()
    rig.tunnel.effect_calls.clear()
    try:
        entry.apply(rig)
    except Exception as error:
        raised.append(error)
    records, calls = list(rig.records), list(rig.tunnel.effect_calls)
    run.steps.append(entry.name)
    if entry.kind == "plaintext" and handshaken:
        run.plaintext.append(entry.data)
    if not check:
        return
    if raised:
        raise run.fail(f"{entry.name} raised out of the tunnel: {raised[0]!r}")
    for record in records:
        if record not in TABLE_RECORDS:
            raise run.fail(f"a transition the table does not list: {record}")
        if record.source != state:
            raise run.fail(f"{record} does not start where the tunnel was ({state})")
        state = record.target
    if rig.state != state:
        raise run.fail(f"the tunnel is in {rig.state}, its transitions led to {state}")
    expected = [effect for record in records for effect in record.effects]
    if calls != expected:
        raise run.fail(f"effects ran {calls}, the transitions name {expected}")
    _check_outcome(run, entry, fired)
    _check_resources(run)


def _check_outcome(run: TunnelRun, entry: TunnelInput, fired: int) -> None:
    rig = run.rig
    settled = rig.state in (t.OPEN, t.CLOSED, t.FAILED)
    if len(rig.outcomes) > 1:
        raise run.fail(f"the set-up's Deferred fired {len(rig.outcomes)} times")
    if bool(rig.outcomes) is not settled:
        raise run.fail(f"in {rig.state} the set-up's Deferred has fired: {bool(rig.outcomes)}")
    if not rig.outcomes or fired:
        return
    (outcome,) = rig.outcomes
    if rig.state in (t.OPEN, t.CLOSED):
        if outcome is not rig.inner or rig.inner is None:
            raise run.fail(f"the tunnel opened with {outcome!r}, not the connection")
        return
    if not isinstance(outcome, Failure):
        raise run.fail(f"the set-up failed with {outcome!r}, not a failure")
    kind = type(outcome.value)
    if kind not in FITS or entry.kind not in FITS[kind]:
        raise run.fail(f"{kind.__name__} does not fit {entry.name}")
    refusal = rig.tunnel._refusal
    if isinstance(outcome.value, TunnelRefused):
        challenged = refusal is not None and refusal.status in (401, 407)
        if challenged is not isinstance(outcome.value, ProxyAuthenticationRequired):
            raise run.fail(f"a {refusal and refusal.status} refusal reported as {kind.__name__}")


def _check_resources(run: TunnelRun) -> None:
    rig = run.rig
    if bool(rig.clock.getDelayedCalls()) is not (rig.state in UNDER_WAY):
        raise run.fail(f"in {rig.state} the set-up's timer pending: {rig.state not in UNDER_WAY}")
    transport = rig.transport
    if rig.state == t.FAILED and transport is not None and not rig.lost and not transport.aborted:
        raise run.fail("the set-up failed and left the connection to the proxy open")
    inner = rig.inner
    if (inner is not None) is not (rig.state in (t.OPEN, t.CLOSED)):
        raise run.fail(f"in {rig.state} the HTTP/1.1 connection exists: {inner is not None}")
    if inner is not None:
        if inner.received != run.plaintext:
            raise run.fail(f"the connection received {inner.received}, not {run.plaintext}")
        if bool(inner.lost) is not (rig.state == t.CLOSED) or len(inner.lost) > 1:
            raise run.fail(f"the connection was told of {len(inner.lost)} losses in {rig.state}")


@dataclass
class TunnelExploration:
    """
    The configurations reached within C{depth} inputs and the edges between
    them (input name, target, transitions).
    """

    engine: str
    depth: int
    root: tuple[object, ...]
    graph: dict[tuple[object, ...], tuple[tuple[str, tuple[object, ...], tuple[Any, ...]], ...]]
    seconds: float

    def sequences(self) -> int:
        memo: dict[tuple[tuple[object, ...], int], int] = {}

        def count(node: tuple[object, ...], left: int) -> int:
            if left == 0:
                return 1
            if (node, left) not in memo:
                memo[node, left] = sum(count(e[1], left - 1) for e in self.graph.get(node, ()))
            return memo[node, left]

        return count(self.root, self.depth)

    def rows(self) -> set[TransitionRecord]:
        return {r for edges in self.graph.values() for e in edges for r in e[2]}

    def summary(self) -> str:
        return (
            f"tunnel set-up, {self.engine} engine, depth {self.depth}: "
            f"{len(self.graph)} configurations expanded, {self.sequences()} sequences, "
            f"{len(self.rows())}/{len(TABLE_RECORDS)} table rows, {self.seconds:.1f} s"
        )


@contextmanager
def _watching(unhandled: list[dict[str, Any]]) -> Iterator[None]:
    def logged(event: dict[str, Any]) -> None:
        if "Unhandled error in Deferred" in (event.get("log_format") or ""):
            unhandled.append(event)

    globalLogPublisher.addObserver(logged)
    try:
        yield
    finally:
        globalLogPublisher.removeObserver(logged)


def explore(engine: str, depth: int, tunnel_class: type[Any] = SpyTunnel) -> TunnelExploration:
    """
    Check every sequence of up to C{depth} inputs on a tunnel of
    C{tunnel_class} (a L{spied} class) running C{engine}.

    @raise TunnelViolation: A promise was broken.
    """
    began = time.perf_counter()
    graph: dict[tuple[object, ...], tuple[tuple[str, tuple[object, ...], tuple[Any, ...]], ...]]
    graph = {}
    prefixes: dict[tuple[object, ...], tuple[TunnelInput, ...]] = {}
    expanded: dict[tuple[object, ...], int] = {}
    unhandled: list[dict[str, Any]] = []

    def replay(prefix: tuple[TunnelInput, ...]) -> TunnelRun:
        run = TunnelRun(TunnelRig(engine, tunnel_class=tunnel_class))
        for entry in prefix:
            advance(run, entry, check=False)
        return run

    def visit(node: tuple[object, ...], left: int) -> None:
        if left == 0 or expanded.get(node, 0) >= left:
            return
        expanded[node] = left
        if node not in graph:
            prefix = prefixes[node]
            probe = replay(prefix)
            if fingerprint(probe) != node:
                raise probe.fail("replaying the sequence did not reach the same configuration")
            edges = []
            for entry in [e for e in ALPHABET if e.enabled(probe.rig)]:
                run = replay(prefix)
                advance(run, entry)
                target = fingerprint(run)
                records = tuple(run.rig.records)
                del run
                gc.collect()
                if unhandled:
                    raise TunnelViolation(
                        [e.name for e in (*prefix, entry)], f"unhandled error: {unhandled[0]}"
                    )
                # What survives need not be looked at by later collections.
                gc.freeze()
                prefixes.setdefault(target, (*prefix, entry))
                edges.append((entry.name, target, records))
            graph[node] = tuple(edges)
        for edge in graph[node]:
            visit(edge[1], left - 1)

    with frozen_heap(), _watching(unhandled):
        start = TunnelRun(TunnelRig(engine, tunnel_class=tunnel_class))
        root = fingerprint(start)
        prefixes[root] = ()
        visit(root, depth)
    return TunnelExploration(engine, depth, root, graph, time.perf_counter() - began)
