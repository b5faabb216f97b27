"""
The in-memory exchange: httpchart's protocol against Twisted's own
HTTP11ClientProtocol, side by side, for three bodies; and what building and
connecting a connection costs, and what an idle one holds.

Both protocols use their own response parser and Response.  httpchart's
connection on Twisted's parser shows what the connection's chart costs by
itself, and python-statemachine's engine (the reference) is measured too, on
fewer rounds, to show what the compiled dispatch saves.  The floor, a
protocol with no lifecycle at all, shows how much of an exchange no
protocol can save: Twisted's Request, readBody and Deferreds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from exchanges import CASES, Make, connect, exchange, held_per_connection
from floor import Floor
from harness import Result, interleaved
from twisted.web._newclient import HTTP11ClientProtocol as TwistedProtocol

from httpchart.protocol import HTTP11ClientProtocol, TwistedParser


class OnTwistedParser(HTTP11ClientProtocol):
    """
    httpchart's connection reading responses with Twisted's parser and
    Response: what the connection's chart costs on its own.
    """

    parser_factory = TwistedParser.open


CONTENDERS: dict[str, Make] = {
    "twisted": TwistedProtocol,
    "httpchart": HTTP11ClientProtocol,
    "httpchart on Twisted's parser": OnTwistedParser,
}


def reference() -> Any:
    return HTTP11ClientProtocol(engine="reference")


def measure_exchanges(rounds: int, batch: int) -> list[Result]:
    """
    The three exchanges, each contender interleaved with the others.
    """
    results = []
    for case, reads in CASES.items():
        operations: dict[str, Callable[[], object]] = {
            name: exchange(make, reads) for name, make in CONTENDERS.items()
        }
        operations["floor (no lifecycle)"] = exchange(Floor, reads)
        result = interleaved(case, operations, rounds=rounds, batch=batch)
        slow = interleaved(
            case, {"reference engine": exchange(reference, reads)}, rounds=3, batch=20
        )
        result.rounds.update(slow.rounds)
        results.append(result)
    return results


def measure_connecting(rounds: int, batch: int) -> Result:
    """
    Building a connection and connecting it to a transport.
    """
    operations = {name: connect(CONTENDERS[name]) for name in ("twisted", "httpchart")}
    return interleaved("construct + connect", operations, rounds=rounds, batch=batch * 10)


def measure_memory(count: int) -> dict[str, dict[str, float]]:
    """
    Bytes per idle connection, fresh and after one exchange.
    """
    return {
        when: {
            name: held_per_connection(CONTENDERS[name], count, when == "after one request")
            for name in ("twisted", "httpchart")
        }
        for when in ("fresh", "after one request")
    }
