"""
A large body streamed over loopback: throughput and client CPU per megabyte
of httpchart's Agent, Twisted's Agent, a minimal httptools protocol (the
limit) and aiohttp, each fetching the same large file from a local nginx on
one persistent connection and handing the body to a consumer that only
counts its bytes (an C{IProtocol} given to C{response.deliverBody}, not
C{readBody}'s buffering).

Each round runs every client once, each in a fresh process
(bench/largebody_client.py), in an order that alternates from round to
round, after one untimed fetch that warms nginx and the page cache.  The
report gives each client's median megabytes per second (10**6 bytes) and
client CPU per megabyte, and their ratios to the minimal protocol's.

What a client adds per read is also counted deterministically: each
Twisted client runs once more under cProfile, and the report gives the
Python function calls it makes per read, and the functions httpchart calls
once per read that the minimal protocol does not.
"""

from __future__ import annotations

import pstats
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loopback import run_client  # noqa: E402

from localservers.servers import Authority, running_nginx, write_content  # noqa: E402

CLIENTS = ("httptools", "httpchart", "twisted", "aiohttp")
# The clients whose per-read path is profiled: the ones on Twisted's reactor.
PROFILED = ("httptools", "httpchart", "twisted")
LIMIT = "httptools"
# The served file's name, beside the end-to-end tests' content.
NAME = "bench-large"
_BLOCK = bytes(range(256)) * 4096
MEGABYTE = 10**6


@dataclass
class Streamed:
    """
    Every round's figures for one client: bytes counted, reads, wall and
    CPU seconds, failures.
    """

    client: str
    size: int
    rounds: list[dict[str, Any]] = field(default_factory=list)

    def megabytes_per_second(self) -> float:
        return float(statistics.median(r["bytes"] / MEGABYTE / r["seconds"] for r in self.rounds))

    def cpu_per_megabyte(self) -> float:
        """
        Client CPU time per megabyte of body, in milliseconds.
        """
        return float(
            statistics.median(r["cpu_seconds"] * 1e3 / (r["bytes"] / MEGABYTE) for r in self.rounds)
        )

    def cpu_per_read(self) -> float:
        """
        Client CPU time per read that delivered body bytes, in microseconds.
        """
        return float(statistics.median(r["cpu_seconds"] * 1e6 / r["reads"] for r in self.rounds))

    def reads_per_fetch(self) -> float:
        return float(statistics.median(r["reads"] / r["fetches"] for r in self.rounds))

    def failures(self) -> int:
        """
        Fetches that failed, or whose body was not the file's size.
        """
        return sum(r["failures"] + (r["bytes"] != r["fetches"] * self.size) for r in self.rounds)


@dataclass
class Profiled:
    """
    One cProfile run of a client: the reads it made and the Python calls
    they cost.
    """

    client: str
    reads: int
    calls: int
    per_read: dict[str, int] = field(default_factory=dict)

    def calls_per_read(self) -> float:
        return self.calls / self.reads


def write_body(content_root: Path, size: int) -> None:
    """
    Add the large file, C{size} bytes (a multiple of 1 MiB), to the content
    nginx serves.
    """
    with (content_root / NAME).open("wb") as large:
        for _ in range(size // len(_BLOCK)):
            large.write(_BLOCK)


def measure(
    rounds: int, fetches: int, size: int
) -> tuple[dict[str, Streamed], dict[str, Profiled]]:
    """
    Start nginx, run every client C{rounds} times, interleaved, each making
    C{fetches} timed fetches of a C{size}-byte body; then profile the
    Twisted clients once each; and stop nginx.
    """
    results = {client: Streamed(client, size) for client in CLIENTS}
    profiles = {}
    with tempfile.TemporaryDirectory() as home:
        content = write_content(Path(home) / "content")
        write_body(content.root, size)
        with running_nginx(Path(home) / "nginx", content, Authority()) as nginx:
            url = f"--url={nginx.url('/' + NAME).decode()}"
            run_client("largebody_client.py", LIMIT, url, "--fetches=1", "--warmup=0")
            for index in range(rounds):
                order = CLIENTS if index % 2 == 0 else tuple(reversed(CLIENTS))
                for client in order:
                    results[client].rounds.append(
                        run_client("largebody_client.py", client, url, f"--fetches={fetches}")
                    )
            for client in PROFILED:
                stats = Path(home) / f"{client}.prof"
                ran = run_client(
                    "largebody_client.py", client, url, "--fetches=2", f"--profile={stats}"
                )
                profiles[client] = _profiled(client, ran["reads"], stats)
    return results, profiles


def _profiled(client: str, reads: int, stats: Path) -> Profiled:
    """
    The calls in C{stats}, and the Python functions called about once per
    read of body (at least 0.9 and fewer than 2 times per read: the reads
    that bring a head, or a body's end, take other paths), named
    C{file:function}.
    """
    table: dict[Any, Any] = pstats.Stats(str(stats)).stats  # type: ignore[attr-defined]
    calls = sum(entry[1] for entry in table.values())
    per_read = {
        f"{Path(path).name}:{function}": entry[1]
        for (path, _line, function), entry in table.items()
        if 0.9 * reads <= entry[1] < 2 * reads and not path.startswith("~")
    }
    return Profiled(client, reads, calls, per_read)


def report(results: dict[str, Streamed], profiles: dict[str, Profiled]) -> str:
    """
    The table of medians and ratios to the minimal protocol's, then what a
    read costs each profiled client.
    """
    limit = results[LIMIT]
    size = limit.size
    lines = [
        f"Large body over loopback: {size // 2**20} MiB from nginx on one persistent "
        "connection, to a consumer that counts bytes",
        f"medians of {len(limit.rounds)} interleaved rounds of "
        f"{limit.rounds[0]['fetches']} fetches; each client in its own process; "
        "MB = 10^6 bytes",
        "",
        f"{'client':12} {'MB/s':>8} {'CPU ms/MB':>10} {'CPU µs/read':>12} {'reads/fetch':>12} "
        f"{'MB/s ratio':>11} {'CPU ratio':>10} {'failures':>9}",
    ]
    for client, streamed in results.items():
        lines.append(
            f"{client:12} {streamed.megabytes_per_second():8.0f} "
            f"{streamed.cpu_per_megabyte():10.3f} {streamed.cpu_per_read():12.1f} "
            f"{streamed.reads_per_fetch():12.0f} "
            f"{streamed.megabytes_per_second() / limit.megabytes_per_second():11.2f} "
            f"{streamed.cpu_per_megabyte() / limit.cpu_per_megabyte():10.2f} "
            f"{streamed.failures():9d}"
        )
    lines += ["", "per read, cProfile (2 fetches): Python function calls per read"]
    lines.append("  " + ", ".join(f"{c} {p.calls_per_read():.1f}" for c, p in profiles.items()))
    added = sorted(set(profiles["httpchart"].per_read) - set(profiles[LIMIT].per_read))
    lines.append(
        f"  the {len(added)} Python functions httpchart runs per read that the minimal"
        " protocol does not:"
    )
    lines += [f"    {name}" for name in added]
    return "\n".join(lines)
