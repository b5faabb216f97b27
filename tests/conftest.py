"""
Shared pytest plumbing: the C{report} fixture, whose lines (how much the
exhaustive checker explored, say) are printed at the end of the run.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

_REPORTED: list[str] = []


@pytest.fixture
def report() -> Callable[[str], None]:
    """
    Add a line to the summary printed after the tests.
    """
    return _REPORTED.append


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _REPORTED:
        terminalreporter.section("what the checks covered")
        for line in _REPORTED:
            terminalreporter.write_line(line)
