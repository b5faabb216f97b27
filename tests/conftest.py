"""
Shared pytest plumbing.

Fixtures for the end-to-end tests: the files the servers serve, a test
certificate authority, nginx, and tinyproxy.  The end-to-end test cases are Twisted trial
cases, which cannot take fixtures as arguments; these fixtures hand them over
as class attributes instead.

The C{report} fixture, whose lines (how much the exhaustive checker explored,
say) are printed at the end of the run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from localservers.servers import Authority, Content, Nginx, running_nginx, write_content
from localservers.tinyproxy import PROXY_USER, TinyProxy, running_tinyproxy

from .support.load import SCALE, allow_open_files

_REPORTED: list[str] = []


@pytest.fixture
def report() -> Callable[[str], None]:
    """
    Add a line to the summary printed after the tests.
    """
    return _REPORTED.append


@pytest.fixture(scope="class")
def reporting(request: pytest.FixtureRequest) -> None:
    """
    Give the test class C{report}, which adds a line to the summary.
    """
    request.cls.report = staticmethod(_REPORTED.append)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _REPORTED:
        terminalreporter.section("what the checks covered")
        for line in _REPORTED:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def content(tmp_path_factory: pytest.TempPathFactory) -> Content:
    return write_content(tmp_path_factory.mktemp("content"))


@pytest.fixture(scope="session")
def authority() -> Authority:
    return Authority()


@pytest.fixture(scope="class")
def served(request: pytest.FixtureRequest, content: Content, authority: Authority) -> None:
    """
    Give the test class C{content} and C{authority}.
    """
    request.cls.content = content
    request.cls.authority = authority


@pytest.fixture(scope="class")
def nginx(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    content: Content,
    authority: Authority,
) -> Iterator[Nginx]:
    """
    A running nginx, also given to the test class as C{nginx}.
    """
    home: Path = tmp_path_factory.mktemp("nginx")
    with running_nginx(home, content, authority) as server:
        request.cls.nginx = server
        yield server


@pytest.fixture(scope="class")
def busy_nginx(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    content: Content,
    authority: Authority,
) -> Iterator[Nginx]:
    """
    A running nginx sized for the load test, also given to the test class as
    C{nginx}.  The limit on open files is raised first: for the test's own
    connections, and for nginx, which inherits it.
    """
    connections = 2 * SCALE.concurrency + 64
    allow_open_files(4 * connections)
    home: Path = tmp_path_factory.mktemp("busy-nginx")
    with running_nginx(home, content, authority, worker_connections=connections) as server:
        request.cls.nginx = server
        yield server


@pytest.fixture(scope="class")
def tinyproxy(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TinyProxy]:
    """
    Two running tinyproxies, given to the test class: C{tinyproxy}, open to
    loopback clients, and C{guarded_tinyproxy}, which asks for L{PROXY_USER}'s
    credentials.
    """
    with (
        running_tinyproxy(tmp_path_factory.mktemp("tinyproxy")) as open_proxy,
        running_tinyproxy(
            tmp_path_factory.mktemp("guarded-tinyproxy"), credentials=PROXY_USER
        ) as guarded,
    ):
        request.cls.tinyproxy = open_proxy
        request.cls.guarded_tinyproxy = guarded
        yield open_proxy
