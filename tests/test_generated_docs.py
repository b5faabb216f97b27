"""
The generated documentation in docs/generated is what the declarations render
today.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from httpchart.diagrams.cli import FORMATS, file_stem
from httpchart.statechart import CHARTS

GENERATED = Path(__file__).resolve().parent.parent / "docs" / "generated"


@pytest.mark.parametrize("chart", CHARTS, ids=lambda chart: chart.__name__)
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_committed_rendering_is_fresh(chart: type, fmt: str) -> None:
    suffix, render = FORMATS[fmt]
    path = GENERATED / f"{file_stem(chart)}.{suffix}"
    assert path.exists(), f"{path} is missing: run `make docs`"
    assert path.read_text() == render(chart), f"{path} is stale: run `make docs`"


def test_table_lists_every_state_and_event() -> None:
    text = (GENERATED / "connection-lifecycle.table.md").read_text()
    for state in CHARTS[0].states:
        assert f"## {state.value}" in text
    for event in ("issue", "write_done", "data", "connection_lost", "abort", "cancel"):
        assert f"| `{event}` |" in text


def _overview_rows(text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("| **")
    ]


def test_readme_overview_matches_the_declaration() -> None:
    readme = (GENERATED.parent.parent / "README.md").read_text()
    generated = (GENERATED / "connection-lifecycle.table.md").read_text()
    assert _overview_rows(readme) == _overview_rows(generated), (
        "README.md's lifecycle table is stale: copy the overview from "
        "docs/generated/connection-lifecycle.table.md"
    )
