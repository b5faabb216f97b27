"""
Drives many requests, many at a time, through one C{Agent} on httpchart's
pool, and measures what a load test reports: outcomes by kind, connections
opened and most open at once, the process's resident memory along the way,
and the time taken.

Two scales: the short one runs in C{make test}; C{make stress} sets
C{HTTPCHART_STRESS=1} for the full one.
"""

from __future__ import annotations

import os
import resource
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.python.failure import Failure

from httpchart.protocol import HTTP11ClientProtocol, HTTPConnectionPool

_PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


@dataclass(frozen=True)
class Scale:
    """
    How hard the load and fault tests push.

    @ivar concurrency: Requests in flight at once against nginx (and
        connections: one each).
    @ivar requests: Requests against nginx in all.
    @ivar fault_concurrency: Requests in flight at once against the faulty
        server.
    @ivar fault_requests: Requests made while the server misbehaves.
    @ivar recovery_requests: Requests made once it behaves again.
    @ivar patience: Seconds after which a request still unanswered is
        cancelled.
    @ivar pool_limit: The connections a limited pool may hold while
        C{concurrency} callers queue for them.
    """

    name: str
    concurrency: int
    requests: int
    fault_concurrency: int
    fault_requests: int
    recovery_requests: int
    patience: float
    pool_limit: int


SHORT = Scale("short", 200, 5_000, 100, 2_000, 500, 2.0, 20)
FULL = Scale("full", 1_000, 100_000, 500, 20_000, 2_000, 3.0, 50)
SCALE = FULL if os.environ.get("HTTPCHART_STRESS") else SHORT


def rss() -> int:
    """
    The process's resident set size, in bytes.
    """
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE


def allow_open_files(wanted: int) -> int:
    """
    Raise the soft limit on open files towards C{wanted} (never past the
    hard limit); the limit now in force.  Child processes (nginx) inherit it.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


class Meter:
    """
    Counts a pool's connections: opened, open now, most open at once; and
    tells when all of them are closed.
    """

    def __init__(self) -> None:
        self.opened = 0
        self.open = 0
        self.most_open = 0
        self._idle: list[Deferred[None]] = []

    def made(self) -> None:
        self.opened += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)

    def lost(self) -> None:
        self.open -= 1
        if not self.open:
            waiters, self._idle = self._idle, []
            for waiter in waiters:
                waiter.callback(None)

    def all_closed(self) -> Deferred[None]:
        waiter: Deferred[None] = Deferred()
        if not self.open:
            waiter.callback(None)
        else:
            self._idle.append(waiter)
        return waiter


class _MeteredProtocol(HTTP11ClientProtocol):
    meter: Meter

    def connectionMade(self) -> None:
        super().connectionMade()
        self.meter.made()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        super().connectionLost(reason)
        self.meter.lost()


class _Metering(Factory[Protocol]):
    def __init__(self, inner: Any, meter: Meter) -> None:
        self._inner = inner
        self._meter = meter

    def buildProtocol(self, addr: Any) -> Any:
        connection = self._inner.buildProtocol(addr)
        connection.meter = self._meter
        return connection


class MeteredPool(HTTPConnectionPool):
    """
    httpchart's pool, keeping up to C{size} idle connections per host, with
    a L{Meter} on its connections; C{options} go to the pool (limits).
    """

    protocol = _MeteredProtocol

    def __init__(self, reactor: Any, size: int, **options: Any) -> None:
        super().__init__(reactor, **options)
        self.maxPersistentPerHost = size
        self.meter = Meter()

    def _factory(self, quiescentCallback: Any, metadata: str) -> Any:
        return _Metering(super()._factory(quiescentCallback, metadata), self.meter)


@dataclass
class Figures:
    """
    What one run measured.

    @ivar outcomes: How many requests ended each way.
    @ivar rss: Resident memory, in bytes, at C{start}, after the warm-up
        (C{warm}, a fifth of the requests), at C{middle} and at C{end}.
    """

    requests: int
    concurrency: int
    outcomes: Counter[str] = field(default_factory=Counter)
    rss: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def growth_after_warm_up(self) -> int:
        return self.rss["end"] - self.rss["warm"]

    def report(self, title: str, meter: Meter) -> str:
        memory = ", ".join(f"{name} {size / MIB:.1f}" for name, size in self.rss.items())
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(self.outcomes.items()))
        return (
            f"{title}: {self.requests} requests, {self.concurrency} at a time, "
            f"{self.seconds:.1f} s ({self.requests / self.seconds:.0f}/s); outcomes: {kinds}; "
            f"connections opened {meter.opened}, most open at once {meter.most_open}; "
            f"RSS MiB: {memory}"
        )


async def drive(one: Callable[[int], Awaitable[str]], requests: int, concurrency: int) -> Figures:
    """
    Make C{requests} requests, C{concurrency} at a time: C{one(n)} makes the
    n-th and says how it ended.
    """
    figures = Figures(requests, concurrency)
    marks = {requests // 5: "warm", requests // 2: "middle"}
    issued = 0
    done = 0

    async def worker() -> None:
        nonlocal issued, done
        while issued < requests:
            number = issued
            issued += 1
            figures.outcomes[await one(number)] += 1
            done += 1
            if done in marks:
                figures.rss[marks[done]] = rss()

    figures.rss["start"] = rss()
    started = time.monotonic()
    await gatherResults([Deferred.fromCoroutine(worker()) for _ in range(concurrency)])
    figures.seconds = time.monotonic() - started
    figures.rss["end"] = rss()
    return figures
