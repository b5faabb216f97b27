"""
Writing a request's head and body apart, for C{Expect: 100-continue}.

Twisted's L{twisted.web._newclient.Request} writes its head and its body in
one C{writeTo}: the body producer starts as soon as the head is written.  A
request that expects C{100 Continue} must stop after its head, so the
connection writes it in two steps, keeping the request object (built by
Twisted's L{Agent}, httpchart's or treq) unchanged:

  1. L{write_head} writes the head the request's own C{writeTo} would
     write, with the same framing header (C{Content-Length} or
     C{Transfer-Encoding: chunked});
  2. L{write_body} runs the request's C{writeTo} on a transport that drops
     that head, the first thing C{writeTo} writes, and passes everything
     else (the body, the producer's registration) to the real transport.

The body producer is only started in step 2, so a request answered before
C{100 Continue} never produces its body.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.web.iweb import UNKNOWN_LENGTH


def expects_continue(request: Any) -> bool:
    """
    Whether C{request} has a body and asks for C{Expect: 100-continue}, and
    can be written in two steps (it is shaped like Twisted's C{Request}).
    """
    producer = getattr(request, "bodyProducer", None)
    if producer is None or not hasattr(request, "_writeHeaders"):
        return False
    values = request.headers.getRawHeaders(b"expect") or ()
    return any(value.strip().lower() == b"100-continue" for value in values)


def write_head(request: Any, transport: Any) -> bytes:
    """
    Write the head of C{request} (which L{expects_continue}) to
    C{transport}, framed as its C{writeTo} frames it.

    @return: The bytes written, which L{write_body} drops.
    """
    if request.bodyProducer.length is UNKNOWN_LENGTH:
        framing = b"Transfer-Encoding: chunked\r\n"
    else:
        framing = b"Content-Length: %d\r\n" % (request.bodyProducer.length,)
    collector = HeadCollector()
    request._writeHeaders(collector, framing)
    head = b"".join(collector.written)
    transport.write(head)
    return head


def write_body(request: Any, transport: Any, head: bytes) -> Deferred[None]:
    """
    Write the body of C{request}, whose C{head} is already written, with
    the request's own C{writeTo}.

    @return: C{writeTo}'s Deferred.
    """
    written: Deferred[None] = request.writeTo(_AfterHead(transport, head))
    return written


class HeadMismatch(Exception):
    """
    The request's C{writeTo} began with something other than the head
    already written: the body cannot be sent after it.
    """


class HeadCollector:
    """
    A stand-in transport that keeps what a request writes to it, so that
    the head a C{Request} writes can be had as bytes.
    """

    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def writeSequence(self, data: list[bytes]) -> None:
        self.written.extend(data)


class _AfterHead:
    """
    A transport that drops the head C{writeTo} writes first, since it was
    already written, and is the real transport for everything else.
    """

    def __init__(self, transport: Any, head: bytes) -> None:
        self._transport = transport
        self._head: bytes | None = head

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def write(self, data: bytes) -> None:
        if self._head is not None:
            self._drop_head(data)
        else:
            self._transport.write(data)

    def writeSequence(self, data: list[bytes]) -> None:
        if self._head is not None:
            self._drop_head(b"".join(data))
        else:
            self._transport.writeSequence(data)

    def _drop_head(self, data: bytes) -> None:
        head, self._head = self._head, None
        if data != head:
            raise HeadMismatch("the request's writeTo did not start with the head already sent")
