"""
The delivery of one response's body to the application, declared once.

A response's body starts arriving before anyone has asked for it: the
application gets the L{Response} when its head is in, and only then hands a
protocol to C{deliverBody}.  This chart keeps the two in step: bytes that
arrive before the protocol are buffered (the parser has paused the
transport meanwhile), the end of the body is remembered until there is a
protocol to tell, and a second protocol, or bytes after the end, are errors.
The states are the ones Twisted's own C{Response} uses.
"""

from __future__ import annotations

from typing import ClassVar

from .declare import Chart, Input, event, goes, state, stays


class BodyDelivery(Chart):
    """
    A response body on its way from the parser to the application's protocol.
    """

    # FINISHED end the chart: nothing can happen there, so they have no
    # transitions at all, which the library would otherwise reject as traps.
    validate_trap_states = False

    inputs: ClassVar[dict[str, Input]] = {
        "deliver": Input(("protocol",), "The application called deliverBody(protocol)."),
        "data": Input(("data",), "The parser has bytes of the body."),
        "finished": Input(("reason",), "The parser has no more of the body, for reason."),
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
    }

    conditions: ClassVar[dict[str, str]] = {}

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
    delivered = state("FINISHED", "The protocol has had the whole body and its end.")

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
    )
