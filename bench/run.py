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
  7. A large body (64 MiB) from nginx streamed to a consumer that counts
     bytes: httpchart's Agent, Twisted's Agent, aiohttp and a minimal
     httptools protocol, in MB/s and client CPU per MB; and what one read
     of a streaming body costs each protocol, in memory and in Python
     calls (cProfile).

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
import largebody  # noqa: E402
import loopback  # noqa: E402
import observers  # noqa: E402
import perread  # noqa: E402
import pool  # noqa: E402
import proxied  # noqa: E402
from harness import machine, report  # noqa: E402
from targets import project_targets  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run, under a minute")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "bench.json")
    options = parser.parse_args()
    # readBody warns on every call that Twisted's transport proxy cannot abort.
    warnings.simplefilter("ignore", DeprecationWarning)
    if options.quick:
        rounds, batch, loop_rounds, requests, tunnelled = 5, 60, 1, 3000, 1000
        large_rounds, fetches = 3, 4
    else:
        rounds, batch, loop_rounds, requests, tunnelled = 21, 300, 7, 20000, 5000
        large_rounds, fetches = 7, 16

    exchanges = cycle.measure_exchanges(rounds, batch)
    connecting = cycle.measure_connecting(rounds, batch)
    memory = cycle.measure_memory(2000)
    watching = observers.measure_observers(rounds, batch)
    over_loopback = loopback.measure(loop_rounds, requests, requests // 10, 8)
    pooling = pool.measure_pool(rounds, batch)
    pooled_agent = pool.measure_agent_on_pools(rounds, batch)
    through_proxy = proxied.measure(loop_rounds, tunnelled, tunnelled // 10, 4)
    streamed, profiled = largebody.measure(large_rounds, fetches, 64 * 2**20)
    reading = perread.measure_per_read(rounds, batch * 10)

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
    print(
        report(
            "5. The pool (µs per request on a reused connection): alone, and under"
            " httpchart's Agent",
            [pooling, pooled_agent],
            "twisted",
        )
    )
    print()
    print("6. " + proxied.report(through_proxy, 4))
    print()
    print("7. " + largebody.report(streamed, profiled))
    print()
    print(report("   In memory, µs per read", [reading], largebody.LIMIT))
    extra = reading.median("httpchart") - reading.median(largebody.LIMIT)
    print(
        f"   httpchart's per-read path costs {extra:.2f} µs more than the minimal protocol's,"
        f" {extra / streamed[largebody.LIMIT].cpu_per_read():.1%}\n   of the minimal protocol's"
        " CPU per read over loopback"
    )

    targets = project_targets(exchanges, connecting, memory, over_loopback, streamed)
    about = machine()
    print("\nTargets (issue 13's numbered; the others kept from earlier issues)")
    print(
        f"  machine: {about['cpu']}, {about['cores']} cores; Python {about['python']}, "
        f"Twisted {about['twisted']}, python-statemachine {about['python-statemachine']}"
        + ("; a quick run" if options.quick else "")
    )
    for target in targets:
        print("  " + target.line())
    print(
        "  (13.6) no state decided outside the charts, no engine bypass: held by the tests"
        " (tables, checkers,\n         both engines' agreement), not by a figure"
    )
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
                "pooled_agent": asdict(pooled_agent),
                "through_proxy": {c: asdict(m) for c, m in through_proxy.items()},
                "large_body": {c: asdict(m) for c, m in streamed.items()},
                "large_body_profiled": {c: asdict(p) for c, p in profiled.items()},
                "per_read": asdict(reading),
                "targets": [target.as_json() for target in targets],
            },
            indent=2,
        )
    )
    print(f"\nraw figures: {options.json}")


if __name__ == "__main__":
    main()
