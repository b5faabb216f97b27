"""
The in-memory request/response cycle: httpchart's protocol against Twisted's
own HTTP11ClientProtocol, side by side.

One operation is a whole exchange on a fresh connection: build the protocol,
connect it to a StringTransport, issue a persistent GET, feed it a canned
response in one or more reads, and read the body through readBody as it
streams.  Both protocols use Twisted's response parser, so the difference is
the connection's own machinery.  The reference engine (python-statemachine's)
is measured too, to show what the compiled dispatch saves.

Run with `make bench`; `--quick` for a short run.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.internet.testing import StringTransport
from twisted.web._newclient import HTTP11ClientProtocol as TwistedProtocol
from twisted.web._newclient import Request
from twisted.web.client import readBody
from twisted.web.http_headers import Headers

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Result, interleaved, report

from httpchart.protocol import HTTP11ClientProtocol

HEADERS = Headers({b"host": [b"example.com"], b"user-agent": [b"bench"]})


def _small() -> list[bytes]:
    return [
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, world!"
    ]


def _large() -> list[bytes]:
    body = b"x" * 65536
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
    head += b"Content-Length: 65536\r\n\r\n"
    return [head] + [body[i : i + 4096] for i in range(0, len(body), 4096)]


def _chunked() -> list[bytes]:
    chunk = b"400\r\n" + b"y" * 1024 + b"\r\n"
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
    return [head, chunk * 4, chunk * 4, b"0\r\n\r\n"]


CASES: dict[str, Callable[[], list[bytes]]] = {
    "small body, 1 read": _small,
    "64 KiB body, 17 reads": _large,
    "chunked 8 KiB, 4 reads": _chunked,
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


def _connect(make: Callable[[], Any]) -> Callable[[], object]:
    def operation() -> object:
        protocol = make()
        protocol.makeConnection(StringTransport())
        return protocol

    return operation


def _memory(make: Callable[[], Any], count: int, after_request: bool) -> float:
    """
    Bytes held per idle connection: C{count} protocols connected to
    transports made beforehand, fresh or after one complete request.
    """
    transports = [StringTransport() for _ in range(count)]
    gc.collect()
    tracemalloc.start()
    protocols = []
    for transport in transports:
        protocol = make()
        protocol.makeConnection(transport)
        protocols.append(protocol)
    if after_request:
        for protocol, transport in zip(protocols, transports, strict=True):
            request = Request(b"GET", b"/", HEADERS, None, persistent=True)
            protocol.request(request).addCallback(readBody)
            protocol.dataReceived(_small()[0])
            transport.clear()
    gc.collect()
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return held / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--json", type=Path, default=Path("bench/results/cycle.json"))
    options = parser.parse_args()
    rounds, batch = (7, 100) if options.quick else (21, 300)

    contenders: dict[str, Callable[[], Any]] = {
        "twisted": TwistedProtocol,
        "httpchart": HTTP11ClientProtocol,
        "httpchart-reference": lambda: HTTP11ClientProtocol(engine="reference"),
    }
    results: list[Result] = []
    for case, reads in CASES.items():
        operations = {name: _cycle(make, reads()) for name, make in contenders.items()}
        slow = {"httpchart-reference"}
        fast = {k: v for k, v in operations.items() if k not in slow}
        result = interleaved(case, fast, rounds=rounds, batch=batch)
        reference = interleaved(case, {k: operations[k] for k in slow}, rounds=3, batch=30)
        result.rounds.update(reference.rounds)
        results.append(result)
    connect = {
        name: _connect(make) for name, make in contenders.items() if name != "httpchart-reference"
    }
    results.append(interleaved("construct + connect", connect, rounds=rounds, batch=batch * 10))
    results[-1].rounds["httpchart-reference"] = [float("nan")]

    print(report("In-memory request/response cycle", results, "twisted", json_path=options.json))
    print("\nmemory per idle connection (bytes; tracemalloc, 2000 connections)")
    for when in (False, True):
        held = {name: _memory(make, 2000, when) for name, make in list(contenders.items())[:2]}
        label = "after one request" if when else "fresh"
        ratio = held["httpchart"] / held["twisted"]
        print(
            f"  {label:18} twisted {held['twisted']:6.0f}  httpchart {held['httpchart']:6.0f}"
            f"  ratio {ratio:.2f}"
        )
    cycles = [r for r in results if r.case in CASES]
    product = 1.0
    for result in cycles:
        product *= result.ratio("httpchart", "twisted")
    print(
        f"\ngeometric mean of httpchart/twisted over the three cycles: "
        f"{product ** (1 / len(cycles)):.2f}"
    )


if __name__ == "__main__":
    # readBody warns on every call that the transport proxy lacks abortConnection.
    warnings.simplefilter("ignore", DeprecationWarning)
    main()
