"""
What watching transitions costs: the in-memory request/response cycle on
httpchart's protocol with no observer, with an observer that does nothing,
and with the twisted.logger observer, next to Twisted's own class.

One operation is a whole exchange on a fresh connection (build it, connect
it to a StringTransport, issue a persistent GET, feed it a canned response,
read the body), as in bench/exchanges.py.  With no observer the engine skips
observation entirely, so that column is the price everyone pays; the other
two show what asking for transitions adds.  The log observer's events go to
twisted.logger's global publisher, which, with no log observer started,
keeps them in its bounded start-up buffer.
"""

from __future__ import annotations

from functools import partial

from exchanges import CHUNKED, SMALL, Make, exchange
from harness import Result, interleaved
from twisted.web._newclient import HTTP11ClientProtocol as TwistedProtocol

from httpchart.protocol import HTTP11ClientProtocol, log_transition


def _ignore(record: object) -> None:
    """
    An observer that does nothing: the cost of the hook itself.
    """


CONTENDERS: dict[str, Make] = {
    "twisted": TwistedProtocol,
    "httpchart": HTTP11ClientProtocol,
    "+no-op observer": lambda: HTTP11ClientProtocol(observer=_ignore),
    "+log observer": lambda: HTTP11ClientProtocol(observer=partial(log_transition, 1)),
}

# Each case with the number of transitions one exchange takes.
CASES = {
    "small body, 1 read": (SMALL, 4),
    "chunked 8 KiB, 4 reads": (CHUNKED, 7),
}


def measure_observers(rounds: int, batch: int) -> list[Result]:
    """
    The exchanges with no observer, a no-op one and the log observer.
    """
    return [
        interleaved(
            case,
            {name: exchange(make, reads) for name, make in CONTENDERS.items()},
            rounds=rounds,
            batch=batch,
        )
        for case, (reads, _) in CASES.items()
    ]


def per_transition(results: list[Result]) -> list[str]:
    """
    What each observer adds, per exchange and per transition.
    """
    lines = []
    for result in results:
        transitions = CASES[result.case][1]
        unobserved = result.median("httpchart")
        for name in ("+no-op observer", "+log observer"):
            extra = result.median(name) - unobserved
            lines.append(
                f"{result.case}: {name} adds {extra:.1f} µs per exchange, "
                f"{extra / transitions:.2f} µs per transition ({transitions})"
            )
    return lines
