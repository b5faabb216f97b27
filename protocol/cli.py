"""
C{python -m httpchart.protocol}: httpchart's command line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from twisted.internet.task import react

from . import demo


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m httpchart.protocol",
        description="Twisted's HTTP/1.1 client protocol, driven by a declared statechart.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="run a short session against an embedded loopback server")
    options = parser.parse_args(argv)
    if options.command == "demo":
        react(lambda reactor: demo.main(reactor, sys.stdout))
    return 0
