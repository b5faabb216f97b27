"""
The delivery of one response's body to the application, declared once.

A response's body starts arriving before anyone has asked for it: the
application gets the L{Response} when its head is in, and only then hands a
protocol to C{deliverBody}.  This chart keeps the two in step: bytes that
arrive before the protocol are buffered (the parser has paused the
transport meanwhile), the end of the body is remembered until there is a
protocol to tell, and a second protocol, or bytes after the end, are errors.
The states are the ones Twisted's own C{Response} uses, and one more:
DISCARDING, for a body the application said it does not want
(C{Response.discard()}): what is left of it is read and dropped, or the
connection is aborted, depending on how much is left.
"""

from __future__ import annotations

from typing import ClassVar

from .declare import Chart, Input, event, goes, state, stays


class BodyDelivery(Chart):
    """
    A response body on its way from the parser to the application's protocol.
    """

    # FINISHED ends the chart: only discard() is handled there, in place, which
    # the library would otherwise reject as a trap.
    validate_trap_states = False

    # The compiled engine tests this state first (a hint for speed only): a
    # streamed body's bytes find the response there.
    busiest_states: ClassVar[tuple[str, ...]] = ("CONNECTED",)

    inputs: ClassVar[dict[str, Input]] = {
        "deliver": Input(("protocol",), "The application called deliverBody(protocol)."),
        "data": Input(("data",), "The parser has bytes of the body."),
        "finished": Input(("reason",), "The parser has no more of the body, for reason."),
        "discard": Input(
            ("deferred",),
            "The application called discard(): it does not want the body; deferred "
            "fires once the body is over.",
        ),
    }

    outputs: ClassVar[dict[str, str]] = {
        "attach": "Connect the protocol to the transport and keep it as the body's consumer.",
        "flush": "Give the protocol the bytes buffered so far.",
        "resume_transport": "Resume the transport the parser paused while nobody consumed "
        "the body.",
        "buffer": "Keep the bytes until a protocol is given.",
        "pass_on": "Give the bytes to the protocol.",
        "keep_reason": "Remember why the body ended.",
        "close_protocol": "Tell the protocol the body has ended (connectionLost with the "
        "remembered reason); if it raises, log the error.",
        "await_end": "Keep the Deferred returned by discard(), to fire when the body is over.",
        "drop_buffer": "Forget the bytes buffered so far.",
        "end_consumer": "Tell the protocol the body was discarded (connectionLost with "
        "ResponseFailed([BodyDiscarded, _DataLoss])) and forget it; if it raises, log the "
        "error.",
        "abort_transport": "Abort the connection through the transport the parser gave, as "
        "cancelling readBody does; the body ends with the abort.",
        "report_discarded": "Fire every Deferred returned by discard() with whether the body "
        "was read to its end (True) or cut short, by discard's abort or otherwise (False).",
    }

    conditions: ClassVar[dict[str, str]] = {
        "small_rest": "The body's length is known and at most Response.drain_limit bytes of "
        "it are still to come.",
    }

    initial = state(
        "INITIAL",
        "No protocol yet and the body may still be arriving: bytes are buffered.",
        initial=True,
    )
    connected = state("CONNECTED", "A protocol consumes the body; bytes go straight to it.")
    deferred_close = state(
        "DEFERRED_CLOSE",
        "The whole body has arrived but nobody has asked for it yet: it is buffered "
        "with the reason it ended.",
    )
    delivered = state("FINISHED", "The body is over, and whoever wanted it has been told.")
    discarding = state(
        "DISCARDING",
        "Nobody wants the body: what is left of it is read and dropped, or the "
        "connection is being aborted, until the body ends.",
    )

    deliver = event(
        goes(
            initial,
            connected,
            effects=("attach", "flush", "resume_transport"),
            doc="The protocol gets what was buffered, then the rest as it comes.",
        )
        | goes(
            deferred_close,
            delivered,
            effects=("attach", "flush", "close_protocol"),
            doc="The protocol gets the whole buffered body and its end at once.",
        )
    )

    data = event(
        stays(initial, effects=("buffer",), doc="Buffered until there is a protocol.")
        | stays(connected, effects=("pass_on",), doc="Straight to the protocol.")
        | stays(discarding, doc="Dropped: nobody wants the body.")
    )

    finished = event(
        goes(
            initial,
            deferred_close,
            effects=("keep_reason",),
            doc="The body ended before anyone asked for it.",
        )
        | goes(
            connected,
            delivered,
            effects=("keep_reason", "close_protocol"),
            doc="The body ended; the protocol is told.",
        )
        | goes(
            discarding,
            delivered,
            effects=("keep_reason", "report_discarded"),
            doc="The discarded body is over: drained to its end, or cut short.",
        )
    )

    discard = event(
        goes(
            initial,
            discarding,
            cond=("small_rest",),
            effects=("await_end", "drop_buffer", "resume_transport"),
            doc="Little is left: read it and drop it, so the connection can be reused.",
        )
        | goes(
            initial,
            discarding,
            unless=("small_rest",),
            effects=("await_end", "drop_buffer", "abort_transport"),
            doc="Too much is left, or nobody knows how much: abort the connection.",
        )
        | goes(
            connected,
            discarding,
            cond=("small_rest",),
            effects=("await_end", "end_consumer", "resume_transport"),
            doc="The protocol is told the body was discarded; the little that is "
            "left is read and dropped.",
        )
        | goes(
            connected,
            discarding,
            unless=("small_rest",),
            effects=("await_end", "end_consumer", "abort_transport"),
            doc="The protocol is told the body was discarded; the connection is aborted.",
        )
        | goes(
            deferred_close,
            delivered,
            effects=("await_end", "drop_buffer", "report_discarded"),
            doc="The whole body had arrived: drop it; the connection is already free.",
        )
        | stays(
            discarding,
            effects=("await_end",),
            doc="Discarded again: one more Deferred to fire when the body is over.",
        )
        | stays(
            delivered,
            effects=("await_end", "report_discarded"),
            doc="The body is already over: nothing to do but say how it ended.",
        )
    )
