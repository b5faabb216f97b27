"""
Faults under load: a server that resets, stalls or truncates 5% of its
responses, many requests at a time through Twisted's C{Agent} on
httpchart's pool, each cancelled if still unanswered after a while.

Every request ends, in a response or a documented error: a stalled one in a
failure caused by its cancellation, a truncated or reset one in a body cut
short or a connection lost (or a response, when the pool's retry of an
idempotent request succeeds), and a request the server did not fault in
its response.  Once the server behaves again every request succeeds on
the same pool, and when the pool is closed no connection is left open.
"""

from __future__ import annotations

from collections import Counter

from twisted.internet import reactor
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase
from twisted.web._newclient import (
    RequestTransmissionFailed,
    ResponseFailed,
    ResponseNeverReceived,
)
from twisted.web.client import Agent, readBody
from twisted.web.http import _DataLoss
from twisted.web.http_headers import Headers

from .support.faulty import BODY, FaultyServer
from .support.hostile_client import describe
from .support.load import SCALE, MeteredPool, drive

RATE = 0.05
SEED = 20261124
LOST = (ConnectionDone, ConnectionLost)


def _reasons(failure: Failure) -> list[Failure]:
    """
    C{failure} and every failure it wraps, depth first.
    """
    found = [failure]
    for reason in getattr(failure.value, "reasons", None) or []:
        found += _reasons(reason)
    return found


def classify(failure: Failure) -> str:
    """
    Which documented way a faulted request ended; anything else is named
    as undocumented.
    """
    if any(reason.check(CancelledError) for reason in _reasons(failure)):
        return "cancelled"
    reasons = [reason.type for reason in getattr(failure.value, "reasons", None) or []]
    cut = len(reasons) == 2 and issubclass(reasons[0], LOST) and reasons[1] is _DataLoss
    if failure.check(ResponseFailed) and cut:
        return "body cut"
    if (
        failure.check(ResponseNeverReceived, ResponseFailed, RequestTransmissionFailed)
        and reasons
        and all(issubclass(reason, LOST) for reason in reasons)
    ):
        return "connection lost"
    return f"undocumented: {describe(failure)}"


class FaultsUnderLoad(TestCase):
    timeout = 600

    async def test_every_request_ends_as_documented_and_the_pool_recovers(self) -> None:
        server = FaultyServer(reactor, RATE, SEED)
        self.addCleanup(server.stop)
        pool = MeteredPool(reactor, SCALE.fault_concurrency)
        agent = Agent(reactor, pool=pool)
        ended: dict[int, str] = {}

        async def fetch(number: int) -> bytes:
            headers = Headers({b"x-request": [str(number).encode()]})
            response = await agent.request(b"GET", server.url, headers)
            return await readBody(response)

        async def one(number: int) -> str:
            request = Deferred.fromCoroutine(fetch(number))
            patience = reactor.callLater(SCALE.patience, request.cancel)  # type: ignore[attr-defined]
            try:
                body = await request
                outcome = "ok" if body == BODY else "wrong body"
            except Exception:
                outcome = classify(Failure())
            finally:
                if patience.active():
                    patience.cancel()
            ended[number] = outcome
            return outcome

        faulty = await drive(one, SCALE.fault_requests, SCALE.fault_concurrency)
        print("\n" + faulty.report(f"faults ({SCALE.name})", pool.meter))
        endings = Counter(
            f"{' then '.join(faults)} -> {ended[number]}"
            for number, faults in server.faults.items()
        )
        print(f"faults injected: {server.counts()} in {len(server.faults)} requests")
        print(
            "how the faulted requests ended: "
            + ", ".join(f"{how}: {count}" for how, count in sorted(endings.items()))
        )
        server.rate = 0.0
        offset = SCALE.fault_requests
        recovered = await drive(
            lambda n: one(offset + n), SCALE.recovery_requests, SCALE.fault_concurrency
        )
        print(recovered.report("after the faults", pool.meter))

        assert len(ended) == SCALE.fault_requests + SCALE.recovery_requests
        assert not [o for o in ended.values() if o.startswith(("undocumented", "wrong"))]
        for number, outcome in ended.items():
            faults = server.faults.get(number, [])
            if "stall" in faults:
                assert outcome == "cancelled", (number, faults)
            elif faults:
                assert outcome in ("ok", "body cut", "connection lost"), (number, faults)
            else:
                assert outcome == "ok", (number, outcome)
        counts = server.counts()
        assert all(counts.values()), counts  # every kind of fault happened
        assert recovered.outcomes == Counter(ok=SCALE.recovery_requests)

        await pool.closeCachedConnections()
        await pool.meter.all_closed()
        await server.all_closed()
