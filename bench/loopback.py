"""
Requests per second over loopback against a local nginx, with several
persistent connections: Twisted's Agent and pool, Twisted's Agent on
httpchart's pool, httpchart's Agent (on its pool with the pool's default
timeouts, with none, with all three limits set, with connection limits, and
on Twisted's pool as httpchart's pool was before it had limits), aiohttp,
and a minimal httptools protocol, measured in the same run.

nginx (Debian's, as the end-to-end tests start it) serves a small file on
127.0.0.1.  Each round runs every client once, each in a fresh process
(bench/loopback_client.py), in an order that alternates from round to round;
the report gives each client's median requests per second and client CPU
time per request, and their ratios to Twisted's.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from localservers.servers import Authority, running_nginx, write_content  # noqa: E402

CLIENTS = (
    "twisted",
    "twisted-agent-httpchart-pool",
    "httpchart",
    "httpchart-limited",
    "httpchart-twisted-pool",
    "httpchart-timeouts-off",
    "httpchart-all-timeouts",
    "aiohttp",
    "httptools",
)


@dataclass
class Measured:
    """
    Every round's figures for one client.
    """

    client: str
    rounds: list[dict[str, Any]] = field(default_factory=list)

    def requests_per_second(self) -> float:
        return statistics.median(r["requests"] / r["seconds"] for r in self.rounds)

    def cpu_per_request(self) -> float:
        """
        Client CPU time per request, in microseconds.
        """
        return statistics.median(r["cpu_seconds"] / r["requests"] * 1e6 for r in self.rounds)

    def failures(self) -> int:
        return sum(r["failures"] for r in self.rounds)


def measure(rounds: int, requests: int, warmup: int, concurrency: int) -> dict[str, Measured]:
    """
    Start nginx, run every client C{rounds} times, interleaved, and stop it.
    """
    results = {client: Measured(client) for client in CLIENTS}
    with tempfile.TemporaryDirectory() as home:
        content = write_content(Path(home) / "content")
        with running_nginx(Path(home) / "nginx", content, Authority()) as nginx:
            url = nginx.url("/small").decode()
            for index in range(rounds):
                order = CLIENTS if index % 2 == 0 else tuple(reversed(CLIENTS))
                for client in order:
                    results[client].rounds.append(
                        run_client(
                            "loopback_client.py",
                            client,
                            f"--url={url}",
                            f"--requests={requests}",
                            f"--warmup={warmup}",
                            f"--concurrency={concurrency}",
                        )
                    )
    return results


def run_client(script: str, client: str, *arguments: str) -> dict[str, Any]:
    """
    Run one round of C{client} in a process of its own, with the client
    script C{script} beside this file, and return the line of JSON it prints.
    """
    finished = subprocess.run(
        [sys.executable, str(Path(__file__).with_name(script)), client, *arguments],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    measured: dict[str, Any] = json.loads(finished.stdout)
    return measured


def report(results: dict[str, Measured], concurrency: int) -> str:
    """
    The table of medians and ratios to Twisted's.
    """
    twisted = results["twisted"]
    lines = [
        f"Loopback against nginx, {concurrency} persistent connections, small body",
        "medians of interleaved rounds; each client in its own process",
        "",
        f"{'client':30} {'req/s':>8} {'CPU µs/req':>11} {'req/s ratio':>12} "
        f"{'CPU ratio':>10} {'failures':>9}",
    ]
    for client, measured in results.items():
        lines.append(
            f"{client:30} {measured.requests_per_second():8.0f} {measured.cpu_per_request():11.1f} "
            f"{measured.requests_per_second() / twisted.requests_per_second():12.2f} "
            f"{measured.cpu_per_request() / twisted.cpu_per_request():10.2f} "
            f"{measured.failures():9d}"
        )
    return "\n".join(lines)
