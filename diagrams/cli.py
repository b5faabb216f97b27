"""
C{python -m httpchart.diagrams}: render httpchart's charts.

Renders each chart (all of them unless C{--chart} names some) in the chosen
format, to C{--out DIR} as one file per chart named after it
(C{connection-lifecycle.svg}), or to standard output.  Text formats need
nothing but Python; SVG and PNG run Graphviz's C{dot}, and when it is
missing the command says how to install it and exits with status 2, as it
does for bad arguments and when the C{httpchart[diagrams]} extra is not
installed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import httpchart.statechart as statechart

from .extra import extra_missing

USAGE_ERROR = 2
"""The exit status for bad arguments, a missing Graphviz and a missing extra."""

EPILOG = """\
examples:
  %(prog)s --format svg --out docs/generated
  %(prog)s --format mermaid --chart ConnectionLifecycle
  %(prog)s --format md | less

svg and png run Graphviz's dot (apt-get install graphviz, brew install graphviz);
dot, mermaid and md need nothing else.  `make diagrams` regenerates docs/generated.
"""


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """
    Run the command line with C{argv} (by default C{sys.argv[1:]}) and
    return its exit status.

    @param prog: The command's name in usage and messages, for a command
        that delegates here (C{httpchart diagrams}).
    """
    prog = prog or "python -m httpchart.diagrams"
    try:
        from .images import GraphvizFailed, GraphvizMissing
        from .outputs import FORMATS, file_name, render
    except ModuleNotFoundError as error:
        print(f"{prog}: {extra_missing(error)}", file=sys.stderr)
        return USAGE_ERROR
    charts = {chart.__name__: chart for chart in statechart.CHARTS}
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Render httpchart's declared charts: state diagrams and transition tables.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--format",
        choices=list(FORMATS),
        default="svg",
        help="what to render (default: %(default)s)",
    )
    parser.add_argument(
        "--chart",
        action="append",
        choices=list(charts),
        metavar="NAME",
        help=f"render this chart, repeatable: {', '.join(charts)} (default: all)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write one file per chart into DIR (default: standard output)",
    )
    options = parser.parse_args(argv)
    output = FORMATS[options.format]
    if output.binary and options.out is None:
        parser.error(f"--format {output.name} writes binary files: give --out DIR")

    chosen = [charts[name] for name in dict.fromkeys(options.chart or charts)]
    try:
        rendered = [(chart, render(chart, output.name)) for chart in chosen]
    except GraphvizMissing as missing:
        print(f"{parser.prog}: {missing}", file=sys.stderr)
        return USAGE_ERROR
    except GraphvizFailed as failed:
        print(f"{parser.prog}: {failed}", file=sys.stderr)
        return 1

    if options.out is None:
        for _, content in rendered:
            sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return 0
    try:
        options.out.mkdir(parents=True, exist_ok=True)
        for chart, content in rendered:
            target = options.out / file_name(chart, output.name)
            target.write_bytes(content)
            print(target)
    except OSError as error:
        print(f"{parser.prog}: cannot write to {options.out}: {error}", file=sys.stderr)
        return 1
    return 0
