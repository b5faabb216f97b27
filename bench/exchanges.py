"""
In-memory HTTP exchanges for the benchmarks: canned responses, and one
operation per exchange on a fresh connection.

One exchange: build the protocol, connect it to a StringTransport, issue a
persistent GET, feed it the canned response in one or more reads, and read
the body through readBody as it streams.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from typing import Any

from twisted.internet.testing import StringTransport
from twisted.web._newclient import Request
from twisted.web.client import readBody
from twisted.web.http_headers import Headers

HEADERS = Headers({b"host": [b"example.com"], b"user-agent": [b"bench"]})

SMALL = [b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, world!"]
LARGE = [
    b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 65536\r\n\r\n",
    *[b"x" * 4096] * 16,
]
CHUNKED = [
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n",
    (b"400\r\n" + b"y" * 1024 + b"\r\n") * 4,
    (b"400\r\n" + b"y" * 1024 + b"\r\n") * 4,
    b"0\r\n\r\n",
]

CASES: dict[str, list[bytes]] = {
    "small body, 1 read": SMALL,
    "64 KiB body, 17 reads": LARGE,
    "chunked 8 KiB, 4 reads": CHUNKED,
}

Make = Callable[[], Any]


def exchange(make: Make, reads: list[bytes]) -> Callable[[], object]:
    """
    One whole exchange on a fresh connection built by C{make}.
    """

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


def connect(make: Make) -> Callable[[], object]:
    """
    Build a connection and connect it to a transport.
    """

    def operation() -> object:
        protocol = make()
        protocol.makeConnection(StringTransport())
        return protocol

    return operation


def held_per_connection(make: Make, count: int, after_request: bool) -> float:
    """
    Bytes held per idle connection (tracemalloc): C{count} protocols
    connected to transports made beforehand, fresh or after one complete
    exchange.
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
            for data in SMALL:
                protocol.dataReceived(data)
            transport.clear()
    gc.collect()
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return held / count
