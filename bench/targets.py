"""
The project's performance targets, computed from one run's figures: every
target of issue 13 (numbered as the issue numbers them), and the targets
kept from earlier issues (the chart's own cost on Twisted's parser,
construct + connect, timeouts on against off, the pool's limits against
Twisted's pool).  Each is a ratio with a bound, met or not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness import Result
from largebody import LIMIT, Streamed
from loopback import Measured


@dataclass(frozen=True)
class Target:
    """
    One target: C{value} must be at most (C{at_most}) or at least C{bound}.

    @ivar issue: Issue 13's number for the target, as C{"13.1"}, or C{""}
        for a target kept from an earlier issue.
    """

    issue: str
    name: str
    value: float
    bound: float
    at_most: bool

    @property
    def met(self) -> bool:
        return self.value <= self.bound if self.at_most else self.value >= self.bound

    @property
    def wanted(self) -> str:
        return f"{'<=' if self.at_most else '>='} {self.bound:.3g}"

    def line(self) -> str:
        label = f"({self.issue})" if self.issue else ""
        return (
            f"{'met    ' if self.met else 'NOT MET'}  {label:7} {self.name}: "
            f"{self.value:.2f} (wanted {self.wanted})"
        )

    def as_json(self) -> dict[str, object]:
        return {
            "issue": self.issue,
            "name": self.name,
            "value": self.value,
            "wanted": self.wanted,
            "met": self.met,
        }


def _geometric(values: Sequence[float]) -> float:
    return math.prod(values) ** (1 / len(values))


def project_targets(
    exchanges: Sequence[Result],
    connecting: Result,
    memory: Mapping[str, Mapping[str, float]],
    loop: Mapping[str, Measured],
    streamed: Mapping[str, Streamed],
) -> list[Target]:
    """
    Every target, from the in-memory exchanges, construct + connect, the
    memory per idle connection, the loopback clients and the large body.
    """
    ours = [r.ratio("httpchart", "twisted") for r in exchanges]
    worst = max(zip(ours, (r.case for r in exchanges), strict=True))
    chart_alone = _geometric(
        [r.ratio("httpchart on Twisted's parser", "twisted") for r in exchanges]
    )
    targets = [
        Target(
            "13.1",
            "in-memory exchange, geometric mean of httpchart/twisted over the three bodies",
            _geometric(ours),
            0.5,
            at_most=True,
        ),
        Target(
            "13.1",
            f"in-memory exchange, the worst body's httpchart/twisted ({worst[1]})",
            worst[0],
            0.65,
            at_most=True,
        ),
    ]
    for when, held in memory.items():
        targets.append(
            Target(
                "13.2",
                f"memory per idle connection ({when}), httpchart/twisted",
                held["httpchart"] / held["twisted"],
                1.0,
                at_most=True,
            )
        )
    requests = {client: measured.requests_per_second() for client, measured in loop.items()}
    targets += [
        Target(
            "13.3",
            "loopback: Twisted's Agent on httpchart's pool, CPU per request / Twisted's",
            loop["twisted-agent-httpchart-pool"].cpu_per_request()
            / loop["twisted"].cpu_per_request(),
            0.8,
            at_most=True,
        ),
        Target(
            "13.4",
            "loopback: httpchart's Agent req/s / aiohttp's",
            requests["httpchart"] / requests["aiohttp"],
            1.5,
            at_most=False,
        ),
        Target(
            "13.4",
            "loopback: httpchart's Agent req/s / minimal httptools protocol's",
            requests["httpchart"] / requests["httptools"],
            1 / 3,
            at_most=False,
        ),
        Target(
            "13.5",
            "large body: httpchart's Agent MB/s / minimal httptools protocol's",
            streamed["httpchart"].megabytes_per_second() / streamed[LIMIT].megabytes_per_second(),
            0.9,
            at_most=False,
        ),
        Target(
            "",
            "in-memory exchange on Twisted's parser, geometric mean of httpchart/twisted",
            chart_alone,
            1.1,
            at_most=True,
        ),
        Target(
            "",
            "construct + connect, httpchart/twisted",
            connecting.ratio("httpchart", "twisted"),
            3,
            at_most=True,
        ),
        Target(
            "",
            "loopback: httpchart's Agent req/s, pool's default timeouts / timeouts off",
            requests["httpchart"] / requests["httpchart-timeouts-off"],
            0.95,
            at_most=False,
        ),
        Target(
            "",
            "loopback: httpchart's Agent req/s, all three timeouts / timeouts off",
            requests["httpchart-all-timeouts"] / requests["httpchart-timeouts-off"],
            0.95,
            at_most=False,
        ),
    ]
    before = loop["httpchart-twisted-pool"].cpu_per_request()
    for client, wanted in (("httpchart", "no limits"), ("httpchart-limited", "limits")):
        targets.append(
            Target(
                "",
                f"loopback: httpchart's Agent, its pool with {wanted}, CPU per request / "
                "on Twisted's pool (as before the pool had limits)",
                loop[client].cpu_per_request() / before,
                1.05,
                at_most=True,
            )
        )
    return targets
