"""
Requests per second through an HTTPS tunnel next to direct HTTPS, in the
same run: httpchart's ProxyAgent through Debian's tinyproxy, and httpchart's
Agent straight to the origin, both to Debian's nginx over TLS (a test
authority's certificate), over a few persistent connections.

Each round runs both clients once, each in a fresh process
(bench/proxied_client.py), in an order that alternates from round to round;
the report gives each client's median requests per second and CPU time per
request, and the tunnel's ratio to direct.  The tunnel's price is the
proxy's relaying of every byte, plus one more Python call per read.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loopback import Measured, run_client  # noqa: E402

from localservers.servers import Authority, running_nginx, write_content  # noqa: E402
from localservers.tinyproxy import running_tinyproxy  # noqa: E402

CLIENTS = ("direct", "tunnel")


def measure(rounds: int, requests: int, warmup: int, concurrency: int) -> dict[str, Measured]:
    """
    Start nginx and tinyproxy, run both clients C{rounds} times, interleaved,
    and stop them.
    """
    results = {client: Measured(client) for client in CLIENTS}
    authority = Authority()
    with tempfile.TemporaryDirectory() as home:
        root = Path(home)
        content = write_content(root / "content")
        pem = root / "ca.pem"
        pem.write_bytes(authority.ca_pem())
        with (
            running_nginx(root / "nginx", content, authority) as nginx,
            running_tinyproxy(root / "tinyproxy") as proxy,
        ):
            for index in range(rounds):
                order = CLIENTS if index % 2 == 0 else tuple(reversed(CLIENTS))
                for client in order:
                    results[client].rounds.append(
                        run_client(
                            "proxied_client.py",
                            client,
                            f"--url={nginx.url('/small', port='https').decode()}",
                            f"--proxy={proxy.url().decode()}",
                            f"--cacert={pem}",
                            f"--requests={requests}",
                            f"--warmup={warmup}",
                            f"--concurrency={concurrency}",
                        )
                    )
    return results


def report(results: dict[str, Measured], concurrency: int) -> str:
    """
    The table of medians, and the tunnel's ratios to direct HTTPS.
    """
    direct = results["direct"]
    lines = [
        f"HTTPS to nginx, {concurrency} persistent connections, small body: through a "
        "tinyproxy tunnel, and direct",
        "medians of interleaved rounds; each client in its own process",
        "",
        f"{'client':12} {'req/s':>8} {'CPU µs/req':>11} {'req/s ratio':>12} "
        f"{'CPU ratio':>10} {'failures':>9}",
    ]
    for client, measured in results.items():
        lines.append(
            f"{client:12} {measured.requests_per_second():8.0f} "
            f"{measured.cpu_per_request():11.1f} "
            f"{measured.requests_per_second() / direct.requests_per_second():12.2f} "
            f"{measured.cpu_per_request() / direct.cpu_per_request():10.2f} "
            f"{measured.failures():9d}"
        )
    return "\n".join(lines)
