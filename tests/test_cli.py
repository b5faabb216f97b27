"""
The C{httpchart} command line, run as a separate process: requests against
a real loopback server, the transition trace, the progress line, the
delegated commands, and one clear line for every kind of failure.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from io import BytesIO, StringIO
from pathlib import Path
from typing import ClassVar

import pytest
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectingCancelledError
from twisted.internet.protocol import Factory, ProcessProtocol, Protocol
from twisted.internet.utils import getProcessOutputAndValue
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from httpchart.protocol.fetch import Fetch, FetchError, describe, run
from localservers.servers import SMALL, Authority, Content, TwistedWebServer
from localservers.tinyproxy import environment

COMMAND = [sys.executable, "-m", "httpchart.protocol"]
TRACE_LINE = re.compile(r" *[0-9]+\.[0-9]ms  #([0-9]+)  (.*)")


def httpchart(*arguments: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """
    Run the command line to completion without a server.
    """
    return subprocess.run(
        [*COMMAND, *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=environment(),
    )


def assert_one_error_line(finished: subprocess.CompletedProcess[str], expected: str) -> None:
    assert finished.returncode == 1
    assert finished.stdout == ""
    assert finished.stderr == f"httpchart: error: {expected}\n"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("example.com/", "the scheme must be http or https"),
        ("ftp://example.com/", "the scheme must be http or https"),
        ("http:///path", "no host"),
        ("http://127.0.0.1:99999/", "Port out of range 0-65535"),
    ],
)
def test_bad_url_is_one_error_line(url: str, why: str) -> None:
    assert_one_error_line(httpchart("get", url), f"bad URL {url!r}: {why}")


def test_refused_connection_is_one_error_line() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
        finished = httpchart("get", f"http://127.0.0.1:{port}/")
    assert_one_error_line(finished, f"connection refused by 127.0.0.1:{port}")


def test_unresolvable_host_is_one_error_line() -> None:
    finished = httpchart("get", "http://no-such-host.invalid/")
    assert_one_error_line(finished, "cannot resolve the host 'no-such-host.invalid'")


@pytest.mark.parametrize(
    ("header", "why"),
    [
        ("no colon", "expected 'Name: value'"),
        ("Spaced Name: x", "expected 'Name: value'"),
        ("X-Snowman: \u2603", "the value must be Latin-1 text"),
        ("X-Split: one\rtwo", "control characters in the value"),
    ],
)
def test_bad_header_is_one_error_line(header: str, why: str) -> None:
    finished = httpchart("get", "http://127.0.0.1/", "-H", header)
    assert_one_error_line(finished, f"bad header {header!r}: {why}")


def test_missing_data_file_is_one_error_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    finished = httpchart("get", "http://127.0.0.1/", "--data", f"@{missing}")
    assert_one_error_line(finished, f"cannot read {missing}: No such file or directory")


def test_cancelled_connection_attempt_reads_as_a_timeout() -> None:
    reason = Failure(ConnectingCancelledError(None))
    assert describe(reason, "http://192.0.2.1/", 2) == (
        "no complete response from 192.0.2.1 within 2 seconds"
    )


def test_usage_errors_exit_with_status_2() -> None:
    finished = httpchart("fetch")
    assert finished.returncode == 2
    assert "invalid choice" in finished.stderr


def test_diagrams_command_delegates_to_the_diagrams_cli() -> None:
    finished = httpchart("diagrams", "--format", "md")
    assert finished.returncode == 0, finished.stderr
    assert "QUIESCENT" in finished.stdout


def test_diagrams_usage_names_the_command_that_was_run() -> None:
    helped = httpchart("diagrams", "--help")
    assert helped.returncode == 0
    assert helped.stdout.startswith("usage: httpchart diagrams [-h]")
    assert "  httpchart diagrams --format svg --out docs/generated" in helped.stdout
    assert "python -m" not in helped.stdout
    refused = httpchart("diagrams", "--format", "gif")
    assert refused.returncode == 2
    assert refused.stderr.startswith("usage: httpchart diagrams [-h]")


def test_console_script_is_installed() -> None:
    script = shutil.which("httpchart", path=str(Path(sys.executable).parent))
    assert script is not None
    finished = subprocess.run(
        [script, "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert finished.returncode == 0
    for command in ("get", "demo", "diagrams"):
        assert command in finished.stdout


class _Misbehaving(Protocol):
    """
    Answers every request with the bytes it was built with, then closes.
    """

    def __init__(self, answer: bytes) -> None:
        self.answer = answer

    def dataReceived(self, data: bytes) -> None:
        if b"\r\n\r\n" in data:
            self.transport.write(self.answer)  # type: ignore[union-attr]
            self.transport.loseConnection()  # type: ignore[union-attr]


class _Terminal(ProcessProtocol):
    """
    Collects what a process writes to its terminal.
    """

    def __init__(self) -> None:
        self.output = b""
        self.ended: Deferred[int] = Deferred()

    def childDataReceived(self, fd: int, data: bytes) -> None:
        self.output += data

    def processEnded(self, reason: Failure) -> None:
        self.ended.callback(reason.value.exitCode)


@pytest.mark.usefixtures("served")
class TestAgainstALoopbackServer(TestCase):
    """
    The command line against servers this test runs on the loopback.
    """

    timeout = 60
    content: ClassVar[Content]
    authority: ClassVar[Authority]

    def setUp(self) -> None:
        self.server = TwistedWebServer(reactor, self.content)
        self.addCleanup(self.server.stop)
        self.files = Path(tempfile.mkdtemp(prefix="httpchart-cli-"))
        self.addCleanup(shutil.rmtree, self.files)

    async def run_cli(self, *arguments: str | bytes) -> tuple[str, str, int]:
        out, err, code = await getProcessOutputAndValue(
            sys.executable,
            [*COMMAND[1:], *arguments],
            env=environment(),
        )
        return out.decode(), err.decode(), code

    def misbehaving(self, answer: bytes) -> str:
        port = reactor.listenTCP(
            0, Factory.forProtocol(lambda: _Misbehaving(answer)), interface="127.0.0.1"
        )
        self.addCleanup(port.stopListening)
        return f"http://127.0.0.1:{port.getHost().port}/"

    async def test_get_prints_status_headers_and_body(self) -> None:
        out, err, code = await self.run_cli("get", self.server.url("/small"))
        assert (code, err) == (0, "")
        head, body = out.split("\n\n", 1)
        assert head.splitlines()[0] == "HTTP/1.1 200 OK"
        assert f"Content-Length: {len(SMALL)}" in head.splitlines()
        assert body == SMALL.decode()

    async def test_trace_prints_every_transition(self) -> None:
        out, err, code = await self.run_cli("get", "--trace", self.server.url("/small"))
        assert code == 0
        assert out.endswith(SMALL.decode())
        lines = [TRACE_LINE.fullmatch(line) for line in err.splitlines()]
        assert all(lines), err
        assert {line[1] for line in lines if line} == {"1", "2"}
        assert [line[2] for line in lines if line and line[1] == "2"] == [
            "QUIESCENT --issue--> TRANSMITTING  / start_request, start_total_timer",
            "TRANSMITTING --write_done--> WAITING  / deliver_response, start_response_timer, "
            "start_read_timer",
            "WAITING --data--> WAITING  / restart_read_timer, feed_parser",
            "WAITING --head_received--> WAITING  / stop_response_timer",
            "WAITING --response_done--> QUIESCENT  / stop_timers, resume_transport, "
            "notify_quiescent, release_parser",
            "QUIESCENT --abort--> ABORTING  / add_abort_waiter, abort_transport",
            "ABORTING --connection_lost--> CONNECTION_LOST  / notify_lost, abort_parser, "
            "fire_abort_waiters",
        ]
        # The pool's key is #1: it opens the connection, keeps it idle, and
        # closes it when the command ends.
        assert [line[2] for line in lines if line and line[1] == "1"] == [
            "EMPTY --request--> ACTIVE  / open_connection",
            "ACTIVE --connected--> ACTIVE  / hand_new",
            "ACTIVE --release--> ACTIVE  / keep_idle",
            "ACTIVE --close_idle--> ACTIVE  / close_all_idle",
            "ACTIVE --lost_closing--> EMPTY  / forget_closing, free_slot, leave_pool",
        ]

    async def test_method_headers_and_data_are_sent(self) -> None:
        out, _, code = await self.run_cli(
            "get", "-X", "PUT", "-H", "X-Test: yes", "--data", "a body", self.server.url("/echo")
        )
        assert code == 0
        head, body = out.split("\n\n", 1)
        assert {"X-Method: PUT", "X-Seen-Test: yes"} <= set(head.splitlines())
        assert body == "a body"

    async def test_data_from_a_file_is_posted(self) -> None:
        upload = self.files / "upload"
        upload.write_bytes(b"from a file")
        out, _, code = await self.run_cli("get", "--data", f"@{upload}", self.server.url("/echo"))
        assert code == 0
        head, body = out.split("\n\n", 1)
        assert "X-Method: POST" in head.splitlines()
        assert body == "from a file"

    async def test_output_file_receives_the_body_without_progress_off_a_terminal(self) -> None:
        target = self.files / "body"
        out, err, code = await self.run_cli("get", "-o", str(target), self.server.url("/small"))
        assert (code, err) == (0, "")
        assert out.startswith("HTTP/1.1 200 OK\n")
        assert target.read_bytes() == SMALL

    async def test_output_file_shows_progress_on_a_terminal(self) -> None:
        target = self.files / "body"
        terminal = _Terminal()
        reactor.spawnProcess(  # type: ignore[attr-defined]
            terminal,
            sys.executable,
            [sys.executable, *COMMAND[1:], "get", "-o", str(target), self.server.url("/small")],
            env=environment(),
            usePTY=True,
        )
        assert await terminal.ended == 0
        assert target.read_bytes() == SMALL
        progress = terminal.output.split(b"\r")[-2:]
        assert progress[0].startswith(b"%d B  " % len(SMALL))
        assert b"/s" in progress[0]

    async def test_malformed_response_is_one_error_line(self) -> None:
        url = self.misbehaving(b"garbage\r\n\r\n")
        out, err, code = await self.run_cli("get", url)
        assert (out, code) == ("", 1)
        where = url.split("/")[2]
        assert err == (
            f"httpchart: error: malformed response from {where}: "
            "Expected HTTP/, RTSP/ or ICE/ b'garbage'\n"
        )

    async def test_truncated_body_is_one_error_line(self) -> None:
        url = self.misbehaving(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
        out, err, code = await self.run_cli("get", url)
        assert code == 1
        assert out.endswith("\n\nshort")
        where = url.split("/")[2]
        assert (
            err == f"httpchart: error: {where} closed the connection before the body was complete\n"
        )

    async def test_no_response_is_one_error_line(self) -> None:
        url = self.misbehaving(b"")
        out, err, code = await self.run_cli("get", url)
        assert (out, code) == ("", 1)
        where = url.split("/")[2]
        assert err == (
            f"httpchart: error: {where} closed the connection without a complete response\n"
        )

    async def test_silent_server_is_one_error_line_after_the_timeout(self) -> None:
        port = reactor.listenTCP(0, Factory.forProtocol(Protocol), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        where = f"127.0.0.1:{port.getHost().port}"
        out, err, code = await self.run_cli("get", "--timeout", "0.5", f"http://{where}/")
        assert (out, code) == ("", 1)
        assert err == f"httpchart: error: no complete response from {where} within 0.5 seconds\n"

    async def test_untrusted_tls_server_is_one_error_line(self) -> None:
        server = TwistedWebServer(reactor, self.content, tls=self.authority)
        self.addCleanup(server.stop)
        out, err, code = await self.run_cli("get", server.url("/small"))
        assert (out, code) == ("", 1)
        where = server.url("/").decode().split("/")[2]
        assert err == (
            f"httpchart: error: TLS handshake with {where} failed: certificate verify failed\n"
        )

    async def test_https_with_a_trusted_authority(self) -> None:
        server = TwistedWebServer(reactor, self.content, tls=self.authority)
        self.addCleanup(server.stop)
        pem = self.files / "ca.pem"
        pem.write_bytes(self.authority.ca_pem())
        out, err, code = await self.run_cli("get", "--cacert", str(pem), server.url("/small"))
        assert (code, err) == (0, "")
        assert out.endswith(SMALL.decode())


def _descriptors_open_on(path: Path) -> list[str]:
    """
    This process's file descriptors that refer to C{path}.
    """
    found = []
    for descriptor in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(descriptor)
        except OSError:  # the descriptor of the listing itself, closed by now
            continue
        if target == str(path):
            found.append(descriptor.name)
    return found


class TestDataFileIsClosedWhenTheRequestFails(TestCase):
    """
    C{get --data @FILE} opens the file before the request is sent; however
    the request fails, the file is closed by the time the command reports it.
    """

    timeout = 60

    def setUp(self) -> None:
        self.files = Path(tempfile.mkdtemp(prefix="httpchart-cli-"))
        self.addCleanup(shutil.rmtree, self.files)
        self.upload = self.files / "upload"
        self.upload.write_bytes(b"never sent")

    async def fails(self, url: str, cacert: Path | None = None, timeout: float = 30) -> str:
        """
        Post the file to C{url}; the request must fail, and its message is
        returned.
        """
        data = b"@" + str(self.upload).encode()
        request = Fetch(url=url, data=data, cacert=cacert, timeout=timeout)
        with pytest.raises(FetchError) as failed:
            await run(reactor, request, BytesIO(), StringIO())
        return str(failed.value)

    async def test_closed_when_the_connection_is_refused(self) -> None:
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            port = unused.getsockname()[1]
            message = await self.fails(url=f"http://127.0.0.1:{port}/")
        assert message == f"connection refused by 127.0.0.1:{port}"
        assert _descriptors_open_on(self.upload) == []

    async def test_closed_when_the_certificate_authority_is_unreadable(self) -> None:
        missing = self.files / "missing.pem"
        message = await self.fails(url="https://127.0.0.1/", cacert=missing)
        assert message == f"cannot read {missing}: No such file or directory"
        assert _descriptors_open_on(self.upload) == []

    async def test_closed_when_no_response_comes_in_time(self) -> None:
        port = reactor.listenTCP(0, Factory.forProtocol(Protocol), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        where = f"127.0.0.1:{port.getHost().port}"
        message = await self.fails(url=f"http://{where}/", timeout=0.2)
        assert message == f"no complete response from {where} within 0.2 seconds"
        assert _descriptors_open_on(self.upload) == []
