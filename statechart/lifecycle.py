"""
The lifecycle of one HTTP/1.1 client connection, declared once.

This module is the single place where the connection's transitions are
written.  The protocol shell (L{httpchart.protocol}) feeds the chart its
events and implements the effects it names; the diagrams, the transition table
in the documentation and the table-driven tests are all derived from this
class.

Rules of the chart:

  - Every state is named with the string Twisted's own
    C{HTTP11ClientProtocol} uses, so C{protocol.state} keeps its meaning;
    C{AWAITING_CONTINUE}, for C{Expect: 100-continue}, is httpchart's own.
  - Timers are started and stopped by effects (C{start_*_timer},
    C{stop_*_timer}, C{stop_timers}) in the states they guard, and expire as
    events (C{timeout}, C{continue_timeout}); every transition out of those
    states stops them, so the expiry cannot happen anywhere else.
  - Every (state, event) cell is either declared or cannot happen.  A
    declared cell may leave the state unchanged, with effects or without
    (the event is then ignored on purpose).  An undeclared cell is an event
    that the connection cannot produce in that state; sending it raises
    L{httpchart.statechart.LifecycleError} and changes nothing.
  - Where a cell branches, its guards are exhaustive and mutually exclusive.
  - Effects run in the order given, after the state has changed (see
    L{httpchart.statechart.declare}).  An event that an effect causes, such
    as a Deferred that fires synchronously, is queued and handled once the
    current transition has finished (run to completion).  That is why events
    coming from the response parser are ignored, not impossible, in the
    states without a parser: they may have been queued behind the transition
    that detached it.

The chart also describes its vocabulary: L{ConnectionLifecycle.inputs} says
what each event means and carries (an effect or guard may take any of the
payload's names as parameters), C{outputs} what each effect does and
C{conditions} what each guard tests, and C{failure_states} which states
the diagrams draw as the ways a connection's exchange fails or ends.
"""

from __future__ import annotations

from typing import ClassVar

from .declare import Chart, Input, event, goes, state, stays

_FAILED_EFFECT = (
    "log_effect_failure",
    "stop_timers",
    "stop_writing",
    "abort_transport",
    "fail_outstanding",
)
"""The effects of the error path, wherever a transport is left to abort."""

_FAILED_UNSENT = (
    "log_effect_failure",
    "stop_timers",
    "stop_writing",
    "abort_transport",
    "fail_request",
    "fail_outstanding",
)
"""The same where the request was not (fully) sent: it fails as not generated."""


