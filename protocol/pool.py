"""
L{HTTPConnectionPool}: Twisted's connection pool, with every connection an
httpchart L{HTTP11ClientProtocol}.

Twisted's L{twisted.web.client.Agent} (and treq, which is built on it) gets
its connections from a pool.  Handing it this pool is the whole switch::

    agent = Agent(reactor, pool=HTTPConnectionPool(reactor))

The pool is Twisted's own: cached persistent connections, their timeouts,
the limit per host, C{closeCachedConnections()} and the single automatic
retry of an idempotent request that failed on a cached connection all behave
as Twisted's do.  Only the connections differ, plus an optional observer that
sees every transition of every connection the pool opens.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from itertools import count
from typing import Any, ClassVar

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IAddress
from twisted.internet.protocol import Factory
from twisted.web import client

from .client import HTTP11ClientProtocol
from .observe import ConnectionObserver
from .timeouts import Timeouts

QuiescentCallback = Callable[[HTTP11ClientProtocol], object]

POOL_TIMEOUTS = Timeouts(response=300.0, read=300.0, total=None, expect_continue=1.0)
"""
The timeouts of an L{HTTPConnectionPool}'s connections unless it is given
others: five minutes for the response's head once the request is written,
and five minutes of silence while a response is read; no total limit,
since a large download may rightly take longer.
"""

# Connection numbers are shared by every pool in the process, so that the
# transitions of connections from different pools never share a number in a
# log.
_numbers = count(1)


class HTTP11ClientFactory(Factory[HTTP11ClientProtocol]):
    """
    Builds the httpchart connections of an L{HTTPConnectionPool}; it takes
    the same arguments as Twisted's private C{_HTTP11ClientFactory}, which
    Twisted's pool calls.

    @ivar protocol: The connection class.
    @ivar observer: If not C{None}, every connection built gets the next
        connection number and reports its transitions to C{observer} with
        that number.
    """

    protocol: type[HTTP11ClientProtocol]

    def __init__(
        self,
        quiescentCallback: QuiescentCallback,
        metadata: str,
        *,
        protocol: type[HTTP11ClientProtocol] = HTTP11ClientProtocol,
        observer: ConnectionObserver | None = None,
        timeouts: Timeouts | None = None,
        clock: Any = None,
    ) -> None:
        """
        @param quiescentCallback: Given to every connection: the pool takes
            an idle connection back through it.
        @param metadata: Describes where the connections go, for C{repr}.
        """
        self._quiescentCallback = quiescentCallback
        self._metadata = metadata
        self.protocol = protocol
        self.observer = observer
        self.timeouts = timeouts
        self.clock = clock

    def __repr__(self) -> str:
        return f"HTTP11ClientFactory({self._quiescentCallback!r}, {self._metadata})"

    def buildProtocol(self, addr: IAddress | None) -> HTTP11ClientProtocol:
        if self.observer is None:
            return self.protocol(self._quiescentCallback, timeouts=self.timeouts, clock=self.clock)
        number = next(_numbers)
        return self.protocol(
            self._quiescentCallback,
            observer=partial(self.observer, number),
            timeouts=self.timeouts,
            clock=self.clock,
        )


class HTTPConnectionPool(client.HTTPConnectionPool):
    """
    A drop-in for L{twisted.web.client.HTTPConnectionPool} whose connections
    are httpchart's L{HTTP11ClientProtocol}.

    @cvar protocol: The connection class the pool builds; a subclass may
        choose another (for instance one running the reference engine).
    """

    protocol: ClassVar[type[HTTP11ClientProtocol]] = HTTP11ClientProtocol

    def __init__(
        self,
        reactor: Any,
        persistent: bool = True,
        *,
        observer: ConnectionObserver | None = None,
        timeouts: Timeouts | None = POOL_TIMEOUTS,
    ) -> None:
        """
        @param reactor: The reactor used for connection timeouts and the
            connections' timers.
        @param persistent: Whether connections are kept for further requests
            (Twisted's default pool for a bare L{Agent} is not persistent).
        @param observer: Called with a connection number and the
            L{TransitionRecord} of every transition of every connection this
            pool opens; L{httpchart.protocol.observe.log_transition} turns
            them into log events.  Without one, connections are not observed
            at all.
        @param timeouts: The L{Timeouts} of every connection this pool
            opens (L{POOL_TIMEOUTS} unless given; C{None} for none but
            the default C{expect_continue}).
        """
        super().__init__(reactor, persistent)  # type: ignore[no-untyped-call]
        self.observer = observer
        self.timeouts = timeouts

    def closeCachedConnections(self) -> Deferred[None]:
        """
        Close every idle connection the pool holds and forget them.

        @return: Fires once all of them are closed.
        """
        closed: Deferred[None] = super().closeCachedConnections()  # type: ignore[no-untyped-call]
        return closed

    # Twisted's pool opens each connection with a factory made by calling
    # self._factory(quiescentCallback, metadata); Twisted's own tests replace
    # it on the instance.  A method keeps that seam and lets the factory carry
    # this pool's protocol class and observer.
    def _factory(  # type: ignore[override]
        self, quiescentCallback: QuiescentCallback, metadata: str
    ) -> HTTP11ClientFactory:
        return HTTP11ClientFactory(
            quiescentCallback,
            metadata,
            protocol=self.protocol,
            observer=self.observer,
            timeouts=self.timeouts,
            clock=self._reactor,
        )
