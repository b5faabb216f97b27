"""
What one read of a streaming body costs, in memory: a connection whose
response head is in and whose body (a Content-Length far larger than what
is fed) goes to a consumer that counts bytes, fed 64 KiB reads one at a
time.  No socket, no reactor: only the per-read path of each protocol,
from C{dataReceived} to the consumer's C{dataReceived}.

The contenders: httpchart's connection with the pool's default timeouts
(its read timer restarted on every read, as over loopback), Twisted's
HTTP11ClientProtocol, and a minimal protocol that feeds httptools and
counts the bytes of C{on_body} (the limit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httptools
from harness import Result, interleaved
from twisted.internet.protocol import Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.web._newclient import HTTP11ClientProtocol as TwistedProtocol
from twisted.web._newclient import Request
from twisted.web.http_headers import Headers

from httpchart.protocol import POOL_TIMEOUTS, HTTP11ClientProtocol

READ = b"z" * 65536
HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
    b"Content-Length: 1099511627776\r\n\r\n"
)


class Counter(Protocol):
    """
    A body's consumer that only counts bytes.
    """

    counted = 0

    def dataReceived(self, data: bytes) -> None:
        self.counted += len(data)


class Minimal:
    """
    httptools and nothing else: the body's bytes are counted in C{on_body}.
    """

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.counted = 0

    def dataReceived(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_body(self, body: bytes) -> None:
        self.counted += len(body)


def streaming(protocol: Any) -> Callable[[], object]:
    """
    C{protocol} connected, its request issued and the response's head fed,
    the body delivered to a L{Counter}; the returned operation feeds one
    read of body.
    """
    if isinstance(protocol, Minimal):
        protocol.dataReceived(HEAD)
    else:
        protocol.makeConnection(StringTransport())
        headers = Headers({b"host": [b"example.com"]})
        request = Request(b"GET", b"/", headers, None, persistent=True)
        protocol.request(request).addCallback(lambda response: response.deliverBody(Counter()))
        protocol.dataReceived(HEAD)

    def operation() -> object:
        protocol.dataReceived(READ)
        return protocol

    return operation


def measure_per_read(rounds: int, batch: int) -> Result:
    """
    Microseconds per 64 KiB read of each contender, interleaved.
    """
    contenders = {
        "httptools": streaming(Minimal()),
        "twisted": streaming(TwistedProtocol()),
        "httpchart": streaming(HTTP11ClientProtocol(timeouts=POOL_TIMEOUTS, clock=Clock())),
    }
    return interleaved("64 KiB read of a streaming body", contenders, rounds=rounds, batch=batch)
