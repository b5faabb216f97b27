"""
`make demo` runs a real session over loopback sockets and shows every
transition.
"""

from __future__ import annotations

import subprocess
import sys


def test_demo_session_shows_reuse_failure_and_abort() -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "httpchart.protocol", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    out = finished.stdout
    reused = (
        "#1  WAITING --response_done--> QUIESCENT  / stop_timers, resume_transport, "
        "notify_quiescent"
    )
    assert out.count(reused) == 2
    assert out.count("connected from local port") == 3
    assert (
        "#1  WAITING --response_done--> QUIESCENT  / stop_timers, lose_transport, release_parser"
        in out
    )
    assert "#1  QUIESCENT --connection_lost--> CONNECTION_LOST" in out
    lost_while_waiting = (
        "#2  WAITING --connection_lost--> CONNECTION_LOST  / notify_lost, stop_timers, "
        "disconnect_parser"
    )
    assert lost_while_waiting in out
    assert "the request failed: ResponseFailed([ConnectionDone, _DataLoss])" in out
    assert "#3  ABORTING --connection_lost--> CONNECTION_LOST" in out
    assert out.count("response 200 OK") == 3
