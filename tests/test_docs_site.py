"""
The documentation site builds without a warning, its overview page shows
the lifecycle diagram and table, and it explains every state and event.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from httpchart.statechart import ChartSpec, ConnectionLifecycle

DOCS = Path(__file__).resolve().parent.parent / "docs"
SPEC = ChartSpec.of(ConnectionLifecycle)


def test_site_builds_without_warnings_and_shows_the_lifecycle(tmp_path: Path) -> None:
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            str(DOCS),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    page = (tmp_path / "lifecycle.html").read_text()
    assert 'src="_images/connection-lifecycle.svg"' in page
    assert (tmp_path / "_images" / "connection-lifecycle.svg").exists()
    assert "ConnectionLifecycle: transition table" in page
    assert "index.html" in (tmp_path / "index.html").read_text()


def test_overview_explains_every_state_and_event() -> None:
    page = (DOCS / "lifecycle.md").read_text()
    for name in (*SPEC.states, *SPEC.events):
        assert f"`{name}`" in page, f"docs/lifecycle.md does not mention {name}"
    for state in SPEC.states:
        assert f"**`{state}`.**" in page, f"docs/lifecycle.md has no paragraph on {state}"
