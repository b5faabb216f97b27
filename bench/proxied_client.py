"""
One client of the proxy benchmark, run in its own process: it makes
C{--requests} GET requests to the HTTPS URL C{--url} over C{--concurrency}
persistent connections, after a warm-up, trusting the authority in
C{--cacert}, and prints one line of JSON (requests, wall time, CPU time,
failures, as bench/loopback_client.py does).

The clients:

  - C{direct}: httpchart's Agent on httpchart's pool, straight to the origin;
  - C{tunnel}: httpchart's ProxyAgent on httpchart's pool, through the
    proxy C{--proxy}: one CONNECT tunnel per connection, then TLS inside it.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

from loopback_client import _measure


def main() -> None:
    # readBody warns on every call that Twisted's transport proxy cannot abort.
    warnings.simplefilter("ignore", DeprecationWarning)
    parser = argparse.ArgumentParser()
    parser.add_argument("client", choices=("direct", "tunnel"))
    parser.add_argument("--url", required=True)
    parser.add_argument("--proxy", required=True)
    parser.add_argument("--cacert", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=4)
    options = parser.parse_args()

    from twisted.internet.defer import Deferred, gatherResults
    from twisted.internet.ssl import Certificate
    from twisted.internet.task import react
    from twisted.web.client import BrowserLikePolicyForHTTPS, readBody

    from httpchart.protocol import Agent, HTTPConnectionPool, ProxyAgent

    results: list[dict[str, Any]] = []

    async def measured(reactor: Any) -> None:
        trust = Certificate.loadPEM(options.cacert.read_bytes())
        policy = BrowserLikePolicyForHTTPS(trustRoot=trust)
        pool = HTTPConnectionPool(reactor)
        pool.maxPersistentPerHost = options.concurrency
        agent: Any
        if options.client == "direct":
            agent = Agent(reactor, contextFactory=policy, pool=pool)
        else:
            agent = ProxyAgent(reactor, options.proxy.encode(), pool=pool, contextFactory=policy)
        target = options.url.encode()

        async def worker(share: int) -> int:
            failures = 0
            for _ in range(share):
                try:
                    response = await agent.request(b"GET", target)
                    await readBody(response)
                except Exception:
                    failures += 1
            return failures

        async def run(requests: int) -> int:
            count = options.concurrency
            shares = [requests // count + (i < requests % count) for i in range(count)]
            done = await gatherResults([Deferred.fromCoroutine(worker(s)) for s in shares])
            return sum(done)

        results.append(await _measure(run, options.warmup, options.requests))
        await pool.closeCachedConnections()

    try:
        react(lambda reactor: Deferred.fromCoroutine(measured(reactor)))
    except SystemExit as exited:
        if exited.code:
            raise
    json.dump(results[0], sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
