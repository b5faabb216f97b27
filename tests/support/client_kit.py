"""
Client-side helpers for the end-to-end tests: a pool observer that tracks
connections, body consumers, and request body producers.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import Deferred, gatherResults, succeed
from twisted.internet.protocol import Protocol, connectionDone
from twisted.python.failure import Failure
from twisted.web.client import PotentialDataLoss, ResponseDone
from twisted.web.iweb import UNKNOWN_LENGTH, IBodyProducer, IResponse
from zope.interface import implementer

from httpchart.statechart import ChartSpec, TransitionRecord
from httpchart.statechart.pool import HostPool

# A record is the pool's when it leaves one of the pool chart's states (the
# two charts share event names, such as cancel, but no state).
_POOL_STATES = frozenset(ChartSpec.of(HostPool).states)


class Tracker:
    """
    A pool observer that records every connection's transitions and tells
    when a connection is lost; the transitions of the pool's keys are kept
    apart, in C{pool_transitions}.
    """

    def __init__(self) -> None:
        self.transitions: dict[int, list[TransitionRecord]] = defaultdict(list)
        self.pool_transitions: list[tuple[int, TransitionRecord]] = []
        self._lost: dict[int, Deferred[None]] = {}

    def __call__(self, number: int, record: TransitionRecord) -> None:
        if record.source in _POOL_STATES:
            self.pool_transitions.append((number, record))
            return
        self.transitions[number].append(record)
        if record.target == "CONNECTION_LOST" and record.source != "CONNECTION_LOST":
            # Fired from the reactor, not from inside the transition.
            reactor.callLater(0, self.lost(number).callback, None)  # type: ignore[attr-defined]

    @property
    def opened(self) -> list[int]:
        """
        The numbers of the connections that have carried a request.
        """
        return sorted(self.transitions)

    def lost(self, number: int) -> Deferred[None]:
        """
        Fires once connection C{number} is lost.
        """
        return self._lost.setdefault(number, Deferred())

    def all_lost(self) -> Deferred[Any]:
        """
        Fires once every connection seen so far is lost.
        """
        return gatherResults([self.lost(number) for number in self.opened])

    def effects(self, number: int) -> list[str]:
        return [effect for record in self.transitions[number] for effect in record.effects]


class Digest(Protocol):
    """
    Consumes a body without keeping it: counts its bytes and hashes them.
    """

    def __init__(self) -> None:
        self.size = 0
        self._hash = hashlib.sha256()
        self.done: Deferred[Digest] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.size += len(data)
        self._hash.update(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if reason.check(ResponseDone, PotentialDataLoss):
            self.done.callback(self)
        else:
            self.done.errback(reason)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


class Collect(Protocol):
    """
    Collects a body in memory.
    """

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.done: Deferred[bytes] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        self._parts.append(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if reason.check(ResponseDone, PotentialDataLoss):
            self.done.callback(b"".join(self._parts))
        else:
            self.done.errback(reason)


def read(response: IResponse) -> Deferred[bytes]:
    """
    The whole body of C{response}.
    """
    collect = Collect()
    response.deliverBody(collect)
    return collect.done


@implementer(IBodyProducer)
class Chunks:
    """
    A request body of unknown length, so that it is sent chunked; written
    one part per reactor turn.
    """

    length = UNKNOWN_LENGTH

    def __init__(self, parts: Sequence[bytes]) -> None:
        self._parts = list(parts)
        self._stopped = False

    def startProducing(self, consumer: Any) -> Deferred[None]:
        done: Deferred[None] = Deferred()

        def write_next() -> None:
            if self._stopped:
                return
            if not self._parts:
                done.callback(None)
                return
            consumer.write(self._parts.pop(0))
            reactor.callLater(0, write_next)  # type: ignore[attr-defined]

        write_next()
        return done

    def stopProducing(self) -> None:
        self._stopped = True

    def pauseProducing(self) -> None:
        """
        The parts are small; there is nothing to pause.
        """

    def resumeProducing(self) -> None:
        """
        See L{pauseProducing}.
        """


@implementer(IBodyProducer)
class Stalled:
    """
    A request body of unknown length that writes its first part and then
    waits until it is told to stop.
    """

    length = UNKNOWN_LENGTH

    def __init__(self, first: bytes) -> None:
        self._first = first
        self.stopped = False

    def startProducing(self, consumer: Any) -> Deferred[None]:
        consumer.write(self._first)
        return Deferred()

    def stopProducing(self) -> None:
        self.stopped = True

    def pauseProducing(self) -> None:
        """
        Nothing is being produced.
        """

    def resumeProducing(self) -> None:
        """
        Nothing is being produced.
        """


@implementer(IBodyProducer)
class Untouched:
    """
    A body of C{length} bytes that notes whether anyone started producing
    it (and then writes it in one piece).
    """

    def __init__(self, length: int) -> None:
        self.length = length
        self.started = False

    def startProducing(self, consumer: Any) -> Deferred[None]:
        self.started = True
        consumer.write(b"x" * self.length)
        return succeed(None)

    def stopProducing(self) -> None:
        pass

    def pauseProducing(self) -> None:
        pass

    def resumeProducing(self) -> None:
        pass


def connection_of(response: IResponse) -> int:
    """
    The number the server gave the connection that carried C{response}.
    """
    (value,) = response.headers.getRawHeaders(b"x-connection", [b"-1"])
    return int(value)
