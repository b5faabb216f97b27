"""
One client of the loopback benchmark, run in its own process: it makes
C{--requests} GET requests to C{--url} over C{--concurrency} persistent
connections, after a warm-up, and prints one line of JSON: the requests
made, the wall time, the process's CPU time and the failures.

The clients:

  - C{twisted}: Twisted's Agent and HTTPConnectionPool;
  - C{twisted-agent-httpchart-pool}: Twisted's Agent on httpchart's pool;
  - C{httpchart}: httpchart's Agent on httpchart's pool, whose connections
    have its default timeouts (response and read);
  - C{httpchart-timeouts-off}: the same with C{timeouts=None};
  - C{httpchart-all-timeouts}: the same with response, read and total set;
  - C{httpchart-limited}: the same, with C{max_connections_per_host} at
    the concurrency (the limit reached, its bookkeeping paid);
  - C{httpchart-twisted-pool}: httpchart's Agent on Twisted's pool with
    httpchart's connections, which is what httpchart's pool was before it
    had limits and a queue; the connections have the same timeouts as
    httpchart's pool gives its own, so that only the pool differs;
  - C{aiohttp}: aiohttp's client session, on asyncio;
  - C{httptools}: a minimal Twisted protocol that writes the request and
    parses the response with httptools and nothing else, the practical
    limit for a Twisted client in Python.

The clients on Twisted's Agent read each body with Twisted's C{readBody}; all
the clients on httpchart's Agent with httpchart's C{read_body}, as aiohttp's
client reads it with C{response.read()}.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import warnings
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from reacting import emit, on_reactor, spread


async def _measure(
    run: Callable[[int], Awaitable[int]], warmup: int, requests: int
) -> dict[str, Any]:
    """
    Warm up, then time C{requests} requests: wall time and this process's
    CPU time.
    """
    await run(warmup)
    wall, cpu = time.perf_counter(), time.process_time()
    failures = await run(requests)
    return {
        "requests": requests,
        "seconds": time.perf_counter() - wall,
        "cpu_seconds": time.process_time() - cpu,
        "failures": failures,
    }


def _twisted(url: str, concurrency: int, flavour: str) -> Callable[[int], Awaitable[int]]:
    from twisted.internet import reactor
    from twisted.web import client
    from twisted.web.client import readBody

    from httpchart.protocol import (
        POOL_TIMEOUTS,
        Agent,
        HTTP11ClientFactory,
        HTTP11ClientProtocol,
        HTTPConnectionPool,
        Timeouts,
        read_body,
    )

    def timed(quiescentCallback: Any) -> HTTP11ClientProtocol:
        return HTTP11ClientProtocol(quiescentCallback, timeouts=POOL_TIMEOUTS, clock=reactor)

    class TwistedPoolOfHttpchartConnections(client.HTTPConnectionPool):
        def _factory(self, quiescentCallback: Any, metadata: str) -> Any:
            return HTTP11ClientFactory(quiescentCallback, metadata, build=timed)

    pool: Any
    if flavour == "twisted":
        pool = client.HTTPConnectionPool(reactor)
    elif flavour == "httpchart-timeouts-off":
        pool = HTTPConnectionPool(reactor, timeouts=None)
    elif flavour == "httpchart-all-timeouts":
        pool = HTTPConnectionPool(reactor, timeouts=Timeouts(response=300, read=300, total=600))
    elif flavour == "httpchart-twisted-pool":
        pool = TwistedPoolOfHttpchartConnections(reactor)
    elif flavour == "httpchart-limited":
        pool = HTTPConnectionPool(reactor, max_connections_per_host=concurrency)
    else:
        pool = HTTPConnectionPool(reactor)
    pool.maxPersistentPerHost = concurrency
    ours = flavour.startswith("httpchart")
    agent = Agent(reactor, pool=pool) if ours else client.Agent(reactor, pool=pool)
    read = read_body if ours else readBody
    target = url.encode()

    async def one() -> None:
        response = await agent.request(b"GET", target)
        await read(response)

    return spread(one, concurrency)


def _httptools(url: str, concurrency: int) -> Callable[[int], Awaitable[int]]:
    import httptools
    from twisted.internet import reactor
    from twisted.internet.defer import Deferred, gatherResults
    from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
    from twisted.internet.protocol import Protocol

    parts = urlsplit(url)
    request = f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode()

    class Minimal(Protocol):
        def __init__(self) -> None:
            self.parser = httptools.HttpResponseParser(self)
            self.left = 0
            self.done: Deferred[int] | None = None

        def go(self, requests: int) -> Deferred[int]:
            self.left, self.done = requests, Deferred()
            self.transport.write(request)  # type: ignore[union-attr]
            return self.done

        def dataReceived(self, data: bytes) -> None:
            self.parser.feed_data(data)

        def on_body(self, body: bytes) -> None:
            pass

        def on_message_complete(self) -> None:
            self.left -= 1
            if self.left:
                self.transport.write(request)  # type: ignore[union-attr]
            elif self.done is not None:
                self.done, done = None, self.done
                done.callback(0)

    connections: list[Minimal] = []

    async def run(requests: int) -> int:
        if not connections:
            endpoint = TCP4ClientEndpoint(reactor, parts.hostname or "", parts.port or 80)
            for _ in range(concurrency):
                connections.append(await connectProtocol(endpoint, Minimal()))
        shares = [
            requests // concurrency + (i < requests % concurrency) for i in range(concurrency)
        ]
        done = await gatherResults([c.go(s) for c, s in zip(connections, shares, strict=True)])
        return sum(done)

    return run


def _aiohttp(url: str, concurrency: int, warmup: int, requests: int) -> dict[str, Any]:
    import aiohttp

    async def main() -> dict[str, Any]:
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def worker(share: int) -> int:
                failures = 0
                for _ in range(share):
                    try:
                        async with session.get(url) as response:
                            await response.read()
                    except Exception:
                        failures += 1
                return failures

            async def run(total: int) -> int:
                shares = [
                    total // concurrency + (i < total % concurrency) for i in range(concurrency)
                ]
                return sum(await asyncio.gather(*(worker(s) for s in shares)))

            return await _measure(run, warmup, requests)

    return asyncio.run(main())


def main() -> None:
    # readBody warns on every call that Twisted's transport proxy cannot abort.
    warnings.simplefilter("ignore", DeprecationWarning)
    parser = argparse.ArgumentParser()
    parser.add_argument("client")
    parser.add_argument("--url", required=True)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    options = parser.parse_args()
    if options.client == "aiohttp":
        result = _aiohttp(options.url, options.concurrency, options.warmup, options.requests)
    else:
        if options.client == "httptools":
            run = _httptools(options.url, options.concurrency)
        else:
            run = _twisted(options.url, options.concurrency, options.client)
        result = on_reactor(lambda: _measure(run, options.warmup, options.requests))
    emit(result)


if __name__ == "__main__":
    main()
