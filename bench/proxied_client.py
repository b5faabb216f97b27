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
import warnings
from pathlib import Path
from typing import Any

from loopback_client import _measure
from reacting import emit, on_reactor, spread


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

    from twisted.internet import reactor
    from twisted.internet.ssl import Certificate
    from twisted.web.client import BrowserLikePolicyForHTTPS, readBody

    from httpchart.protocol import Agent, HTTPConnectionPool, ProxyAgent

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

    async def one() -> None:
        response = await agent.request(b"GET", target)
        await readBody(response)

    async def measured() -> dict[str, Any]:
        run = spread(one, options.concurrency)
        result = await _measure(run, options.warmup, options.requests)
        await pool.closeCachedConnections()
        return result

    emit(on_reactor(measured))


if __name__ == "__main__":
    main()
