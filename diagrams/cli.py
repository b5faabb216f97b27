"""
C{python -m httpchart.diagrams}: render httpchart's charts.

Writes each chart (all of them unless C{--chart} names some) in the chosen
format to C{--out DIR}, one file per chart named after it, or to standard
output when no directory is given.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from statemachine import StateChart

from httpchart.statechart import CHARTS

from .table import markdown_table

Renderer = Callable[[type[StateChart[Any]]], str]

FORMATS: dict[str, tuple[str, Renderer]] = {
    "md": ("table.md", markdown_table),
}


def file_stem(chart: type[StateChart[Any]]) -> str:
    """
    The name of C{chart}'s output files: C{ConnectionLifecycle} becomes
    C{connection-lifecycle}.
    """
    return re.sub(r"(?<!^)(?=[A-Z])", "-", chart.__name__).lower()


def main(argv: Sequence[str] | None = None) -> int:
    charts = {chart.__name__: chart for chart in CHARTS}
    parser = argparse.ArgumentParser(
        prog="python -m httpchart.diagrams", description="Render httpchart's declared charts."
    )
    parser.add_argument("--format", choices=sorted(FORMATS), default="md")
    parser.add_argument("--chart", action="append", choices=sorted(charts))
    parser.add_argument("--out", type=Path, help="directory to write to (default: stdout)")
    options = parser.parse_args(argv)
    suffix, render = FORMATS[options.format]
    for name in options.chart or list(charts):
        text = render(charts[name])
        if options.out is None:
            sys.stdout.write(text)
        else:
            options.out.mkdir(parents=True, exist_ok=True)
            target = options.out / f"{file_stem(charts[name])}.{suffix}"
            target.write_text(text)
            print(target)
    return 0
