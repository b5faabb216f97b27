"""
Renders docs/hostile.md from the hostile-server corpus, so that the page
lists exactly the cases the tests run, with the outcomes they prove.

    python -m tests.support.hostile_doc  # rewrite docs/hostile.md (make hostile-doc)
"""

from __future__ import annotations

import sys
from pathlib import Path

from .hostile_client import Answered, Failed, Outcome
from .hostile_corpus import CORPUS, Case

PAGE = Path(__file__).resolve().parent.parent.parent / "docs" / "hostile.md"

_INTRO = """\
<!-- Generated from tests/support/hostile_corpus.py by `make hostile-doc`; do not edit. -->

# Hostile servers

An HTTP client is trusted when no server, however broken or hostile, can make
it hang, lose a request's outcome, leak a connection or log an unhandled
error.  This page lists every server behaviour of httpchart's hostile corpus
({count} cases) and what the client makes of it.  Each case is a test in
`tests/test_hostile.py`, run twice: against httpchart's `HTTPConnectionPool`
under Twisted's `Agent` (or one httpchart `HTTP11ClientProtocol` used
directly, where the case says so), and against Twisted's own pool and class.

The server is a scripted TCP server on 127.0.0.1 (`tests/support/scripted.py`) that
plays each case's writes, closes (FIN) and resets (RST, with SO_LINGER 0),
and waits for the client to have read what it sent before going on, so that
every case is deterministic.  For httpchart, every case also proves that:

- nothing hangs: each run is bounded by a timeout that fails the test, and a
  Deferred that can no longer fire (every connection gone) fails it too;
- the pool holds no connection it would hand out that cannot carry a request
  (only idle connections on an open transport, or connections already lost,
  which Twisted's pool discards when it next looks); a follow-up request on
  the same pool succeeds once the server behaves, and after it every
  connection the pool holds is idle on an open transport;
- no connection is left neither idle nor closed, and a request body still
  being uploaded is told to stop;
- nothing is logged as an error (no "Unhandled error in Deferred"), once
  garbage has been collected.

Outcomes name what the caller gets: the status, the body delivered and the
reason the body's consumer was given (`ResponseDone` for a complete body), or
the failure of the request's Deferred with the reasons it wraps.  *Kept*
means the connection went back to the pool (or stayed usable) afterwards;
*closed* that it did not.

httpchart differs from Twisted in {differ} of the cases; each difference is
deliberate, and its reason follows each table.  In {renamed} of them both
clients refuse the response and only the exception differs (httpchart's
`MalformedResponse` and `HeadTooLarge` say what was wrong); in the others
Twisted accepts what httpchart refuses, hangs, logs errors, keeps a
connection that must not be reused, or leaves one open.
[Where httpchart differs from Twisted](differences.md) explains the general
rules behind them.
"""


def _refused(outcome: Outcome) -> bool:
    """
    The caller got no complete response: the request failed, or its body
    ended with a failure.
    """
    if isinstance(outcome, Answered):
        return outcome.ending not in ("ResponseDone", "PotentialDataLoss")
    return isinstance(outcome, Failed)


def only_renamed(case: Case) -> bool:
    """
    Both clients refuse the response at the same point, and handle the
    connection alike: only the exception differs.
    """
    twisted = case.twisted
    if twisted is None or twisted.outcomes is None or twisted.after or twisted.logs:
        return False
    return not twisted.stuck and all(
        _refused(ours) and _refused(theirs) and type(ours) is type(theirs)
        for ours, theirs in zip(case.outcomes, twisted.outcomes, strict=True)
    )


def _outcome(outcome: Outcome) -> str:
    if isinstance(outcome, Answered):
        body = repr(outcome.body) if len(outcome.body) <= 24 else f"{len(outcome.body)} bytes"
        return f"`{outcome.code}`, body `{body}`, `{outcome.ending}`"
    if isinstance(outcome, Failed):
        return f"`{outcome.error}`"
    if outcome.code is None:
        return "the request's Deferred never fires"
    return f"`{outcome.code}`, the body never ends"


def _outcomes(outcomes: tuple[Outcome, ...]) -> str:
    return "; then ".join(_outcome(outcome) for outcome in outcomes)


def _httpchart(case: Case) -> str:
    says = f' (says "{case.says}")' if case.says else ""
    return f"{_outcomes(case.outcomes)}{says}; {case.after}"


def _twisted(case: Case) -> str:
    twisted = case.twisted
    if twisted is None:
        return "same"
    parts = []
    if twisted.outcomes is not None:
        parts.append(_outcomes(twisted.outcomes))
    if twisted.after is not None:
        parts.append(twisted.after)
    if twisted.logs:
        parts.append("logs errors")
    if twisted.stuck:
        parts.append(f"leaves the connection open in {', '.join(twisted.stuck)}")
    return "; ".join(parts)


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    """
    The whole page.
    """
    differ = sum(case.twisted is not None for case in CORPUS)
    renamed = sum(only_renamed(case) for case in CORPUS)
    lines = [_INTRO.format(count=len(CORPUS), differ=differ, renamed=renamed)]
    groups: dict[str, list[Case]] = {}
    for case in CORPUS:
        groups.setdefault(case.group, []).append(case)
    for group, cases in groups.items():
        lines += [
            f"## {group[0].upper()}{group[1:]}",
            "",
            "| Case | The server | httpchart | Twisted |",
            "| --- | --- | --- | --- |",
        ]
        for case in cases:
            how = " (one connection, directly)" if case.direct else ""
            lines.append(
                f"| {case.name}{how} | {_escape(case.server)} | {_escape(_httpchart(case))} "
                f"| {_escape(_twisted(case))} |"
            )
        reasons = [case for case in cases if case.why]
        if reasons:
            lines += ["", "Why httpchart differs:", ""]
            lines += [f"- **{case.name}.** {case.why}" for case in reasons]
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    PAGE.write_text(render())
    sys.stdout.write(f"wrote {PAGE}\n")


if __name__ == "__main__":
    main()
