"""
httpchart's benchmarks, all in one run, next to Twisted's (`make bench`;
`make bench-quick` for a short run).

  1. The in-memory exchange for three bodies, httpchart's protocol against
     Twisted's (and, for scale, python-statemachine's own engine and a
     floor: a protocol with no lifecycle at all).
  2. Building and connecting a connection, and the memory an idle one holds.
  3. What observing transitions costs.
  4. Requests over loopback against a local nginx: Twisted's Agent and
     pool, Twisted's Agent on httpchart's pool, httpchart's Agent (on its
     pool, with limits, and on Twisted's pool as before the pool had
     limits), aiohttp, and a minimal httptools protocol.
  5. The pool's own cost per request on a reused connection, httpchart's
     next to Twisted's.
  6. HTTPS through a tinyproxy tunnel next to direct HTTPS, same origin.

Every figure is a median of rounds interleaved between the contenders; the
ratios are what to compare, since the machine's speed drifts.  The targets
of the project are checked at the end, each marked met or not, and all raw
figures are written as JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cycle  # noqa: E402
import loopback  # noqa: E402
import observers  # noqa: E402
import pool  # noqa: E402
import proxied  # noqa: E402
from harness import machine, report  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run, under a minute")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "bench.json")
    options = parser.parse_args()
    # readBody warns on every call that Twisted's transport proxy cannot abort.
    warnings.simplefilter("ignore", DeprecationWarning)
    if options.quick:
        rounds, batch, loop_rounds, requests, tunnelled = 5, 60, 1, 3000, 1000
    else:
        rounds, batch, loop_rounds, requests, tunnelled = 21, 300, 3, 20000, 5000

    exchanges = cycle.measure_exchanges(rounds, batch)
    connecting = cycle.measure_connecting(rounds, batch)
    memory = cycle.measure_memory(2000)
    watching = observers.measure_observers(rounds, batch)
    over_loopback = loopback.measure(loop_rounds, requests, requests // 10, 8)
    pooling = pool.measure_pool(rounds, batch)
    through_proxy = proxied.measure(loop_rounds, tunnelled, tunnelled // 10, 4)

    print(report("1. In-memory exchange (µs)", [*exchanges, connecting], "twisted"))
    print("\n2. Memory per idle connection (bytes, tracemalloc, 2000 connections)")
    for when, held in memory.items():
        print(
            f"  {when:18} twisted {held['twisted']:6.0f}   httpchart {held['httpchart']:6.0f}"
            f"   ratio {held['httpchart'] / held['twisted']:.2f}"
        )
    print()
    print(report("3. Observing transitions (µs per exchange)", watching, "twisted"))
    for line in observers.per_transition(watching):
        print("  " + line)
    print()
    print("4. " + loopback.report(over_loopback, 8))
    print()
    print(report("5. The pool alone (µs per request on a reused connection)", [pooling], "twisted"))
    print()
    print("6. " + proxied.report(through_proxy, 4))

    geometric = math.prod(r.ratio("httpchart", "twisted") for r in exchanges) ** (1 / 3)
    chart_alone = math.prod(
        r.ratio("httpchart on Twisted's parser", "twisted") for r in exchanges
    ) ** (1 / 3)
    loop = over_loopback
    agent_pool = (
        loop["twisted-agent-httpchart-pool"].cpu_per_request() / loop["twisted"].cpu_per_request()
    )
    ours = loop["httpchart"].requests_per_second()
    targets = [
        (
            "in-memory exchange on Twisted's parser, geometric mean of httpchart/twisted",
            chart_alone,
            "<= 1.1",
            chart_alone <= 1.1,
        ),
        (
            "in-memory exchange, geometric mean of httpchart/twisted",
            geometric,
            "<= 0.5",
            geometric <= 0.5,
        ),
        (
            "construct + connect, httpchart/twisted",
            connecting.ratio("httpchart", "twisted"),
            "<= 3",
            connecting.ratio("httpchart", "twisted") <= 3,
        ),
    ]
    for when, held in memory.items():
        ratio = held["httpchart"] / held["twisted"]
        targets.append((f"memory per idle connection ({when})", ratio, "<= 2", ratio <= 2))
    targets += [
        (
            "loopback: Twisted's Agent on httpchart's pool, CPU per request / Twisted's",
            agent_pool,
            "<= 0.8",
            agent_pool <= 0.8,
        ),
        (
            "loopback: httpchart's Agent req/s / aiohttp's",
            ours / loop["aiohttp"].requests_per_second(),
            "> 1",
            ours > loop["aiohttp"].requests_per_second(),
        ),
        (
            "loopback: httpchart's Agent req/s, pool's default timeouts / timeouts off",
            ours / loop["httpchart-timeouts-off"].requests_per_second(),
            ">= 0.95",
            ours >= 0.95 * loop["httpchart-timeouts-off"].requests_per_second(),
        ),
        (
            "loopback: httpchart's Agent req/s, all three timeouts / timeouts off",
            loop["httpchart-all-timeouts"].requests_per_second()
            / loop["httpchart-timeouts-off"].requests_per_second(),
            ">= 0.95",
            loop["httpchart-all-timeouts"].requests_per_second()
            >= 0.95 * loop["httpchart-timeouts-off"].requests_per_second(),
        ),
        (
            "loopback: httpchart's Agent req/s / minimal httptools protocol's",
            ours / loop["httptools"].requests_per_second(),
            ">= 0.33",
            ours >= loop["httptools"].requests_per_second() / 3,
        ),
    ]
    before = loop["httpchart-twisted-pool"].cpu_per_request()
    for client, wanted in (("httpchart", "no limits"), ("httpchart-limited", "limits")):
        slower = loop[client].cpu_per_request() / before
        targets.append(
            (
                f"loopback: httpchart's Agent, its pool with {wanted}, CPU per request / "
                "on Twisted's pool (as before the pool had limits)",
                slower,
                "<= 1.05",
                slower <= 1.05,
            )
        )
    print("\nTargets")
    for name, value, wanted, met in targets:
        print(f"  {'met    ' if met else 'NOT MET'}  {name}: {value:.2f} (wanted {wanted})")
    floor = math.prod(r.ratio("floor (no lifecycle)", "twisted") for r in exchanges) ** (1 / 3)
    print(
        f"  for scale: the floor (no lifecycle) scores {floor:.2f} on the in-memory geometric"
        " mean;\n  what it leaves is Twisted's Request, readBody and Deferreds, which every"
        " contender pays"
    )

    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(
        json.dumps(
            {
                "machine": machine(),
                "quick": options.quick,
                "exchanges": [asdict(r) for r in exchanges],
                "connecting": asdict(connecting),
                "memory": memory,
                "observers": [asdict(r) for r in watching],
                "loopback": {c: asdict(m) for c, m in over_loopback.items()},
                "pool": asdict(pooling),
                "through_proxy": {c: asdict(m) for c, m in through_proxy.items()},
                "targets": [
                    {"name": n, "value": v, "wanted": w, "met": m} for n, v, w, m in targets
                ],
            },
            indent=2,
        )
    )
    print(f"\nraw figures: {options.json}")


if __name__ == "__main__":
    main()
