"""
What watching transitions costs: the in-memory request/response cycle on
httpchart's protocol with no observer, with an observer that does nothing,
and with the twisted.logger observer, next to Twisted's own class.

One operation is a whole exchange on a fresh connection (build it, connect
it to a StringTransport, issue a persistent GET, feed it a canned response,
read the body), as in bench/cycle.py.  With no observer the engine skips
observation entirely, so that column is the price everyone pays; the other
two show what asking for transitions adds.  The log observer's events go to
twisted.logger's global publisher, which, with no log observer started,
keeps them in its bounded start-up buffer.

Run with `make bench`; `--quick` for a short run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from twisted.internet.testing import StringTransport
from twisted.web._newclient import HTTP11ClientProtocol as TwistedProtocol
from twisted.web._newclient import Request
from twisted.web.client import readBody
from twisted.web.http_headers import Headers

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Result, interleaved, report

from httpchart.protocol import HTTP11ClientProtocol, log_transition

HEADERS = Headers({b"host": [b"example.com"], b"user-agent": [b"bench"]})
SMALL = [b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, world!"]
CHUNKED = [
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n",
    *[b"400\r\n" + b"y" * 1024 + b"\r\n"] * 8,
    b"0\r\n\r\n",
]


def _ignore(record: object) -> None:
    """
    An observer that does nothing: the cost of the hook itself.
    """


CONTENDERS: dict[str, Callable[[], Any]] = {
    "twisted": TwistedProtocol,
    "httpchart": HTTP11ClientProtocol,
    "+no-op observer": lambda: HTTP11ClientProtocol(observer=_ignore),
    "+log observer": lambda: HTTP11ClientProtocol(observer=partial(log_transition, 1)),
}


def _cycle(make: Callable[[], Any], reads: list[bytes]) -> Callable[[], object]:
    def operation() -> object:
        protocol = make()
        protocol.makeConnection(StringTransport())
        body: list[bytes] = []
        request = Request(b"GET", b"/", HEADERS, None, persistent=True)
        protocol.request(request).addCallback(readBody).addCallback(body.append)
        for data in reads:
            protocol.dataReceived(data)
        if not body:
            raise AssertionError("the body was not read")
        return body

    return operation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--json", type=Path, default=Path("bench/results/observers.json"))
    options = parser.parse_args()
    rounds, batch = (7, 100) if options.quick else (21, 300)

    # Each case with the number of transitions one exchange takes.
    cases = {
        "small body, 1 read": (SMALL, 4),
        "chunked 8 KiB, 10 reads": (CHUNKED, 13),
    }
    results: list[Result] = []
    for case, (reads, _) in cases.items():
        operations = {name: _cycle(make, reads) for name, make in CONTENDERS.items()}
        results.append(interleaved(case, operations, rounds=rounds, batch=batch))
    print(report("Observing transitions", results, "twisted", json_path=options.json))
    print()
    for result in results:
        transitions = cases[result.case][1]
        unobserved = result.median("httpchart")
        for name in ("+no-op observer", "+log observer"):
            extra = result.median(name) - unobserved
            print(
                f"{result.case}: {name} adds {extra:.1f} µs per exchange, "
                f"{extra / transitions:.2f} µs per transition ({transitions})"
            )


if __name__ == "__main__":
    main()
