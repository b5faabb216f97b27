"""
The lifecycle of parsing one HTTP/1.1 response, declared once.

llhttp (through httptools) does the byte-level work: it splits the status
line, the headers, the chunks.  This chart decides what the parts mean for
the response as a whole: whether a head is the final one or an informational
1xx to skip, how the body is framed (by Content-Length, by chunks, by the
connection's close, or not at all), when the response is complete, and what
the connection's loss means at each point.

The events come from llhttp's callbacks (C{begin}, C{head_done}, C{body},
C{complete}) and from the connection (C{lost}).  As in the connection's
chart, every cell is declared or cannot happen, guards are exhaustive and
exclusive, and effects run after the state has changed.
"""

from __future__ import annotations

from typing import ClassVar

from .declare import Chart, Input, event, goes, state, stays


class ResponseParsing(Chart):
    """
    One response read off a connection: its head, its body in one of the
    framings HTTP/1.1 allows, and its end.
    """

    # FINISHED and FAILED end the chart: nothing can happen there, so they have no
    # transitions at all, which the library would otherwise reject as traps.
    validate_trap_states = False

    failure_states: ClassVar[tuple[str, ...]] = ("FAILED",)

    # The compiled engine tests these states first (a hint for speed only):
    # body bytes arrive in the first two, the connection releases the parser
    # in the third.
    busiest_states: ClassVar[tuple[str, ...]] = ("BODY", "CHUNKED", "DONE")

    inputs: ClassVar[dict[str, Input]] = {
        "begin": Input((), "llhttp saw the first byte of a message."),
        "head_done": Input((), "The status line and headers of a message are complete."),
        "body": Input(("data",), "Bytes of the body arrived."),
        "complete": Input((), "llhttp found the end of the message."),
        "lost": Input(("reason",), "The connection is gone, or gave the parser up."),
    }

    outputs: ClassVar[dict[str, str]] = {
        "skip_informational": "Forget an informational (1xx) head and wait for the next.",
        "pause_transport": "Pause the transport until the response's body has a consumer.",
        "open_response": "Build the Response from the status line and headers.",
        "deliver_head": "Fire the Deferred waiting for the Response.",
        "deliver_body": "Hand the bytes to the Response, which buffers or delivers them.",
        "finish_body": "End the Response's body with ResponseDone.",
        "finish_body_uncertain": "End the Response's body with PotentialDataLoss: a body "
        "that ends with the connection cannot be known to be whole.",
        "fail_body": "End the Response's body with ResponseFailed([reason, _DataLoss]).",
        "fail_head": "Fail the Deferred waiting for the Response with ResponseFailed.",
        "fail_unanswered": "Fail the Deferred waiting for the Response with "
        "ResponseNeverReceived: not one byte of a response arrived.",
        "announce_complete": "Tell the connection the response is complete, with any bytes "
        "that followed it, once the current read (or the loss) has been handled.",
        "note_stray": "Remember that bytes followed the response.",
        "halt": "Stop llhttp: what follows is not part of this response.",
    }

    conditions: ClassVar[dict[str, str]] = {
        "informational": "The head is an informational (1xx) response.",
        "bodiless": "The response cannot have a body: the request was HEAD, or the "
        "status is 204 or 304.",
        "chunked": "The body is chunked (Transfer-Encoding ends with chunked).",
        "sized": "The body's length is given by Content-Length.",
        "received": "At least one byte of the response arrived.",
        "cut_short": "The body was cut short on purpose: the parser refused it for its "
        "size (BodyTooLarge, over max_body_size), or one of the connection's timers "
        "expired (TimedOut).",
    }

    head = state(
        "HEAD",
        "Reading a status line and headers: the response's, or again after an "
        "informational 1xx response was skipped.",
        initial=True,
    )
    sized_body = state("BODY", "Reading a body whose length Content-Length gave.")
    chunked_body = state("CHUNKED", "Reading a chunked body and its trailers.")
    until_close = state(
        "UNTIL_CLOSE", "Reading a body that ends when the server closes the connection."
    )
    done = state(
        "DONE",
        "The response is complete; its body is finished when the connection "
        "releases the parser, after the connection has dealt with its own state.",
    )
    finished = state("FINISHED", "The response and its body are over.")
    failed = state("FAILED", "The response was cut short; its failure has been reported.")

    begin = event(
        stays(
            head,
            doc="The response begins (or the final response after a 1xx).",
        )
        | stays(
            done,
            effects=("note_stray", "halt"),
            doc="Another message starts after the complete response: the server "
            "sent bytes nobody asked for, so the connection will not be reused.",
        )
    )

    head_done = event(
        stays(
            head,
            cond=("informational",),
            effects=("skip_informational",),
            doc="An informational response (100 Continue, 103 Early Hints, ...) is "
            "skipped; the final response follows.",
        )
        | goes(
            head,
            finished,
            cond=("bodiless",),
            unless=("informational",),
            effects=("announce_complete", "open_response", "finish_body", "deliver_head", "halt"),
            doc="A response without a body is complete with its head.",
        )
        | goes(
            head,
            chunked_body,
            cond=("chunked",),
            unless=("informational", "bodiless"),
            effects=("pause_transport", "open_response", "deliver_head"),
            doc="A chunked body follows; the transport pauses until the body has a consumer.",
        )
        | goes(
            head,
            sized_body,
            cond=("sized",),
            unless=("informational", "bodiless", "chunked"),
            effects=("pause_transport", "open_response", "deliver_head"),
            doc="A body of Content-Length bytes follows.",
        )
        | goes(
            head,
            until_close,
            unless=("informational", "bodiless", "chunked", "sized"),
            effects=("pause_transport", "open_response", "deliver_head"),
            doc="No framing: the body runs until the server closes the connection.",
        ),
    )

    body = event(
        stays(
            sized_body,
            chunked_body,
            until_close,
            effects=("deliver_body",),
            doc="Body bytes go to the Response.",
        )
    )

    complete = event(
        goes(
            sized_body,
            done,
            effects=("announce_complete",),
            doc="The last byte of the body arrived.",
        )
        | goes(
            chunked_body,
            done,
            effects=("announce_complete",),
            doc="The last chunk and the trailers arrived.",
        )
        | stays(
            head,
            doc="The end of a skipped informational response.",
        )
    )

    lost = event(
        goes(
            head,
            failed,
            cond=("received",),
            effects=("fail_head",),
            doc="The head was cut short.",
        )
        | goes(
            head,
            failed,
            unless=("received",),
            effects=("fail_unanswered",),
            doc="No response at all arrived.",
        )
        | goes(
            sized_body,
            failed,
            effects=("fail_body",),
            doc="The body was cut short.",
        )
        | goes(
            chunked_body,
            failed,
            effects=("fail_body",),
            doc="The chunked body was cut short.",
        )
        | goes(
            until_close,
            finished,
            unless=("cut_short",),
            effects=("announce_complete", "finish_body_uncertain"),
            doc="The close is the end of the body.",
        )
        | goes(
            until_close,
            failed,
            cond=("cut_short",),
            effects=("fail_body",),
            doc="The parser refused the body for its size, or the server went "
            "silent or slow and a timer ended the connection: the close is no "
            "end of the body, which fails.",
        )
        | goes(
            done,
            finished,
            effects=("finish_body",),
            doc="The connection released the complete response: the body ends.",
        )
        | stays(
            finished,
            doc="The body already ended with the head.",
        )
    )
