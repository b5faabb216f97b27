"""
C{httpchart} (also C{python -m httpchart.protocol}): httpchart's command line.

  - C{httpchart get URL ...}: one request through Twisted's Agent on
    httpchart's pool; C{--trace} prints every transition of every connection.
  - C{httpchart demo}: a short session against an embedded loopback server.
  - C{httpchart diagrams ...}: C{python -m httpchart.diagrams}, which needs
    the C{httpchart[diagrams]} extra.

Failures of a request end the command with one line on standard error and
exit status 1; usage errors exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Coroutine, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

from twisted.internet.task import react

from . import demo, fetch
from .observe import Trace

PROG = "httpchart"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Twisted's HTTP/1.1 client protocol, driven by a declared statechart.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('httpchart')}")
    commands = parser.add_subparsers(dest="command", required=True)
    get = commands.add_parser(
        "get",
        help="make one request through Twisted's Agent on httpchart's pool",
        description="Make one request and print the status line, headers and body.",
    )
    get.add_argument("url", help="an http:// or https:// URL")
    get.add_argument("-X", "--method", help="the method (default: GET, or POST with --data)")
    get.add_argument(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="a request header; may be repeated",
    )
    get.add_argument(
        "--data",
        type=lambda text: text.encode("utf-8", "surrogateescape"),
        metavar="BYTES|@FILE",
        help="the request body, or @FILE for a file's contents",
    )
    get.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help="write the body to FILE (with a progress line when stderr is a terminal)",
    )
    get.add_argument(
        "--trace",
        action="store_true",
        help="print every transition to stderr: time, connection, from --event--> to / effects",
    )
    get.add_argument(
        "--cacert",
        type=Path,
        metavar="PEM",
        help="trust this certificate authority instead of the platform's",
    )
    get.add_argument(
        "--proxy",
        metavar="URL",
        help="go through this HTTP proxy (http://[user:password@]host[:port]); without it, "
        "http_proxy, https_proxy, all_proxy and no_proxy apply",
    )
    get.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="give up when the response is not complete by then (default: 30)",
    )
    commands.add_parser("demo", help="run a short session against an embedded loopback server")
    commands.add_parser("diagrams", help="render the declared charts (see `diagrams --help`)")
    return parser


def _react(main: Callable[[Any], Coroutine[Any, Any, int]]) -> int:
    """
    Run C{main} on the reactor; its result is the exit status.
    """

    async def exiting(reactor: Any) -> None:
        raise SystemExit(await main(reactor))

    try:
        react(exiting)
    except SystemExit as exit:
        return int(exit.code or 0)
    raise AssertionError("react() always exits")


def _get(options: argparse.Namespace) -> int:
    request = fetch.Fetch(
        url=options.url,
        method=options.method,
        headers=options.header,
        data=options.data,
        output=options.output,
        cacert=options.cacert,
        timeout=options.timeout,
        proxy=options.proxy,
        observer=Trace(sys.stderr) if options.trace else None,
    )

    async def main(reactor: Any) -> int:
        try:
            await fetch.run(reactor, request, sys.stdout.buffer, sys.stderr)
        except fetch.FetchError as failed:
            sys.stderr.write(f"{PROG}: error: {failed}\n")
            return 1
        return 0

    return _react(main)


def _demo() -> int:
    async def main(reactor: Any) -> int:
        await demo.main(reactor, sys.stdout)
        return 0

    return _react(main)


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run the command line C{argv} (default: the process's arguments).
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["diagrams"]:
        from httpchart.diagrams.cli import main as diagrams

        return diagrams(arguments[1:], prog=f"{PROG} diagrams")
    options = _parser().parse_args(arguments)
    if options.command == "get":
        return _get(options)
    return _demo()
