"""
One tunnel set-up under test, with fakes for everything around it: a clock,
an endpoint to the proxy whose attempts the test settles, a transport that
records what was written, whether TLS started and whether it was aborted,
and an HTTP/1.1 connection that records what the tunnel hands it.

The inputs are the things that happen to a tunnel in real life, through the
calls Twisted makes: the connection to the proxy made or refused, bytes
from the proxy, TLS's handshake finishing, the connection lost (plainly, or
with TLS's error), the set-up's timer, the caller cancelling.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from typing import Any

from OpenSSL import SSL
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionLost, ConnectionRefusedError
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from httpchart.protocol.proxy_url import Proxy
from httpchart.protocol.tunnel import Tunnel, TunnelEndpoint
from httpchart.statechart import ChartSpec, ReferenceEngine, TransitionRecord, TunnelSetup

from .rig import spied

SpyTunnel = spied(Tunnel)
TIMEOUT = 30.0
ORIGIN = b"origin.example"


class TLSTransport(StringTransport):
    """
    A transport that can start TLS and be aborted, and says so.
    """

    def __init__(self) -> None:
        super().__init__()
        self.TLS = False
        self.creator: object = None
        self.aborted = False

    def startTLS(self, creator: object) -> None:
        self.TLS = True
        self.creator = creator

    def abortConnection(self) -> None:
        self.aborted = True
        self.disconnecting = True


class ProxyEndpoint:
    """
    Connects nowhere: each attempt waits for the test to settle it.
    """

    def __init__(self) -> None:
        self.attempts: list[tuple[Factory[Any], Deferred[Any]]] = []

    def connect(self, factory: Factory[Any]) -> Deferred[Any]:
        attempt: Deferred[Any] = Deferred()
        self.attempts.append((factory, attempt))
        return attempt


class Inner(Protocol):
    """
    The HTTP/1.1 connection the tunnel hands over to: it records.
    """

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.lost: list[Failure] = []

    def dataReceived(self, data: bytes) -> None:
        self.received.append(data)

    def connectionLost(self, reason: Failure = Failure(ConnectionLost())) -> None:  # noqa: B008
        self.lost.append(reason)


class InnerFactory(Factory[Inner]):
    def __init__(self) -> None:
        self.built: list[Inner] = []

    def buildProtocol(self, addr: Any) -> Inner:
        inner = Inner()
        self.built.append(inner)
        return inner


def tls_error() -> Failure:
    """
    What TLS reports when the origin's certificate is refused.
    """
    return Failure(SSL.Error([("SSL routines", "", "certificate verify failed")]))


@dataclass
class TunnelRig:
    """
    A tunnel, its fakes, and what happened to it.

    @ivar tunnel_class: The tunnel's class, a L{spied} one.
    @ivar outcomes: What the tunnel's C{ready} Deferred fired with.
    """

    engine: str = "compiled"
    credentials: bool = False
    tunnel_class: type[Any] = SpyTunnel
    records: list[TransitionRecord] = field(default_factory=list)
    outcomes: list[object] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.clock = Clock()
        self.proxy_endpoint = ProxyEndpoint()
        url = b"http://user:secret@127.0.0.1:3128" if self.credentials else b"127.0.0.1:3128"
        self.proxy = Proxy.parse(url)
        self.creator = object()
        self.endpoint = TunnelEndpoint(
            self.clock, self.proxy_endpoint, self.proxy, ORIGIN, 443, self.creator, TIMEOUT
        )
        self.factory = InnerFactory()
        self.transport: TLSTransport | None = None
        self.tunnel = self.tunnel_class(self.endpoint, self.factory)
        self.tunnel.effect_calls = []
        self.tunnel._observer = self.records.append
        if self.engine == "reference":
            self.tunnel._fire = ReferenceEngine(ChartSpec.of(TunnelSetup), self.tunnel).fire
        self.tunnel.start()
        self.tunnel.ready.addBoth(self._settled)
        self.handshaken = False
        self.lost = False

    def _settled(self, outcome: object) -> None:
        self.outcomes.append(outcome)

    @property
    def state(self) -> str:
        return str(self.tunnel.state)

    @property
    def inner(self) -> Inner | None:
        return self.factory.built[-1] if self.factory.built else None

    # The inputs.

    def connect(self) -> None:
        """
        The connection to the proxy is made (even after the attempt was
        given up, as a racing connection could be).
        """
        factory, attempt = self.proxy_endpoint.attempts[-1]
        protocol = factory.buildProtocol(None)
        self.transport = TLSTransport()
        protocol.makeConnection(self.transport)
        if not attempt.called:
            attempt.callback(protocol)

    def refuse(self) -> None:
        """
        The proxy refuses the connection.
        """
        _, attempt = self.proxy_endpoint.attempts[-1]
        attempt.errback(Failure(ConnectionRefusedError("Connection refused")))

    def feed(self, data: bytes) -> None:
        self.tunnel.dataReceived(data)

    def handshake(self) -> None:
        self.handshaken = True
        self.tunnel.handshakeCompleted()

    def lose(self, reason: Failure | None = None) -> None:
        self.lost = True
        self.tunnel.connectionLost(reason or Failure(ConnectionLost("gone")))

    def tick(self) -> None:
        """
        Let the set-up's time run out.
        """
        self.clock.advance(TIMEOUT)

    def cancel(self) -> None:
        self.tunnel.ready.cancel()

    def act(self, action: Any) -> tuple[list[TransitionRecord], list[str]]:
        """
        Run C{action(self)}; the transitions and effects it caused.
        """
        self.records.clear()
        self.tunnel.effect_calls.clear()
        action(self)
        gc.collect()
        return list(self.records), list(self.tunnel.effect_calls)

    def written(self) -> bytes:
        return self.transport.value() if self.transport is not None else b""
