"""
One client of the large-body benchmark, run in its own process: it fetches
C{--url} (one large file) C{--fetches} times, one after the other on one
persistent connection, after C{--warmup} fetches, and hands every byte of
the body to a consumer that only counts them.  It prints one line of JSON:
the bytes counted, the reads that delivered them, the wall time, the
process's CPU time and the failures.

The clients:

  - C{httpchart}: httpchart's Agent on httpchart's pool (its default
    timeouts on), the body given to an C{IProtocol} through
    C{response.deliverBody};
  - C{twisted}: Twisted's Agent and HTTPConnectionPool, the same consumer;
  - C{httptools}: a minimal Twisted protocol that writes the request and
    counts the bytes of httptools' C{on_body}, with no lifecycle at all:
    the limit for a Twisted client in Python;
  - C{aiohttp}: aiohttp's client session, counting what
    C{response.content.iter_any()} yields.

With C{--profile=PATH}, the timed fetches run under cProfile and its
statistics are written to PATH (the figures are then not comparable with
an unprofiled run).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from reacting import emit, on_reactor

# One fetch of the body: the bytes counted and the reads that brought them.
Fetch = Callable[[], Awaitable[tuple[int, int]]]


async def _measure(fetch: Fetch, warmup: int, fetches: int, profile: Path | None) -> dict[str, Any]:
    """
    Warm up, then time C{fetches} fetches: wall time and this process's CPU
    time.
    """
    for _ in range(warmup):
        await fetch()
    counted = reads = failures = 0
    profiler = cProfile.Profile() if profile is not None else None
    profiling: AbstractContextManager[Any] = profiler if profiler is not None else nullcontext()
    wall, cpu = time.perf_counter(), time.process_time()
    with profiling:
        for _ in range(fetches):
            try:
                body, parts = await fetch()
            except Exception:
                failures += 1
            else:
                counted += body
                reads += parts
    result = {
        "bytes": counted,
        "reads": reads,
        "fetches": fetches,
        "seconds": time.perf_counter() - wall,
        "cpu_seconds": time.process_time() - cpu,
        "failures": failures,
    }
    if profiler is not None and profile is not None:
        profiler.dump_stats(str(profile))
    return result


def _agent(url: str, flavour: str) -> Fetch:
    """
    Twisted's or httpchart's Agent, on its own pool of one persistent
    connection, delivering the body to a counting protocol.
    """
    from twisted.internet import reactor
    from twisted.internet.defer import Deferred
    from twisted.internet.protocol import Protocol, connectionDone
    from twisted.python.failure import Failure
    from twisted.web import client
    from twisted.web.client import ResponseDone

    from httpchart.protocol import Agent, HTTPConnectionPool

    class Counter(Protocol):
        """
        Counts the body's bytes and reads; fires C{done} when it ends.
        """

        def __init__(self, done: Deferred[tuple[int, int]]) -> None:
            self.done = done
            self.counted = 0
            self.reads = 0

        def dataReceived(self, data: bytes) -> None:
            self.counted += len(data)
            self.reads += 1

        def connectionLost(self, reason: Failure = connectionDone) -> None:
            if reason.check(ResponseDone):
                self.done.callback((self.counted, self.reads))
            else:
                self.done.errback(reason)

    agent: Any
    if flavour == "twisted":
        agent = client.Agent(reactor, pool=client.HTTPConnectionPool(reactor))
    else:
        agent = Agent(reactor, pool=HTTPConnectionPool(reactor))
    target = url.encode()

    async def fetch() -> tuple[int, int]:
        response = await agent.request(b"GET", target)
        done: Deferred[tuple[int, int]] = Deferred()
        response.deliverBody(Counter(done))
        return await done

    return fetch


def _httptools(url: str) -> Fetch:
    """
    A minimal protocol on httptools: it writes the request, counts the
    bytes of each C{on_body} and fires when the message is complete.
    """
    import httptools
    from twisted.internet import reactor
    from twisted.internet.defer import Deferred
    from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
    from twisted.internet.protocol import Protocol

    parts = urlsplit(url)
    request = f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode()

    class Minimal(Protocol):
        def __init__(self) -> None:
            self.parser = httptools.HttpResponseParser(self)
            self.counted = 0
            self.reads = 0
            self.done: Deferred[tuple[int, int]] | None = None

        def go(self) -> Deferred[tuple[int, int]]:
            self.counted = self.reads = 0
            self.done = Deferred()
            self.transport.write(request)  # type: ignore[union-attr]
            return self.done

        def dataReceived(self, data: bytes) -> None:
            self.parser.feed_data(data)

        def on_body(self, body: bytes) -> None:
            self.counted += len(body)
            self.reads += 1

        def on_message_complete(self) -> None:
            done, self.done = self.done, None
            if done is not None:
                done.callback((self.counted, self.reads))

    connection: list[Minimal] = []

    async def fetch() -> tuple[int, int]:
        if not connection:
            endpoint = TCP4ClientEndpoint(reactor, parts.hostname or "", parts.port or 80)
            connection.append(await connectProtocol(endpoint, Minimal()))
        return await connection[0].go()

    return fetch


def _aiohttp(url: str, warmup: int, fetches: int, profile: Path | None) -> dict[str, Any]:
    import aiohttp

    async def main() -> dict[str, Any]:
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def fetch() -> tuple[int, int]:
                counted = reads = 0
                async with session.get(url) as response:
                    async for data in response.content.iter_any():
                        counted += len(data)
                        reads += 1
                return counted, reads

            return await _measure(fetch, warmup, fetches, profile)

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("client", choices=("httpchart", "twisted", "httptools", "aiohttp"))
    parser.add_argument("--url", required=True)
    parser.add_argument("--fetches", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--profile", type=Path, default=None)
    options = parser.parse_args()
    if options.client == "aiohttp":
        result = _aiohttp(options.url, options.warmup, options.fetches, options.profile)
    else:
        if options.client == "httptools":
            fetch = _httptools(options.url)
        else:
            fetch = _agent(options.url, options.client)
        warmup, fetches, profile = options.warmup, options.fetches, options.profile
        result = on_reactor(lambda: _measure(fetch, warmup, fetches, profile))
    emit(result)


if __name__ == "__main__":
    main()
