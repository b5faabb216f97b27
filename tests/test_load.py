"""
Load over loopback against nginx: many connections at once and many
requests in one bounded run through Twisted's C{Agent} on httpchart's pool,
with no request failing and memory flat once the pool is warm.

The short scale (200 connections, 5,000 requests) runs in C{make test};
C{make stress} runs the full one (1,000 connections, 100,000 requests).
Then the same callers queue for a pool limited to a few connections (20 at
the short scale, 50 at the full one): every request succeeds and the pool
never holds more.
The figures are printed (C{pytest -s} shows them).
"""

from __future__ import annotations

from typing import ClassVar

import pytest
from twisted.internet import reactor
from twisted.trial.unittest import TestCase
from twisted.web.client import Agent, readBody

from localservers.servers import SMALL, Nginx

from .support.load import MIB, SCALE, MeteredPool, drive

# Resident memory may grow this much between the end of the warm-up and the
# end of the run: the allocator's slack, not a per-request leak (100,000
# requests leaking even 100 bytes each would pass it; the pool's own
# objects are all made during the warm-up).
GROWTH_BOUND = 16 * MIB


class NginxLoad(TestCase):
    """
    Every request gets nginx's small file; every connection is reused.
    """

    pytestmark = pytest.mark.usefixtures("served", "busy_nginx")
    nginx: ClassVar[Nginx]
    timeout = 900

    async def test_every_request_succeeds_and_memory_stays_flat(self) -> None:
        pool = MeteredPool(reactor, SCALE.concurrency)
        agent = Agent(reactor, pool=pool)
        url = self.nginx.url("/small")

        async def one(number: int) -> str:
            try:
                response = await agent.request(b"GET", url)
                body = await readBody(response)
            except Exception as error:
                return type(error).__name__
            return "ok" if (response.code, body) == (200, SMALL) else "wrong"

        figures = await drive(one, SCALE.requests, SCALE.concurrency)
        print("\n" + figures.report(f"nginx load ({SCALE.name})", pool.meter))
        await pool.closeCachedConnections()
        await pool.meter.all_closed()
        assert figures.outcomes == {"ok": SCALE.requests}
        assert pool.meter.most_open == SCALE.concurrency
        assert pool.meter.opened == SCALE.concurrency  # every connection was reused
        assert figures.growth_after_warm_up < GROWTH_BOUND, figures.rss

    async def test_a_thousand_callers_queue_for_a_limited_pool(self) -> None:
        limit = SCALE.pool_limit
        pool = MeteredPool(reactor, limit, max_connections=limit)
        agent = Agent(reactor, pool=pool)
        url = self.nginx.url("/small")

        async def one(number: int) -> str:
            try:
                response = await agent.request(b"GET", url)
                body = await readBody(response)
            except Exception as error:
                return type(error).__name__
            return "ok" if (response.code, body) == (200, SMALL) else "wrong"

        figures = await drive(one, SCALE.requests, SCALE.concurrency)
        stats = pool.stats().total
        print(
            "\n"
            + figures.report(f"nginx load through {limit} connections ({SCALE.name})", pool.meter)
            + f"; queued requests now {stats.queued}, reused {stats.reused}"
        )
        await pool.close()
        await pool.meter.all_closed()
        assert figures.outcomes == {"ok": SCALE.requests}
        assert pool.meter.most_open <= limit
        assert figures.growth_after_warm_up < GROWTH_BOUND, figures.rss
