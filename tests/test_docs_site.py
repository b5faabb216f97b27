"""
The documentation site builds without a warning (pydoctor's included), its
overview page shows the lifecycle diagram and table, it explains every state
and event, and it links to the API reference that pydoctor generates from the
docstrings.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from httpchart.statechart import ChartSpec, ConnectionLifecycle

DOCS = Path(__file__).resolve().parent.parent / "docs"
SPEC = ChartSpec.of(ConnectionLifecycle)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """
    The HTML site, built once for this module's tests; the build fails on
    any warning, from Sphinx or from pydoctor.
    """
    out = tmp_path_factory.mktemp("site")
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
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    return out


def test_site_builds_without_warnings_and_shows_the_lifecycle(site: Path) -> None:
    page = (site / "lifecycle.html").read_text()
    assert 'src="_images/connection-lifecycle.svg"' in page
    assert (site / "_images" / "connection-lifecycle.svg").exists()
    assert "ConnectionLifecycle: transition table" in page
    assert "index.html" in (site / "index.html").read_text()


def test_api_reference_is_generated_and_linked_from_the_index(site: Path) -> None:
    api = site / "api"
    assert "pydoctor" in (api / "index.html").read_text()
    for package in ("statechart", "protocol", "diagrams"):
        assert (api / f"httpchart.{package}.html").exists()
    index = (site / "index.html").read_text()
    assert 'href="api/index.html"' in index
    assert 'href="api/httpchart.protocol.html"' in index
    protocol = (api / "httpchart.protocol.HTTP11ClientProtocol.html").read_text()
    assert "over this connection." in protocol
    assert (
        'href="https://docs.twisted.org/en/stable/api/twisted.web.iweb.IResponse.html"' in protocol
    )


def test_overview_explains_every_state_and_event() -> None:
    page = (DOCS / "lifecycle.md").read_text()
    for name in (*SPEC.states, *SPEC.events):
        assert f"`{name}`" in page, f"docs/lifecycle.md does not mention {name}"
    for state in SPEC.states:
        assert f"**`{state}`.**" in page, f"docs/lifecycle.md has no paragraph on {state}"
