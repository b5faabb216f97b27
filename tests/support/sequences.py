"""
The inputs a connection's life is made of, as steps on a L{Rig}.

This is the alphabet both the exhaustive checker (tests/support/checker.py) and the
differential test against Twisted (tests/test_twisted_differential.py) draw
their sequences from: the application issues a request (persistent or not,
whose write finishes at once, fails at once or is left pending), the pending
write finishes or fails, the server sends bytes (a whole response that keeps
the connection, one with C{Connection: close}, a head cut short, a body cut
short, garbage, a head whose body runs until the close, or an interim
C{100 Continue}), the transport reports the connection lost, the application
aborts, it cancels the Deferred of the latest request, or time passes until
the connection's timer fires (the rig's timeouts are L{RIG_TIMEOUTS}).  A
request may also expect C{100 Continue} (its head is then written alone; it
fails while writing its head, or its body's write is left pending).  Issuing
while a request is in flight is the "second request".

Every input is always possible except finishing or failing a write, which
needs a write still pending, cancelling, which needs a request, and the
timer, which needs one running.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .rig import Rig, WriteMode

COMPLETE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
COMPLETE_CLOSE = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
HEAD_CUT = b"HTTP/1.1 200 OK\r\nContent-Le"
BODY_CUT = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\npart"
MALFORMED = b"this is not HTTP\r\n\r\n"
CLOSE_DELIMITED_HEAD = b"HTTP/1.1 200 OK\r\n\r\n"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

Kind = Literal["issue", "finish_write", "fail_write", "data", "lose", "abort", "cancel", "expire"]


@dataclass(frozen=True)
class Input:
    """
    One thing that can happen to a connection.

    @ivar name: How sequences and reports spell it.
    @ivar kind: Which public call (or fake) it goes through.
    @ivar persistent: For C{issue}: whether the request is persistent.
    @ivar write: For C{issue}: how the request's writeTo turns out.
    @ivar data: For C{data}: the bytes the server sends.
    @ivar expect: For C{issue}: whether the request expects C{100 Continue}.
    """

    name: str
    kind: Kind
    persistent: bool = True
    write: WriteMode = "pending"
    data: bytes = b""
    expect: bool = False

    def enabled(self, rig: Rig) -> bool:
        """
        Whether this input can happen to C{rig}'s connection now.
        """
        if self.kind in ("finish_write", "fail_write"):
            return pending_write(rig)
        if self.kind == "cancel":
            return bool(rig.callers)
        if self.kind == "expire":
            return bool(rig.clock.getDelayedCalls())
        return True

    def apply(self, rig: Rig) -> None:
        """
        Make it happen, through the call Twisted (or the application, or the
        request's writer) would make.
        """
        if self.kind == "issue":
            rig.request(self.persistent, self.write, self.expect)
        elif self.kind == "finish_write":
            rig.finish_write()
        elif self.kind == "fail_write":
            rig.fail_write()
        elif self.kind == "data":
            rig.feed(self.data)
        elif self.kind == "lose":
            rig.lose()
        elif self.kind == "abort":
            rig.abort()
        elif self.kind == "expire":
            rig.expire()
        else:
            rig.cancel()


def pending_write(rig: Rig) -> bool:
    """
    Whether a request's writeTo Deferred is still waiting to fire.
    """
    writing = rig.writer.writing if rig.writer is not None else None
    return writing is not None and not writing.called


def _issue(persistent: bool, write: WriteMode) -> Input:
    kind = "persistent" if persistent else "one-shot"
    return Input(f"request({kind}, write {write})", "issue", persistent, write)


WRITES: tuple[WriteMode, ...] = ("done", "fails", "pending")

ALPHABET: tuple[Input, ...] = (
    *(_issue(persistent, write) for persistent in (True, False) for write in WRITES),
    Input("request(expect 100, write pending)", "issue", expect=True),
    Input("request(expect 100, head fails)", "issue", write="fails", expect=True),
    Input("finish write", "finish_write"),
    Input("fail write", "fail_write"),
    Input("response", "data", data=COMPLETE),
    Input("response(close)", "data", data=COMPLETE_CLOSE),
    Input("head cut", "data", data=HEAD_CUT),
    Input("body cut", "data", data=BODY_CUT),
    Input("malformed", "data", data=MALFORMED),
    Input("close-delimited head", "data", data=CLOSE_DELIMITED_HEAD),
    Input("100 continue", "data", data=CONTINUE),
    Input("connection lost", "lose"),
    Input("abort", "abort"),
    Input("cancel", "cancel"),
    Input("timer fires", "expire"),
)

BY_NAME = {entry.name: entry for entry in ALPHABET}
