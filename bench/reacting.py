"""
What the benchmark's client processes share: spreading requests over
concurrent workers, running one measurement on Twisted's reactor, and
printing what it measured as one line of JSON.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any


def spread(
    one: Callable[[], Awaitable[object]], concurrency: int
) -> Callable[[int], Awaitable[int]]:
    """
    A run of requests: C{requests} calls of C{one()} (a request and the
    reading of its body) shared out among C{concurrency} workers on
    Twisted's reactor, each making its share one after the other; the run
    counts the calls that failed.
    """
    from twisted.internet.defer import Deferred, gatherResults

    async def worker(share: int) -> int:
        failures = 0
        for _ in range(share):
            try:
                await one()
            except Exception:
                failures += 1
        return failures

    async def run(requests: int) -> int:
        shares = [
            requests // concurrency + (i < requests % concurrency) for i in range(concurrency)
        ]
        done = await gatherResults([Deferred.fromCoroutine(worker(s)) for s in shares])
        return sum(done)

    return run


def on_reactor(measure: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    """
    Run C{measure()} on Twisted's reactor until it is done, and return what
    it measured; the reactor is stopped and cannot run again.
    """
    from twisted.internet.defer import Deferred
    from twisted.internet.task import react

    results: list[dict[str, Any]] = []

    async def measured(reactor: Any) -> None:
        results.append(await measure())

    try:
        react(lambda reactor: Deferred.fromCoroutine(measured(reactor)))
    except SystemExit as exited:
        if exited.code:
            raise
    return results[0]


def emit(result: dict[str, Any]) -> None:
    """
    Print C{result} as the client's one line of JSON.
    """
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
