"""
L{HTTP11ClientProtocol}: Twisted's HTTP/1.1 client protocol as a shell around
the declared L{ConnectionLifecycle}.

The shell turns what happens to a connection into chart events: a call to
L{HTTP11ClientProtocol.request}, bytes from the transport, the request's
writeTo Deferred firing, the parser finishing a response, the transport going
away, L{HTTP11ClientProtocol.abort}, the caller cancelling.  The chart decides
what each event means in the current state and names the effects to run; the
shell implements every effect as a small method (C{_name} for the chart's
C{name}) and never decides a transition itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Literal, cast
from typing import Protocol as TypingProtocol

from twisted.internet.defer import CancelledError, Deferred, fail
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IReactorTime, ITCPTransport
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web._newclient import (
    ConnectionAborted,
    RequestGenerationFailed,
    RequestNotSent,
    RequestTransmissionFailed,
    ResponseFailed,
    TransportProxyProducer,
)
from twisted.web.iweb import IResponse

from httpchart.statechart import (
    Charted,
    ChartSpec,
    ConnectionLifecycle,
    Engine,
    ReferenceEngine,
    TransitionRecord,
)

from .events import ConnectionEvents
from .expect import expects_continue, write_body, write_head
from .llhttp import LLHTTPParser
from .parser import ParserFactory, ResponseParser
from .timeouts import Deadlines, TimedOut, Timeouts, TimerName

EngineName = Literal["compiled", "reference"]

# The reason given to the parser of a complete response.  A parser only
# reports a reason when the response was cut short, which this one was not, so
# one shared Failure serves every connection.
_RESPONSE_COMPLETE = Failure(ConnectionDone("response complete"))
Observer = Callable[[TransitionRecord], object]
_NO_LIMITS = Timeouts()


def _ignore(connection: object) -> None:
    """
    The default quiescent callback: nobody takes the idle connection back.
    """


class ClientRequest(TypingProtocol):
    """
    What the connection uses of a request: L{twisted.web._newclient.Request}
    and anything shaped like it.
    """

    persistent: bool
    """
    A request may also carry C{timeouts}, a L{Timeouts} for its exchange
    instead of the connection's (httpchart's L{Agent} sets it).
    """

    def writeTo(self, transport: Any) -> Deferred[None]:
        """
        Write the request to C{transport}; the Deferred fires when it is all
        written, or fails if producing it failed.
        """

    def stopWriting(self) -> None:
        """
        Stop a write in progress; its Deferred need not fire afterwards.
        """


class _TCPTransport(TypingProtocol):
    def setTcpNoDelay(self, enabled: bool) -> None: ...


class TransportProxy(TransportProxyProducer):
    """
    What a response's parser and its body's consumer see of the connection's
    transport: they may pause, resume or stop it, and abort or close it,
    until the connection stops proxying.

    Twisted's proxy has no C{abortConnection}, so C{readBody} warns and
    cannot abort the connection when its Deferred is cancelled; this one
    can.  Aborting through it cancels the exchange: the connection aborts
    its transport and the response ends with L{CancelledError} before
    C{abortConnection} returns.  C{readBody}'s Deferred, once cancelled,
    must not fire again, so its body must not be ended later by the loss
    the reactor reports.

    A pause asked for while the connection is handling an event takes effect
    when the connection is done with it, and only if nobody resumed the
    transport meanwhile.  No byte can arrive before then, and the usual
    exchange (the parser pauses at the end of the head until the body has a
    consumer; the caller attaches one as soon as it gets the response, in
    the same step) then costs no system call.
    """

    _pause_wanted = False

    def __init__(self, producer: Any, connection: HTTP11ClientProtocol) -> None:
        self._producer = producer
        self._connection = connection

    def pauseProducing(self) -> None:
        """
        Pause the transport, now or when the connection's current step ends.
        """
        if self._producer is None:
            return
        connection = self._connection
        if not connection._in_step():
            timers = connection._timers
            if timers is not None:
                timers.paused = True
            self._producer.pauseProducing()
        else:
            self._pause_wanted = True
            self._connection._when_step_ends()

    def resumeProducing(self) -> None:
        """
        Resume the transport, and forget a pause not applied yet.
        """
        if self._pause_wanted:
            self._pause_wanted = False
        timers = self._connection._timers
        if timers is not None and timers.paused:
            timers.paused = False
            timers.restart_read()
        producer = self._producer
        if producer is not None:
            producer.resumeProducing()

    def stopProxying(self) -> None:
        if self._pause_wanted:
            self._pause_wanted = False
        self._producer = None

    def apply_pause(self) -> None:
        """
        Apply a pause asked for during the step that just ended.
        """
        if self._pause_wanted:
            self._pause_wanted = False
            if self._producer is not None:
                timers = self._connection._timers
                if timers is not None:
                    timers.paused = True
                self._producer.pauseProducing()

    def abortConnection(self) -> None:
        """
        Cancel the exchange, unless this proxy has been stopped.
        """
        if self._producer is not None:
            self._connection._consumer_cancelled()


class HTTP11ClientProtocol(Protocol, Charted):
    """
    An HTTP/1.1 client connection that carries one request at a time, a
    drop-in for L{twisted.web._newclient.HTTP11ClientProtocol}.

    Its C{state} is one of the values of L{ConnectionLifecycle}'s states,
    which are Twisted's state names.  See the chart for what each state means
    and for every event each state handles.

    @cvar engine: C{"compiled"} (the default) runs the chart through the
        dispatch derived from it once per class; C{"reference"} runs it on
        python-statemachine's own engine, which is slow and meant for
        checking the compiled one.
    @cvar parser_factory: Opens the parser for each response.
    @ivar lostCallback: If not C{None}, called with this protocol once, when
        its transport is gone, whatever the connection was doing (the
        chart's C{notify_lost}).  A connection pool sets it, so that a
        connection the server closes while it is idle leaves the pool at
        once and a busy one frees its slot.  If it raises, the error is
        logged.
    """

    chart: ClassVar[type[ConnectionLifecycle]] = ConnectionLifecycle
    engine: ClassVar[EngineName] = "compiled"
    parser_factory: ClassVar[ParserFactory] = LLHTTPParser.open
    _log: ClassVar[Logger] = Logger()

    # What every connection holds lives in slots, so that an instance
    # dictionary (Protocol's) is only made for what few connections use:
    # an observer, the reference engine, abort() waiters, a body limit,
    # a factory.  A pool's connections have timeouts and a lost callback,
    # which are slots too.
    __slots__ = (
        "_currentRequest",
        "_finishedRequest",
        "_parser",
        "_quiescentCallback",
        "_responseDeferred",
        "_settlements",
        "_settling",
        "_state",
        "_step_end_wanted",
        "_step_queue",
        "_timeouts",
        "_timers",
        "_transportProxy",
        "_writing",
        "connected",
        "lostCallback",
        "transport",
    )

    _state: str
    _runner: Engine
    _fire: ConnectionEvents
    _observer: Observer | None
    _parser: ResponseParser | None
    _transportProxy: TransportProxy | None
    _responseDeferred: Deferred[IResponse] | None
    _currentRequest: ClientRequest | None
    _finishedRequest: Deferred[IResponse] | None
    _writing: tuple[ClientRequest, Deferred[None]] | None
    _abortDeferreds: list[Deferred[None]] | None = None
    _timers: Deadlines | None
    """The connection's deadlines, made when a timer first needs them."""
    _timeouts: Timeouts
    _max_body_size: int | None = None
    _head: bytes = b""
    _body_withheld = False
    _settlements: list[tuple[Deferred[Any], object]] | None
    _settling: bool

    lostCallback: Callable[[HTTP11ClientProtocol], object] | None

    def __init__(
        self,
        quiescentCallback: Callable[[HTTP11ClientProtocol], object] = _ignore,
        *,
        engine: EngineName | None = None,
        observer: Observer | None = None,
        max_body_size: int | None = None,
        timeouts: Timeouts | None = None,
        clock: IReactorTime | None = None,
    ) -> None:
        """
        @param quiescentCallback: Called with this protocol each time a
            persistent connection becomes idle again, before the response
            body is finished; a connection pool uses it to take the
            connection back.  If it raises, the error is logged and the
            connection is closed.
        @param engine: Overrides the class's L{engine} for this connection.
        @param observer: Called with a L{TransitionRecord} for every
            transition, before its effects run.  Exceptions it raises are
            logged and otherwise ignored.
        @param max_body_size: The most bytes of body accepted in a response on
            this connection (L{LLHTTPParser.max_body_size}); C{None} keeps the
            parser's own limit, none by default.  A longer body fails with
            L{ResponseFailed <twisted.web.client.ResponseFailed>} holding
            L{BodyTooLarge}, and the connection is closed.  Only httpchart's
            parser enforces it.
        @param timeouts: How long to wait for the response; by default (and
            with C{None}) as long as it takes, as Twisted's class does.  Only
            a request that expects C{100 Continue} waits at most
            C{Timeouts().expect_continue} before sending its body.
        @param clock: Where the timers run: the global reactor by default.
        """
        self.transport = None
        self.connected = 0
        self._state = "QUIESCENT"
        self._step_queue = None
        self._step_end_wanted = False
        self._quiescentCallback = quiescentCallback
        self._parser = self._transportProxy = self._responseDeferred = None
        self._currentRequest = self._finishedRequest = self._writing = None
        self._settlements = None
        self._settling = False
        self._timers = None
        if max_body_size is not None:
            self._max_body_size = max_body_size
        self._timeouts = _NO_LIMITS if timeouts is None else timeouts
        self.lostCallback = None
        if timeouts is not None or clock is not None:
            self._timers = Deadlines(self._timeouts, clock, self._timer_expired)
        if (engine or self.engine) == "reference":
            self._runner = ReferenceEngine(ChartSpec.of(self.chart), self)
            self._fire = self._runner.fire
            if getattr(type(self).dataReceived, "_is_data_event", False):
                self.dataReceived = functools.partial(self._fire.data, self)  # type: ignore[method-assign]
        if observer is not None:
            self._observer = self._guarded(observer)

    @classmethod
    def _compile(cls) -> None:
        super()._compile()
        cls._runner = cls._compiled
        if getattr(cls.dataReceived, "_is_data_event", False):
            # The method is the chart's data event itself, compiled for this
            # class: one call less for every read.  A connection on the
            # reference engine sends the event through its own engine (see
            # __init__), and a subclass's own dataReceived is left alone.
            fire = cls._compiled.fire.data
            fire.__doc__ = cls.dataReceived.__doc__
            fire._is_data_event = True
            cls.dataReceived = fire  # type: ignore[method-assign]

    @property
    def _deadlines(self) -> Deadlines:
        """
        The connection's deadlines, made now if no timer needed them yet.
        Until then, the connection has no limit but C{expect_continue}, and
        no deadline.
        """
        timers = self._timers
        if timers is None:
            timers = self._timers = Deadlines(self._timeouts, None, self._timer_expired)
        return timers

    @property
    def state(self) -> str:
        """
        The name of the state this connection is in.
        """
        return self._state

    def keep_alive_values(self) -> Sequence[bytes]:
        """
        The values of the C{Keep-Alive} header of the response being read;
        while the quiescent callback runs, of the complete response that made
        the connection idle (a pool reads the server's idle timeout and
        request cap there).  Empty when no response is being read.
        """
        parser = self._parser
        return () if parser is None else parser.keep_alive_values()

    def connectionMade(self) -> None:
        """
        Turn Nagle's algorithm off: requests are written in pieces, and each
        should go out at once.
        """
        if ITCPTransport.providedBy(self.transport):
            cast(_TCPTransport, self.transport).setTcpNoDelay(True)

    def request(self, request: ClientRequest) -> Deferred[IResponse]:
        """
        Issue C{request} over this connection.

        @return: A Deferred that fires with the
            L{IResponse <twisted.web.iweb.IResponse>} once its headers have
            arrived, or fails with
            L{RequestNotSent <twisted.web._newclient.RequestNotSent>} (the
            connection is busy, closing or closed),
            L{RequestGenerationFailed <twisted.web.client.RequestGenerationFailed>}
            (producing the request failed),
            L{RequestTransmissionFailed <twisted.web.client.RequestTransmissionFailed>}
            (the connection was lost while writing),
            L{ResponseNeverReceived <twisted.web.client.ResponseNeverReceived>}
            or L{ResponseFailed <twisted.web.client.ResponseFailed>} (the
            response was lost, broken or aborted).  Cancelling it while the
            request is being written cancels the write; afterwards it aborts
            the connection and fails with a
            L{CancelledError <twisted.internet.defer.CancelledError>} reason.
        """
        deferred: Deferred[IResponse] = Deferred(self._cancelled)
        self._fire.issue(self, request, deferred)
        return deferred

    def dataReceived(self, data: bytes) -> None:
        """
        Bytes arrived from the server: the chart's C{data} event.
        """
        self._fire.data(self, data)

    dataReceived._is_data_event = True  # type: ignore[attr-defined]

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """
        The transport is gone; whatever was in flight fails accordingly.
        Calling this again is harmless.
        """
        self._fire.connection_lost(self, reason)

    def abort(self) -> Deferred[None]:
        """
        Abort the connection and fail whatever is outstanding on it.

        @return: A Deferred that fires once the connection is lost (at once if
            it already is).
        """
        deferred: Deferred[None] = Deferred()
        self._fire.abort(self, deferred)
        return deferred

    def _settle(self, deferred: Deferred[Any] | None, outcome: object) -> None:
        """
        Fire C{deferred} with C{outcome} (a
        L{Failure <twisted.python.failure.Failure>} fails it) once the current
        step is over, so that callers see the connection as the whole step left
        it: a persistent connection is already back in the pool when the
        response's Deferred fires.  A Deferred that already fired is left
        alone.
        """
        if deferred is None:
            return
        settlements = self._settlements
        if settlements is None:
            self._settlements = [(deferred, outcome)]
        else:
            settlements.append((deferred, outcome))
        self._when_step_ends()

    def _step_ended(self) -> None:
        """
        The step is over: fire the Deferreds it settled, first settled first,
        then apply a pause of the transport if one is still wanted once their
        callbacks ran.

        A callback may start a new step, which may settle more Deferreds: they
        join the end of the same queue, and fire after every Deferred settled
        before them, however deep the callbacks nest.
        """
        if self._settling:
            return
        self._settling = True
        try:
            settlements = self._settlements
            settled = 0
            while settlements is not None and settled < len(settlements):
                deferred, outcome = settlements[settled]
                settled += 1
                if not deferred.called:
                    if isinstance(outcome, Failure):
                        deferred.errback(outcome)
                    else:
                        deferred.callback(outcome)
        finally:
            self._settling = False
            self._settlements = None
        if self._transportProxy is not None:
            self._transportProxy.apply_pause()

    def _effect_failed(
        self, error: Exception, record: TransitionRecord, effect: str, payload: Mapping[str, Any]
    ) -> None:
        """
        An effect raised: take the chart's error path (the effect_failed
        event), which aborts the connection and fails everything outstanding
        with C{error}, including the Deferreds in the failed event's
        C{payload} (the effect that would have kept them may not have run).
        If an effect of the error path itself raises, that is logged and the
        error path is not taken again.
        """
        reason = Failure(error, type(error), error.__traceback__)
        if record.event == "effect_failed":
            self._log.failure(
                "the error path's effect {effect} raised; giving up on {record}",
                failure=reason,
                effect=effect,
                record=record,
            )
            return
        carried = tuple(value for value in payload.values() if isinstance(value, Deferred))
        self._fire.effect_failed(self, reason, carried)

    def _cancelled(self, deferred: Deferred[IResponse]) -> None:
        if deferred is self._finishedRequest:
            self._fire.cancel(self)

    def _consumer_cancelled(self) -> None:
        self._fire.cancel(self)

    def _written(self, result: object) -> None:
        self._writing = None
        self._fire.write_done(self)

    def _write_errored(self, reason: Failure) -> None:
        self._writing = None
        self._fire.write_failed(self, reason)

    def _response_finished(self, rest: bytes) -> None:
        self._fire.response_done(self, rest)

    def _head_arrived(self, response: IResponse) -> IResponse:
        self._fire.head_received(self)
        return response

    def _continued(self) -> None:
        self._fire.continue_received(self)

    def _timer_expired(self, which: TimerName) -> None:
        if which == "expect_continue":
            self._fire.continue_timeout(self)
        else:
            seconds = self._deadlines.seconds_of(which)
            self._fire.timeout(self, Failure(TimedOut(which, seconds)))

    def _guarded(self, observer: Observer) -> Observer:
        log = self._log

        def observe(record: TransitionRecord) -> None:
            try:
                observer(record)
            except Exception:
                log.failure("transition observer failed on {record}", record=record)

        return observe

    # Guards

    def _withdrawn(self, deferred: Deferred[IResponse]) -> bool:
        """
        The caller cancelled the request before the connection got to it.
        """
        return deferred.called

    def _closing(self) -> bool:
        """
        The transport is closing, or there is none.
        """
        return self.transport is None or bool(getattr(self.transport, "disconnecting", False))

    def _expects_continue(self, request: ClientRequest) -> bool:
        """
        The request has a body and asks for C{Expect: 100-continue}.
        """
        return getattr(request, "bodyProducer", None) is not None and expects_continue(request)

    def _answered(self) -> bool:
        """
        The response's head arrived while the request was being written.
        """
        return bool(self._responseDeferred.called)  # type: ignore[union-attr]

    def _reusable(self, rest: bytes) -> bool:
        """
        The complete response leaves the connection fit for another request:
        the request was persistent and sent whole, the response keeps the
        connection alive, and no stray bytes followed it.
        """
        return (
            bool(self._currentRequest.persistent)  # type: ignore[union-attr]
            and not self._body_withheld
            and not rest
            and self._parser.keeps_alive()  # type: ignore[union-attr]
        )

    # Effects: the request

    def _start_request(self, request: ClientRequest, deferred: Deferred[IResponse]) -> None:
        """
        Open a parser for the response, then start writing the request.  Its
        writeTo Deferred reports back as write_done or write_failed.
        """
        self._open_exchange(request, deferred)
        try:
            writing = request.writeTo(self.transport)
        except Exception:
            writing = fail()
        self._writing = (request, writing)
        writing.addCallbacks(self._written, self._write_errored)

    def _send_head(self, request: ClientRequest, deferred: Deferred[IResponse]) -> None:
        """
        Open a parser for the response, then write only the request's head;
        the body waits (see L{httpchart.protocol.expect}).  If writing the
        head fails, that is reported as write_failed.
        """
        self._open_exchange(request, deferred)
        parser = self._parser
        if isinstance(parser, LLHTTPParser):
            parser.continued = self._continued
        try:
            self._head = write_head(request, self.transport)
        except Exception:
            self._fire.write_failed(self, Failure())

    def _send_body(self) -> None:
        """
        Write the body of the request whose head is written; its writeTo
        Deferred reports back as write_done or write_failed.
        """
        request = self._currentRequest
        assert request is not None
        try:
            writing = write_body(request, self.transport, self._head)
        except Exception:
            writing = fail()
        self._writing = (request, writing)
        writing.addCallbacks(self._written, self._write_errored)

    def _withhold_body(self) -> None:
        """
        The body will never be written: the connection cannot carry another
        request, since the server cannot tell where this one ends.
        """
        self._body_withheld = True

    def _open_exchange(self, request: ClientRequest, deferred: Deferred[IResponse]) -> None:
        self._currentRequest = request
        self._finishedRequest = deferred
        if self._body_withheld:
            self._body_withheld = False
        timeouts = getattr(request, "timeouts", None) or self._timeouts
        timers = self._timers
        if timers is not None:
            timers.timeouts = timeouts
        elif timeouts is not _NO_LIMITS:
            self._deadlines.timeouts = timeouts
        proxy = self._transportProxy = TransportProxy(self.transport, self)
        self._parser, response = self.parser_factory(request, self._response_finished, proxy)
        limit = self._max_body_size
        if limit is not None and isinstance(self._parser, LLHTTPParser):
            self._parser.max_body_size = limit
        self._responseDeferred = response
        response.addCallback(self._head_arrived)

    def _refuse_request(self, deferred: Deferred[IResponse]) -> None:
        """
        Fail a request this connection cannot take with
        L{RequestNotSent <twisted.web._newclient.RequestNotSent>}.
        """
        self._settle(deferred, Failure(RequestNotSent()))

    def _deliver_response(self) -> None:
        """
        From now on, the parser's response or its failure goes to the caller.
        """
        caller = self._finishedRequest
        self._responseDeferred.addBoth(  # type: ignore[union-attr]
            lambda outcome: self._settle(caller, outcome)
        )

    def _fail_generation(self, reason: Failure) -> None:
        """
        Fail the request with
        L{RequestGenerationFailed <twisted.web.client.RequestGenerationFailed>}
        wrapping C{reason}.
        """
        self._settle(self._finishedRequest, Failure(RequestGenerationFailed([reason])))

    def _fail_transmission(self, reason: Failure) -> None:
        """
        Fail the request with
        L{RequestTransmissionFailed <twisted.web.client.RequestTransmissionFailed>}
        wrapping C{reason}.
        """
        self._settle(self._finishedRequest, Failure(RequestTransmissionFailed([reason])))

    def _stop_writing(self) -> None:
        """
        Tell a request still being written to stop.
        """
        writing, self._writing = self._writing, None
        if writing is not None:
            try:
                writing[0].stopWriting()
            except Exception:
                self._log.failure("request's stopWriting failed")

    def _cancel_writing(self) -> None:
        """
        Cancel the writeTo Deferred of a request still being written; it fails
        with L{CancelledError <twisted.internet.defer.CancelledError>}, which
        arrives as write_failed.
        """
        if self._writing is not None:
            self._writing[1].cancel()

    def _log_late_write_failure(self, reason: Failure) -> None:
        """
        Log a write failure that nobody is waiting for any more.
        """
        self._log.failure(
            "Error writing request, but not in valid state to finalize request: {state}",
            failure=reason,
            state=self._state,
        )

    # Effects: the transport

    def _lose_transport(self) -> None:
        """
        Close the transport once what was written has been sent.
        """
        self.transport.loseConnection()  # type: ignore[union-attr]

    def _abort_transport(self) -> None:
        """
        Close the transport now, dropping anything unsent.  Unlike a clean
        close, this cannot hang on a peer that stopped reading (TLS included).
        """
        self.transport.abortConnection()  # type: ignore[union-attr]

    def _resume_transport(self) -> None:
        """
        Undo any pause the parser left on the transport, so that an idle
        connection keeps reading (and notices when the server closes it).
        """
        self.transport.resumeProducing()  # type: ignore[union-attr]

    def _notify_quiescent(self) -> None:
        """
        Hand the idle connection to the quiescent callback.  Keeping a
        connection is an optimisation, so if the callback raises, the error is
        logged and the connection is closed.
        """
        callback = self._quiescentCallback
        if callback is _ignore:
            return
        try:
            callback(self)
        except Exception:
            self._log.failure("quiescent callback failed; closing the connection")
            self.transport.loseConnection()  # type: ignore[union-attr]

    def _notify_lost(self) -> None:
        """
        Tell the lost callback, if any, that the connection is gone.
        """
        callback = self.lostCallback
        if callback is not None:
            try:
                callback(self)
            except Exception:
                self._log.failure("lost callback failed")

    # Effects: the parser

    def _feed_parser(self, data: bytes) -> None:
        """
        Give bytes to the parser; anything it (or the response's consumer)
        raises becomes a bad_response event.
        """
        try:
            self._parser.dataReceived(data)  # type: ignore[union-attr]
        except Exception:
            self._fire.bad_response(self, Failure())

    def _log_bad_response(self, reason: Failure) -> None:
        """
        Log, with its traceback, why a response could not be handled.  The
        same failure also reaches the caller through the response.
        """
        self._log.warn(
            "Response failed in state {state}; the connection will close:\n{traceback}",
            state=self._state,
            traceback=reason.getTraceback(),
        )

    def _release_parser(self) -> None:
        """
        Disconnect the parser of a complete response, finishing its body.
        """
        self._detach_parser(_RESPONSE_COMPLETE)

    def _disconnect_parser(self, reason: Failure) -> None:
        """
        Disconnect the parser with C{reason}; it finishes or fails the
        response accordingly.
        """
        self._detach_parser(reason)

    def _abort_parser(self) -> None:
        """
        Disconnect the parser, if any is left, with
        L{ConnectionAborted <twisted.web._newclient.ConnectionAborted>}.
        """
        self._detach_parser(Failure(ConnectionAborted()))

    def _cancel_parser(self) -> None:
        """
        Disconnect the parser, if any is left, with
        L{CancelledError <twisted.internet.defer.CancelledError>}.
        """
        self._detach_parser(Failure(CancelledError()))

    def _discard_parser(self) -> None:
        """
        Disconnect the parser of a request that has already failed: whatever
        becomes of its response is of no interest to anyone.
        """
        response = self._responseDeferred
        if response is not None:
            response.addErrback(lambda reason: None)
        self._detach_parser(Failure(ConnectionDone("request abandoned")))

    def _detach_parser(self, reason: Failure) -> None:
        parser, proxy = self._parser, self._transportProxy
        if parser is None or proxy is None:
            return
        self._parser = self._transportProxy = self._responseDeferred = None
        self._currentRequest = self._finishedRequest = None
        proxy.stopProxying()
        try:
            parser.connectionLost(reason)
        except Exception:
            self._log.failure("response parser failed while disconnecting")

    # Effects: abort()

    def _add_abort_waiter(self, deferred: Deferred[None]) -> None:
        """
        Fire C{deferred} once the connection is lost.
        """
        if self._abortDeferreds is None:
            self._abortDeferreds = []
        self._abortDeferreds.append(deferred)

    def _fire_abort_waiters(self) -> None:
        """
        The connection is lost: fire every Deferred returned by abort().
        """
        waiters, self._abortDeferreds = self._abortDeferreds or [], None
        for waiter in waiters:
            self._settle(waiter, None)

    def _confirm_abort(self, deferred: Deferred[None]) -> None:
        """
        Fire C{deferred} at once: the connection is already lost.
        """
        self._settle(deferred, None)

    # Effects: the error path

    def _log_effect_failure(self, reason: Failure) -> None:
        """
        Log, once and with its traceback, the exception an effect raised; the
        Deferreds it fails carry it too.
        """
        self._log.failure(
            "an effect raised; the connection aborts and fails what is outstanding",
            failure=reason,
        )

    def _fail_request(self, reason: Failure, carried: tuple[Deferred[Any], ...]) -> None:
        """
        Fail the request that was not fully written, and any request the
        failed event carried, with L{RequestGenerationFailed
        <twisted.web.client.RequestGenerationFailed>} wrapping C{reason}.
        """
        for deferred in (self._finishedRequest, *carried):
            self._settle(deferred, Failure(RequestGenerationFailed([reason])))

    def _fail_outstanding(self, reason: Failure, carried: tuple[Deferred[Any], ...]) -> None:
        """
        Fail everything still outstanding with C{reason}: the parser is
        disconnected with it (so the response fails with
        C{ResponseNeverReceived} or C{ResponseFailed}, or its body with
        C{ResponseFailed}), the request's Deferred, unless something settled
        it first, fails with L{ResponseFailed
        <twisted.web.client.ResponseFailed>}, and so does every abort()
        Deferred and every Deferred the failed event carried.  A response
        nobody was given is dropped quietly: its request's Deferred carries
        the failure.
        """
        caller, response = self._finishedRequest, self._responseDeferred
        self._detach_parser(reason)
        if response is not None:
            response.addErrback(lambda dropped: None)
        self._settle(caller, Failure(ResponseFailed([reason])))
        waiters, self._abortDeferreds = self._abortDeferreds or [], None
        for waiter in (*waiters, *carried):
            self._settle(waiter, Failure(ResponseFailed([reason])))

    # Effects: the timers (each does nothing for a limit that is not set).
    # Until a timer needs them, a connection has no deadlines object: its
    # limits are then the default ones, under which only expect_continue
    # is set, so every other timer does nothing.

    def _start_total_timer(self) -> None:
        """
        Start the total timer, if the connection has one.
        """
        timers = self._timers
        if timers is not None:
            timers.start_total()

    def _start_response_timer(self) -> None:
        """
        Start the response timer, if the connection has one.
        """
        timers = self._timers
        if timers is not None:
            timers.start_response()

    def _start_continue_timer(self) -> None:
        """
        Start the expect_continue timer, if the connection has one.
        """
        self._deadlines.start_continue()

    def _start_read_timer(self) -> None:
        """
        Start the read timer, if the connection has one.
        """
        timers = self._timers
        if timers is not None:
            timers.start_read()

    def _restart_read_timer(self) -> None:
        """
        Bytes arrived: the read timer measures silence from now.
        """
        timers = self._timers
        if timers is not None:
            timers.restart_read()

    def _stop_response_timer(self) -> None:
        """
        Stop the response timer: the head is in.
        """
        timers = self._timers
        if timers is not None:
            timers.stop_response()

    def _stop_continue_timer(self) -> None:
        """
        Stop the expect_continue timer.
        """
        timers = self._timers
        if timers is not None:
            timers.stop_continue()

    def _stop_read_timer(self) -> None:
        """
        Stop the read timer.
        """
        timers = self._timers
        if timers is not None:
            timers.stop_read()

    def _stop_timers(self) -> None:
        """
        Stop every timer: the connection leaves its clock's schedule.
        """
        timers = self._timers
        if timers is not None:
            timers.stop()
