"""
What the benchmark's client processes share: running one measurement on
Twisted's reactor, and printing what it measured as one line of JSON.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any


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
