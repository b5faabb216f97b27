"""
Side-by-side timing for httpchart's benchmarks.

Every case is measured for each contender in the same run, interleaved: each
round times one batch of every contender, in an order that alternates from
round to round, so drift in the machine's speed touches all of them alike.
The report gives each contender's median time per operation over the rounds
and the ratio of each to the baseline (lower is better).  Absolute figures
move with the machine's load; the ratios are what to compare.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path


@dataclass
class Result:
    """
    One case: per contender, the time per operation of every round, in
    microseconds.
    """

    case: str
    rounds: dict[str, list[float]] = field(default_factory=dict)

    def median(self, contender: str) -> float:
        return statistics.median(self.rounds[contender])

    def ratio(self, contender: str, baseline: str) -> float:
        return self.median(contender) / self.median(baseline)


def interleaved(
    case: str,
    contenders: dict[str, Callable[[], object]],
    *,
    rounds: int,
    batch: int,
) -> Result:
    """
    Time C{batch} calls of each contender, C{rounds} times, interleaved.
    """
    result = Result(case, {name: [] for name in contenders})
    order = list(contenders)
    for each in contenders.values():
        each()
    for index in range(rounds):
        for name in order if index % 2 == 0 else reversed(order):
            operation = contenders[name]
            gc.collect()
            started = time.perf_counter_ns()
            for _ in range(batch):
                operation()
            elapsed = time.perf_counter_ns() - started
            result.rounds[name].append(elapsed / batch / 1000)
    return result


def machine() -> dict[str, str]:
    """
    What the figures were measured on.
    """
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "twisted": version("twisted"),
        "python-statemachine": version("python-statemachine"),
    }


def report(
    title: str,
    results: Sequence[Result],
    baseline: str,
    *,
    json_path: Path | None = None,
) -> str:
    """
    A table of medians and ratios to C{baseline}; also written as JSON to
    C{json_path} when given.
    """
    about = machine()
    contenders = list(results[0].rounds)
    header = ["case", *(f"{c} µs" for c in contenders)]
    header += [f"{c}/{baseline}" for c in contenders if c != baseline]
    rows = []
    for result in results:
        row = [
            result.case,
            *(f"{result.median(c):.1f}" if c in result.rounds else "-" for c in contenders),
        ]
        row += [
            f"{result.ratio(c, baseline):.2f}" if c in result.rounds else "-"
            for c in contenders
            if c != baseline
        ]
        rows.append(row)
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    lines = [
        title,
        f"machine: {about['cpu']}, {about['cores']} cores; Python {about['python']}, "
        f"Twisted {about['twisted']}, python-statemachine {about['python-statemachine']}",
        "medians of interleaved rounds; ratio < 1 means faster than the baseline",
        "",
    ]
    for line in [header, rows and ["-" * w for w in widths], *rows]:
        if line:
            lines.append("  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)))
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"title": title, "machine": about, "results": [asdict(r) for r in results]}
        json_path.write_text(json.dumps(payload, indent=2))
    return "\n".join(lines)