class ConnectionLifecycle(Chart):
    """
    One HTTP/1.1 connection carrying one request at a time: idle, writing a
    request, waiting for its response, and the ways that can end.
    """

    inputs: ClassVar[dict[str, Input]] = {
        "issue": Input(
            ("request", "deferred"),
            "The application issued a request on this connection.",
        ),
        "write_done": Input((), "The request's writeTo Deferred fired successfully."),
        "write_failed": Input(("reason",), "The request's writeTo Deferred failed."),
        "data": Input(("data",), "Bytes arrived from the server."),
        "head_received": Input((), "The parser has the response's head (its Deferred fired)."),
        "continue_received": Input(
            (), "The parser read an interim '100 Continue' for a request that expects it."
        ),
        "response_done": Input(("rest",), "The parser has read a complete response."),
        "bad_response": Input(
            ("reason",), "The parser, or the code consuming the response, raised."
        ),
        "connection_lost": Input(
            ("reason",), "The transport reported that the connection is gone."
        ),
        "abort": Input(("deferred",), "The application called abort()."),
        "cancel": Input(
            (),
            "The caller cancelled the Deferred returned by request(), or the "
            "response's body consumer aborted the connection (as readBody does "
            "when its Deferred is cancelled).",
        ),
        "timeout": Input(
            ("reason",),
            "The response, read or total timer expired; the reason holds a TimedOut naming it.",
        ),
        "continue_timeout": Input(
            (), "The expect_continue timer expired before '100 Continue' or a response."
        ),
        "effect_failed": Input(
            ("reason", "carried"),
            "An effect raised (a bug, in the connection or in code it calls): "
            "the engine skipped the transition's later effects and handed the "
            "exception over, with the Deferreds the failed event carried.",
        ),
    }

    outputs: ClassVar[dict[str, str]] = {
        "start_request": "Open a parser for the response and start writing the request.",
        "send_head": "Open a parser for the response and write only the request's head.",
        "send_body": "Start writing the body of a request whose head is written.",
        "withhold_body": "Never write the body: the connection cannot be reused.",
        "refuse_request": "Fail the new request with RequestNotSent; nothing is written.",
        "deliver_response": "From now on the parser's response, or its failure, goes to the "
        "caller.",
        "fail_generation": "Fail the request with RequestGenerationFailed([reason]).",
        "fail_transmission": "Fail the request with RequestTransmissionFailed([reason]).",
        "stop_writing": "Tell a request still being written to stop (stopWriting).",
        "cancel_writing": "Cancel the writeTo Deferred of a request still being written.",
        "log_late_write_failure": "Log a write failure nobody waits for any more.",
        "lose_transport": "Close the transport once written bytes are sent (loseConnection).",
        "abort_transport": "Close the transport at once, dropping unsent bytes (abortConnection).",
        "resume_transport": "Resume reading, undoing any pause the parser left.",
        "notify_quiescent": "Call the quiescent callback (the pool takes the connection "
        "back); if it raises, log and close.",
        "feed_parser": "Give the bytes to the parser; a failure becomes bad_response.",
        "log_bad_response": "Log, with its traceback, why the response failed.",
        "release_parser": "Disconnect the parser of a complete response, finishing its body.",
        "disconnect_parser": "Disconnect the parser with the event's reason.",
        "abort_parser": "Disconnect the parser, if any is left, with ConnectionAborted.",
        "cancel_parser": "Disconnect the parser, if any is left, with CancelledError.",
        "discard_parser": "Disconnect the parser of a request that already failed; its "
        "outcome is dropped.",
        "add_abort_waiter": "Keep the abort() Deferred, to fire when the connection is lost.",
        "fire_abort_waiters": "Fire every Deferred abort() returned.",
        "confirm_abort": "Fire the abort() Deferred at once.",
        "log_effect_failure": "Log, with its traceback, the exception an effect raised.",
        "fail_request": "Fail the request not fully written, and any request the failed event "
        "carried, with RequestGenerationFailed([reason]).",
        "fail_outstanding": "Fail everything still outstanding with the reason: the response "
        "or its body through the parser; with ResponseFailed([reason]), the request if "
        "nothing settled it, every abort() Deferred and any Deferred the failed event "
        "carried.",
        "notify_lost": "Call the lost callback (the pool forgets the connection), if one "
        "is set; if it raises, log.",
        "start_total_timer": "Start the total timer (Timeouts.total), if set.",
        "start_response_timer": "Start the response timer (Timeouts.response), if set.",
        "start_continue_timer": "Start the expect_continue timer, if set.",
        "start_read_timer": "Start the read timer (Timeouts.read), if set.",
        "restart_read_timer": "Bytes arrived: the read timer's silence starts again.",
        "stop_response_timer": "Stop the response timer: the head is in.",
        "stop_continue_timer": "Stop the expect_continue timer.",
        "stop_read_timer": "Stop the read timer.",
        "stop_timers": "Stop every timer of the connection.",
    }

    conditions: ClassVar[dict[str, str]] = {
        "withdrawn": "The request's Deferred was cancelled before the connection got to it.",
        "expects_continue": "The request has a body and the header 'Expect: 100-continue'.",
        "answered": "The response's head arrived before the request was fully written.",
        "closing": "The transport is closing, or there is none.",
        "reusable": "The request was persistent and sent whole, the response keeps the "
        "connection alive (HTTP/1.1 without 'Connection: close', or HTTP/1.0 with "
        "keep-alive) and no stray bytes followed it.",
    }

    failure_states: ClassVar[tuple[str, ...]] = (
        "GENERATION_FAILED",
        "ABORTING",
        "CONNECTION_LOST",
    )
    """
    The states that mean the exchange failed or the connection is finished.
    Documentation only: the diagrams draw the transitions into them apart from
    the request cycle.  Nothing in the chart's behaviour depends on it.
    """

    busiest_states: ClassVar[tuple[str, ...]] = ("WAITING", "QUIESCENT", "TRANSMITTING")
    """
    The states most events of an exchange find the connection in, which the
    compiled engine tests first.  A hint for speed only: nothing in the
    chart's behaviour depends on it.
    """

    quiescent = state(
        "QUIESCENT",
        "Idle: no request is being written and no response is expected.  "
        "Every connection starts here and a persistent one returns here after "
        "each complete response.  Only here is a new request accepted.",
        initial=True,
    )
    awaiting_continue = state(
        "AWAITING_CONTINUE",
        "The head of a request with 'Expect: 100-continue' is written; its body "
        "waits for '100 Continue', a final response or the expect_continue timer.",
    )
    transmitting = state(
        "TRANSMITTING",
        "A request has been issued and its writeTo has not finished yet.  "
        "Response bytes that arrive meanwhile are parsed, but the response is "
        "held back until the request is written or the response is complete.",
    )
    transmitting_after_receiving_response = state(
        "TRANSMITTING_AFTER_RECEIVING_RESPONSE",
        "The server sent a complete response before the request was fully "
        "written.  The caller has the response and the connection is closing; "
        "it stays here, whatever becomes of the write, until it is lost.",
    )
    generation_failed = state(
        "GENERATION_FAILED",
        "Producing the request failed locally (its writeTo failed or was "
        "cancelled), so it was not fully sent.  The caller has "
        "RequestGenerationFailed and the transport is being aborted.",
    )
    waiting = state(
        "WAITING",
        "The request has been fully written; its response is awaited or is being received.",
    )
    aborting = state(
        "ABORTING",
        "This side is tearing the connection down: abort() was called, the "
        "caller cancelled after the request was sent, the server broke the "
        "protocol, or an effect raised.  Incoming bytes are dropped until the "
        "transport reports the loss.",
    )
    lost = state(
        "CONNECTION_LOST",
        "The transport is gone.  Nothing leaves this state: requests are "
        "refused and abort() succeeds at once.",
    )

    issue = event(
        goes(
            quiescent,
            transmitting,
            unless=("withdrawn", "closing", "expects_continue"),
            effects=("start_request", "start_total_timer"),
            doc="An idle, open connection takes the request: a parser is "
            "readied for its response, writeTo starts and the total timer runs.",
        )
        | goes(
            quiescent,
            awaiting_continue,
            cond=("expects_continue",),
            unless=("withdrawn", "closing"),
            effects=(
                "send_head",
                "start_total_timer",
                "start_continue_timer",
                "start_read_timer",
            ),
            doc="A request expecting '100 Continue': only its head is written; "
            "its body waits for the server or the expect_continue timer.",
        )
        | stays(
            quiescent,
            cond=("closing",),
            unless=("withdrawn",),
            effects=("refuse_request",),
            doc="The transport is already closing (the last response ended the "
            "connection, or someone closed it), so the request is refused with "
            "RequestNotSent instead of being written into a dying transport.",
        )
        | stays(
            quiescent,
            cond=("withdrawn",),
            doc="The caller cancelled the request before the connection got to "
            "it (it was issued from inside a callback and queued): it is not "
            "sent at all.",
        )
        | stays(
            awaiting_continue,
            transmitting,
            transmitting_after_receiving_response,
            generation_failed,
            waiting,
            aborting,
            lost,
            effects=("refuse_request",),
            doc="The connection is busy or finished: the request fails with "
            "RequestNotSent and nothing is written.",
        ),
    )

    write_done = event(
        goes(
            transmitting,
            waiting,
            unless=("answered",),
            effects=("deliver_response", "start_response_timer", "start_read_timer"),
            doc="The request is fully written; from now on the parser's "
            "response (or its failure) goes to the caller, and the response "
            "and read timers run.",
        )
        | goes(
            transmitting,
            waiting,
            cond=("answered",),
            effects=("deliver_response", "start_read_timer"),
            doc="The request is fully written and its response's head is "
            "already in: the caller gets it, and the read timer runs.",
        )
        | stays(
            transmitting_after_receiving_response,
            aborting,
            lost,
            doc="The write finished after the exchange was already over or "
            "abandoned; it changes nothing.",
        ),
    )

    write_failed = event(
        goes(
            transmitting,
            generation_failed,
            effects=("stop_timers", "abort_transport", "fail_generation", "discard_parser"),
            doc="Producing the request failed: the transport is aborted, the "
            "caller gets RequestGenerationFailed and the parser is dropped.",
        )
        | goes(
            awaiting_continue,
            generation_failed,
            effects=("stop_timers", "abort_transport", "fail_generation", "discard_parser"),
            doc="Producing the request's head failed: as for the whole request.",
        )
        | stays(
            transmitting_after_receiving_response,
            aborting,
            lost,
            effects=("log_late_write_failure",),
            doc="The write failed after the exchange was already over or "
            "abandoned; nobody waits for it, so the failure is logged.",
        ),
    )

    data = event(
        stays(
            awaiting_continue,
            transmitting,
            waiting,
            effects=("restart_read_timer", "feed_parser"),
            doc="Response bytes restart the read timer's silence (where it runs) "
            "and go to the parser.  A parse failure becomes a bad_response event.",
        )
        | goes(
            quiescent,
            aborting,
            effects=("lose_transport",),
            doc="Bytes on an idle connection (garbage, or a server's '408' before "
            "closing) mean it cannot be reused: close it.",
        )
        | stays(
            transmitting_after_receiving_response,
            generation_failed,
            aborting,
            lost,
            doc="Nobody is parsing any more: the bytes are dropped.",
        ),
    )

    head_received = event(
        stays(
            waiting,
            effects=("stop_response_timer",),
            doc="The head is in: the response timer stops.",
        )
        | stays(
            transmitting,
            doc="The head arrived while the request is still written: the "
            "caller gets the response when the write is done.",
        )
        | goes(
            awaiting_continue,
            waiting,
            effects=("stop_continue_timer", "withhold_body", "deliver_response"),
            doc="A final response before '100 Continue': the body is never "
            "written, the caller gets the response, and the connection will "
            "close after it.",
        )
        | stays(
            quiescent,
            transmitting_after_receiving_response,
            generation_failed,
            aborting,
            lost,
            doc="Queued behind the transition that detached the parser (Twisted's "
            "parser completes a response without a body before its Deferred "
            "fires): ignored.",
        ),
    )

    continue_received = event(
        goes(
            awaiting_continue,
            transmitting,
            effects=("stop_continue_timer", "stop_read_timer", "send_body"),
            doc="The server asks for the body: it is written.",
        )
        | stays(
            transmitting,
            waiting,
            doc="A '100 Continue' nobody waits for (the body is already being "
            "written, or was not announced) is skipped.",
        )
        | stays(
            quiescent,
            transmitting_after_receiving_response,
            generation_failed,
            aborting,
            lost,
            doc="Queued behind the transition that detached the parser: ignored.",
        ),
    )

    response_done = event(
        goes(
            waiting,
            quiescent,
            cond=("reusable",),
            effects=("stop_timers", "resume_transport", "notify_quiescent", "release_parser"),
            doc="A complete response on a connection both sides keep open: the "
            "transport reads again, the quiescent callback (the pool) takes the "
            "connection back, then the response body is finished.",
        )
        | goes(
            waiting,
            quiescent,
            unless=("reusable",),
            effects=("stop_timers", "lose_transport", "release_parser"),
            doc="A complete response that ends the connection (non-persistent "
            "request, a body never sent, 'Connection: close', HTTP/1.0 without "
            "keep-alive, or stray bytes after it): close the transport, finish "
            "the body.",
        )
        | goes(
            transmitting,
            transmitting_after_receiving_response,
            effects=("stop_timers", "deliver_response", "lose_transport", "release_parser"),
            doc="The server answered before the request was fully written: the "
            "caller gets the response and the connection is closed.",
        )
        | goes(
            awaiting_continue,
            transmitting_after_receiving_response,
            effects=("stop_timers", "deliver_response", "lose_transport", "release_parser"),
            doc="A complete final response before '100 Continue' (Twisted's parser "
            "completes one without a body before its head is reported): the "
            "caller gets it, the body is never written, the connection closes.",
        )
        | stays(
            quiescent,
            transmitting_after_receiving_response,
            generation_failed,
            aborting,
            lost,
            doc="Queued behind the transition that detached the parser (a "
            "close-delimited body ends when the parser is disconnected): "
            "ignored.",
        ),
    )

    bad_response = event(
        goes(
            waiting,
            aborting,
            effects=("stop_timers", "log_bad_response", "lose_transport", "disconnect_parser"),
            doc="The response cannot be parsed (or its consumer raised): log why, "
            "close the transport and fail the response with the reason.",
        )
        | goes(
            transmitting,
            aborting,
            effects=(
                "stop_timers",
                "log_bad_response",
                "stop_writing",
                "abort_transport",
                "deliver_response",
                "disconnect_parser",
            ),
            doc="The response broke while the request was still being written: "
            "log why, stop writing, abort, and give the caller the response "
            "failure now rather than a transmission failure later.",
        )
        | goes(
            awaiting_continue,
            aborting,
            effects=(
                "stop_timers",
                "log_bad_response",
                "abort_transport",
                "deliver_response",
                "disconnect_parser",
            ),
            doc="The response broke before the body was written: log why, "
            "abort, and give the caller the response failure.",
        )
        | stays(
            quiescent,
            transmitting_after_receiving_response,
            generation_failed,
            aborting,
            lost,
            effects=("log_bad_response",),
            doc="Queued behind the transition that detached the parser: the "
            "failure is only logged.",
        ),
    )

    connection_lost = event(
        goes(
            quiescent,
            lost,
            effects=("notify_lost",),
            doc="An idle connection closed; nothing was in flight.  The pool, "
            "told at once, never hands it out again.",
        )
        | goes(
            transmitting,
            lost,
            effects=(
                "notify_lost",
                "stop_timers",
                "stop_writing",
                "fail_transmission",
                "discard_parser",
            ),
            doc="Lost while writing: the request is told to stop and the caller "
            "gets RequestTransmissionFailed.",
        )
        | goes(
            awaiting_continue,
            lost,
            effects=("notify_lost", "stop_timers", "fail_transmission", "discard_parser"),
            doc="Lost before the body was written: the caller gets RequestTransmissionFailed.",
        )
        | goes(
            transmitting_after_receiving_response,
            lost,
            effects=("notify_lost", "stop_writing"),
            doc="Lost after the response was delivered: a write still in progress is stopped.",
        )
        | goes(
            generation_failed,
            lost,
            effects=("notify_lost",),
            doc="The aborted transport is gone; the caller already knows.",
        )
        | goes(
            waiting,
            lost,
            effects=("notify_lost", "stop_timers", "disconnect_parser"),
            doc="Lost while waiting: the parser decides what that means (the "
            "end of a close-delimited body, or ResponseFailed).",
        )
        | goes(
            aborting,
            lost,
            effects=("notify_lost", "abort_parser", "fire_abort_waiters"),
            doc="The teardown is complete: a response still being read fails "
            "with ConnectionAborted, and abort() Deferreds fire.",
        )
        | stays(
            lost,
            doc="A second report of the same loss changes nothing.",
        ),
    )

    abort = event(
        goes(
            quiescent,
            aborting,
            effects=("add_abort_waiter", "abort_transport"),
            doc="Abort an idle connection (the pool closing its cache).",
        )
        | goes(
            transmitting,
            aborting,
            effects=(
                "stop_timers",
                "add_abort_waiter",
                "stop_writing",
                "abort_transport",
                "deliver_response",
            ),
            doc="Abort while writing: stop the write and hand the caller the "
            "response's outcome, which the loss will make ConnectionAborted.",
        )
        | goes(
            awaiting_continue,
            aborting,
            effects=("stop_timers", "add_abort_waiter", "abort_transport", "deliver_response"),
            doc="Abort before the body was written: hand the caller the "
            "response's outcome, which the loss will make ConnectionAborted.",
        )
        | goes(
            transmitting_after_receiving_response,
            aborting,
            effects=("add_abort_waiter", "stop_writing", "abort_transport"),
            doc="Abort after the response arrived: stop the rest of the write.",
        )
        | goes(
            generation_failed,
            aborting,
            effects=("add_abort_waiter",),
            doc="The transport is already being aborted; wait for it.",
        )
        | goes(
            waiting,
            aborting,
            effects=("stop_timers", "add_abort_waiter", "abort_transport"),
            doc="Abort while waiting: the response will fail with "
            "ConnectionAborted once the transport is gone.",
        )
        | stays(
            aborting,
            effects=("add_abort_waiter",),
            doc="Already aborting: one more Deferred to fire at the loss.",
        )
        | stays(
            lost,
            effects=("confirm_abort",),
            doc="Nothing left to abort: the Deferred fires at once.",
        ),
    )

    cancel = event(
        stays(
            transmitting,
            transmitting_after_receiving_response,
            effects=("cancel_writing",),
            doc="Cancelled while writing: cancel request generation, which "
            "fails the request with RequestGenerationFailed.",
        )
        | goes(
            waiting,
            aborting,
            effects=("stop_timers", "abort_transport", "cancel_parser"),
            doc="Cancelled after the request was sent: abort the connection and "
            "fail the response with CancelledError.",
        )
        | goes(
            awaiting_continue,
            aborting,
            effects=("stop_timers", "abort_transport", "deliver_response", "cancel_parser"),
            doc="Cancelled before the body was written: abort the connection and "
            "fail the response with CancelledError.",
        )
        | stays(
            aborting,
            effects=("abort_transport", "cancel_parser"),
            doc="Cancelled during a teardown: fail the response with "
            "CancelledError now instead of at the loss.",
        )
        | stays(
            quiescent,
            generation_failed,
            lost,
            doc="The exchange is already over; cancelling changes nothing.",
        ),
    )

    timeout = event(
        goes(
            transmitting,
            aborting,
            effects=(
                "stop_timers",
                "stop_writing",
                "abort_transport",
                "deliver_response",
                "disconnect_parser",
            ),
            doc="The total timer expired while writing: stop the write, abort, "
            "and fail the response with the TimedOut reason.",
        )
        | goes(
            awaiting_continue,
            aborting,
            effects=("stop_timers", "abort_transport", "deliver_response", "disconnect_parser"),
            doc="The total or read timer expired before the body was written: "
            "abort, and fail the response with the TimedOut reason.",
        )
        | goes(
            waiting,
            aborting,
            effects=("stop_timers", "abort_transport", "disconnect_parser"),
            doc="The response, read or total timer expired: abort, and fail the "
            "response (or its body) with the TimedOut reason.",
        ),
    )

    continue_timeout = event(
        goes(
            awaiting_continue,
            transmitting,
            effects=("stop_continue_timer", "stop_read_timer", "send_body"),
            doc="No '100 Continue' in time: the body is written anyway, as curl does.",
        ),
    )

    effect_failed = event(
        goes(
            transmitting,
            aborting,
            effects=_FAILED_UNSENT,
            doc="An effect raised while the request was being written: log it, "
            "stop writing, abort, and fail the request with "
            "RequestGenerationFailed, then whatever else is outstanding.",
        )
        | goes(
            awaiting_continue,
            aborting,
            effects=_FAILED_UNSENT,
            doc="An effect raised while the body waited for '100 Continue': log "
            "it, abort, and fail the request with RequestGenerationFailed, then "
            "whatever else is outstanding.",
        )
        | goes(
            quiescent,
            aborting,
            effects=_FAILED_EFFECT,
            doc="An effect raised on an idle connection (say, after the pool took "
            "it back): log it, abort the transport and fail whatever is "
            "outstanding.  The connection is never idle again, so no pool hands"
            " it out.",
        )
        | goes(
            transmitting_after_receiving_response,
            aborting,
            effects=_FAILED_EFFECT,
            doc="An effect raised after the response was delivered: log it, stop "
            "writing, abort, and fail whatever is outstanding (the body, if "
            "still being read).",
        )
        | goes(
            generation_failed,
            aborting,
            effects=_FAILED_UNSENT,
            doc="An effect raised after the request failed: log it, abort (again), "
            "fail the request with RequestGenerationFailed unless that was done, "
            "and fail whatever else is outstanding.",
        )
        | goes(
            waiting,
            aborting,
            effects=_FAILED_EFFECT,
            doc="An effect raised while the response was awaited: log it, abort, "
            "and fail the response (or its body) with the exception.",
        )
        | stays(
            aborting,
            effects=_FAILED_EFFECT,
            doc="An effect raised during a teardown: log it, abort (again) and fail "
            "whatever is outstanding now instead of at the loss.",
        )
        | stays(
            lost,
            effects=("log_effect_failure", "stop_timers", "stop_writing", "fail_outstanding"),
            doc="An effect raised after the loss: log it and fail anything "
            "still outstanding with the exception.",
        ),
    )
