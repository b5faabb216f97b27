"""
L{ProxyAgent} keeps what it builds for the hosts it reaches through the
proxy bounded, as httpchart's L{Agent} does.
"""

from __future__ import annotations

import gc
import weakref
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.testing import MemoryReactorClock

from httpchart.protocol import ProxyAgent


class _Waiting:
    """
    A pool whose requests for a connection never end, and which keeps
    nothing of them.
    """

    persistent = False

    def getConnection(self, key: Any, endpoint: Any) -> Deferred[Any]:
        return Deferred()


def test_a_crawl_through_the_proxy_keeps_a_bounded_number_of_tunnel_endpoints() -> None:
    agent = ProxyAgent(MemoryReactorClock(), b"http://proxy.example:3128", pool=_Waiting())  # type: ignore[arg-type]
    agent._tunnelling.max_cached_targets = 4
    made: list[weakref.ref[Any]] = []
    build = agent.tunnel_endpoint

    def tracked(host: bytes, port: int) -> Any:
        endpoint = build(host, port)
        made.append(weakref.ref(endpoint))
        return endpoint

    agent.tunnel_endpoint = tracked  # type: ignore[method-assign]
    for number in range(50):
        agent.request(b"GET", b"https://host%d.example/" % number)
    # Host 0 again: it fell out of the cache, so its endpoint is made anew.
    agent.request(b"GET", b"https://host0.example/")
    gc.collect()
    assert len(made) == 51
    assert sum(reference() is not None for reference in made) <= 4


def test_a_host_visited_again_keeps_its_tunnel_endpoint() -> None:
    agent = ProxyAgent(MemoryReactorClock(), b"http://proxy.example:3128", pool=_Waiting())  # type: ignore[arg-type]
    made: list[Any] = []
    build = agent.tunnel_endpoint

    def tracked(host: bytes, port: int) -> Any:
        made.append(build(host, port))
        return made[-1]

    agent.tunnel_endpoint = tracked  # type: ignore[method-assign]
    for _ in range(3):
        agent.request(b"GET", b"https://example.com/page")
    assert len(made) == 1
