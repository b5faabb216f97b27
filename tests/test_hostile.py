"""
Hostile servers over loopback: every case of L{tests.support.hostile_corpus}, played
by a scripted server on 127.0.0.1, against httpchart's pool under Twisted's
C{Agent} (or one httpchart connection used directly), and again against
Twisted's own pool and class.

For httpchart, each case proves the documented outcome, that nothing hangs
(the run is bounded by L{RUN_TIMEOUT}, and a Deferred that can no longer
fire is reported as such), that the pool holds no connection it cannot use,
that a follow-up request on it succeeds and leaves only idle connections in
it, that no connection is left neither
idle nor closed, that an upload still running is stopped, and that nothing
is logged as an error once garbage is collected.

For Twisted, each case proves what the corpus says Twisted does where it
differs; that is where httpchart deliberately behaves better, or is
stricter, and the case says why (docs/hostile.md lists them all).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.trial.unittest import TestCase

from .support.hostile_client import RUN_TIMEOUT, Flavour, Observed, Run
from .support.hostile_corpus import CORPUS, Case, Twisted
from .support.hostile_doc import PAGE, render
from .support.scripted import GOOD_BODY


def _play(case: Case, flavour: Flavour) -> Deferred[Observed]:
    run = Run(case.scripts, flavour, case.direct)
    playing = Deferred.fromCoroutine(run.play(case.exchanges))
    return playing.addTimeout(RUN_TIMEOUT, reactor)


def _httpchart_test(case: Case) -> Callable[[Any], Coroutine[Any, Any, None]]:
    async def test(self: Any) -> None:
        observed = await _play(case, "httpchart")
        assert tuple(observed.outcomes) == case.outcomes
        assert case.says in " | ".join(observed.says), observed.says
        assert observed.after == case.after
        assert observed.stuck == []
        assert observed.unusable == []
        assert all(observed.uploads_stopped)
        if case.direct and case.after == "closed":
            assert observed.follow_up is None  # nothing left to follow up on
        else:
            assert observed.follow_up == GOOD_BODY
        assert observed.not_idle_after_follow_up == []
        assert observed.logged == []

    test.__doc__ = f"The server {case.server}: httpchart gets what docs/hostile.md says."
    return test


def _twisted_test(case: Case) -> Callable[[Any], Coroutine[Any, Any, None]]:
    twisted = case.twisted or Twisted()

    async def test(self: TestCase) -> None:
        observed = await _play(case, "twisted")
        self.flushLoggedErrors()
        assert tuple(observed.outcomes) == (twisted.outcomes or case.outcomes)
        assert observed.after == (twisted.after or case.after)
        assert observed.stuck == list(twisted.stuck)
        assert bool(observed.logged) is twisted.logs, observed.logged

    if case.twisted is None:
        test.__doc__ = f"The server {case.server}: Twisted's own client does as httpchart."
    else:
        test.__doc__ = f"The server {case.server}: Twisted's own client differs. {case.why}"
    return test


class HttpchartAgainstHostileServers(TestCase):
    """
    httpchart's pool and connections against every case of the corpus.
    """

    timeout = 2 * RUN_TIMEOUT


class TwistedAgainstHostileServers(TestCase):
    """
    Twisted's own pool and connections against every case of the corpus.
    """

    timeout = 2 * RUN_TIMEOUT


for _case in CORPUS:
    setattr(HttpchartAgainstHostileServers, _case.test_name, _httpchart_test(_case))
    setattr(TwistedAgainstHostileServers, _case.test_name, _twisted_test(_case))


def test_the_corpus_has_at_least_fifty_distinct_cases() -> None:
    names = [case.test_name for case in CORPUS]
    assert len(set(names)) == len(names) >= 50


def test_every_difference_from_twisted_says_why() -> None:
    for case in CORPUS:
        assert bool(case.twisted) is bool(case.why), case.name


def test_docs_hostile_lists_every_case_as_the_corpus_has_it() -> None:
    assert PAGE.read_text() == render(), "docs/hostile.md is stale: run `make hostile-doc`"
