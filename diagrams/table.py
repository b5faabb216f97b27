"""
A chart's transition table as Markdown, rendered from its declaration.

The page has an overview (one row per state, one column per event, every cell
filled in), then one table per state with each branch's guard, target,
effects and meaning, then what the events, guards and effects mean.  Order
follows the declaration, so regenerating the page after a change to the
chart gives a clean diff.
"""

from __future__ import annotations

from typing import Any

from statemachine import StateChart

from httpchart.statechart import Branch, ChartSpec

IGNORED = "·"
HANDLED = "="
IMPOSSIBLE = "—"


def markdown_table(chart: ChartSpec | type[StateChart[Any]]) -> str:
    """
    Render a chart's transition table as a Markdown page, from its
    L{ChartSpec} (a chart class is read into its spec first).
    """
    spec = chart if isinstance(chart, ChartSpec) else ChartSpec.of(chart)
    short = _abbreviations(spec.states)
    lines = [
        f"<!-- Generated from {spec.module}.{spec.name}; "
        "regenerate with `make diagrams`, do not edit. -->",
        "",
        f"# {spec.name}: transition table",
        "",
        spec.doc,
        "",
        "## Overview",
        "",
        f"Each cell gives where the event leads from the row's state: a state's short "
        f"name, `{HANDLED}` when it is handled without changing state, `{IGNORED}` when "
        f"it is ignored on purpose, `{IMPOSSIBLE}` when it cannot happen there.  "
        "Guarded branches are separated by `/`.",
        "",
        _row(["", *(f"`{event}`" for event in spec.events)]),
        _row(["---"] * (len(spec.events) + 1)),
    ]
    for source in spec.states:
        cells = [" / ".join(_mark(b, short) for b in spec.cell(source, e)) for e in spec.events]
        lines.append(_row([f"**{short[source]}**", *(c or IMPOSSIBLE for c in cells)]))
    lines += ["", "Short names: " + ", ".join(f"{short[s]} = {s}" for s in spec.states) + "."]

    for source in spec.states:
        lines += ["", f"## {source}", "", spec.state_docs[source], ""]
        lines.append(_row(["Event", "Guard", "Target", "Effects", "Meaning"]))
        lines.append(_row(["---"] * 5))
        for event in spec.events:
            branches = spec.cell(source, event)
            if not branches:
                lines.append(_row([f"`{event}`", "", "*cannot happen*", "", ""]))
            for branch in branches:
                lines.append(
                    _row(
                        [
                            f"`{event}`",
                            branch.guard_text,
                            _target(branch),
                            ", ".join(f"`{effect}`" for effect in branch.effects),
                            branch.doc,
                        ]
                    )
                )

    lines += ["", "## Events", "", _row(["Event", "Carries", "Meaning"]), _row(["---"] * 3)]
    for event in spec.events:
        carries = ", ".join(f"`{name}`" for name in spec.payloads[event])
        lines.append(_row([f"`{event}`", carries, spec.event_docs[event]]))
    lines += ["", "## Guards", "", _row(["Guard", "Holds when"]), _row(["---"] * 2)]
    lines += [_row([f"`{name}`", doc]) for name, doc in spec.guard_docs.items()]
    lines += ["", "## Effects", "", _row(["Effect", "Does"]), _row(["---"] * 2)]
    lines += [_row([f"`{name}`", doc]) for name, doc in spec.effect_docs.items()]
    return "\n".join(lines) + "\n"


def _mark(branch: Branch, short: dict[str, str]) -> str:
    if not branch.internal:
        return short[branch.target]
    return HANDLED if branch.effects else IGNORED


def _target(branch: Branch) -> str:
    if not branch.internal:
        return branch.target
    return "stays" if branch.effects else "ignored"


def _abbreviations(states: tuple[str, ...]) -> dict[str, str]:
    short = {state: "".join(word[0] for word in state.split("_")) for state in states}
    if len(set(short.values())) != len(states):
        return {state: state for state in states}
    return short


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
