"""
Any chart added to L{httpchart.statechart.CHARTS} renders, in every format,
with no change to L{httpchart.diagrams}: the diagrams read a chart's
L{ChartSpec} and nothing else.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any, ClassVar

import pytest
from statemachine import StateChart

from httpchart import statechart
from httpchart.diagrams import cli
from httpchart.diagrams.outputs import FORMATS, file_name
from httpchart.statechart.declare import Input, event, goes, state, stays

DIAGRAMS = Path(statechart.__file__).parent.parent / "diagrams"


class LeaseProbe(StateChart[Any]):
    """
    A small chart no module of httpchart declares: a lease that is taken,
    returned or lost.
    """

    inputs: ClassVar[dict[str, Input]] = {
        "take": Input(("who",), "Someone asks for the lease."),
        "give_back": Input((), "The holder returns it."),
        "expire": Input((), "The lease ran out."),
    }
    outputs: ClassVar[dict[str, str]] = {
        "grant": "Hand the lease over.",
        "refuse": "Say no.",
        "log_expiry": "Note that it ran out.",
    }
    conditions: ClassVar[dict[str, str]] = {"allowed": "The asker may hold it."}
    failure_states: ClassVar[tuple[str, ...]] = ("EXPIRED",)

    free = state("FREE", "Nobody holds the lease.", initial=True)
    held = state("HELD", "Someone holds it.")
    expired = state("EXPIRED", "It ran out; nothing more happens.")

    take = event(
        goes(free, held, cond=("allowed",), effects=("grant",), doc="Granted.")
        | stays(free, unless=("allowed",), effects=("refuse",), doc="Refused.")
        | stays(held, effects=("refuse",), doc="Already held.")
        | stays(expired, doc="Too late.")
    )
    give_back = event(goes(held, free, doc="Returned.") | stays(free, expired, doc="No-op."))
    expire = event(goes(held, expired, effects=("log_expiry",), doc="Ran out."))


@pytest.fixture
def with_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(statechart, "CHARTS", (*statechart.CHARTS, LeaseProbe))


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_a_chart_added_to_charts_renders_in_every_format(
    with_probe: None, fmt: str, tmp_path: Path
) -> None:
    if FORMATS[fmt].graphviz and shutil.which("dot") is None:
        pytest.fail("Graphviz's dot is needed (make setup installs it)")
    status = cli.main(["--format", fmt, "--chart", "LeaseProbe", "--out", str(tmp_path)])
    assert status == 0
    written = tmp_path / file_name(LeaseProbe, fmt)
    content = written.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == [written.name]
    if FORMATS[fmt].binary:
        assert content.startswith(b"\x89PNG")
        return
    text = content.decode()
    for name in ("FREE", "HELD", "EXPIRED"):
        assert name in text
    if fmt == "md":
        assert "| `take` | allowed | HELD | `grant` | Granted. |" in text
        assert "| `take` | not allowed | stays | `refuse` | Refused. |" in text
    elif fmt == "mermaid":
        assert "free --> held : take [allowed] / grant" in text
        assert "held --> expired : expire / log_expiry" in text
        assert "class expired failure" in text
        assert "expired --> [*]" in text
    elif fmt == "dot":
        assert re.search(r"^free -> held \[.*<b>take</b> \[allowed\]", text, re.MULTILINE)
        assert re.search(r"^held -> expired \[.*style=dashed", text, re.MULTILINE)
        assert "<i>ignores</i> give_back" in text
    else:
        assert "<svg" in text


def test_the_diagrams_use_nothing_of_python_statemachine_but_the_chart_type() -> None:
    imports = {
        line.strip()
        for source in sorted(DIAGRAMS.glob("*.py"))
        for line in source.read_text().splitlines()
        if re.match(r"\s*(from|import) statemachine", line)
    }
    assert imports <= {"from statemachine import StateChart"}
