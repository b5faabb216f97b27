"""
The renderings committed in docs/generated are what the declarations render
today, and they are well-formed.

The text formats (Markdown table, DOT, Mermaid) are goldens: they must match
byte for byte.  SVG and PNG come out of Graphviz, whose output changes with
its version: they must match byte for byte when the installed Graphviz is the
one that drew the committed SVG (its generator comment says which), and
otherwise the SVG must still have the same nodes, edges and text.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from xml.etree import ElementTree

import pytest

from httpchart.diagrams.images import graphviz_version, svg_generator
from httpchart.diagrams.outputs import FORMATS, file_name, render
from httpchart.statechart import CHARTS, ChartSpec

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "docs" / "generated"
REGENERATE = "run `make diagrams`"
TEXT_FORMATS = [name for name, output in FORMATS.items() if not output.graphviz]
SVG_NS = "{http://www.w3.org/2000/svg}"


def _committed(chart: type, fmt: str) -> bytes:
    path = GENERATED / file_name(chart, fmt)
    assert path.exists(), f"{path} is missing: {REGENERATE}"
    return path.read_bytes()


@pytest.mark.parametrize("chart", CHARTS, ids=lambda chart: chart.__name__)
@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_committed_text_rendering_matches_the_declaration(chart: type, fmt: str) -> None:
    assert _committed(chart, fmt) == render(chart, fmt), (
        f"docs/generated/{file_name(chart, fmt)} is stale: {REGENERATE}"
    )


def _svg_structure(svg: bytes) -> tuple[list[str], list[str], list[str]]:
    root = ElementTree.fromstring(svg)
    titles: dict[str, list[str]] = {"node": [], "edge": []}
    for group in root.iter(f"{SVG_NS}g"):
        kind = group.get("class")
        if kind in titles:
            titles[kind].append(group.findtext(f"{SVG_NS}title") or "")
    texts = [text.text or "" for text in root.iter(f"{SVG_NS}text")]
    return titles["node"], titles["edge"], texts


@pytest.mark.parametrize("chart", CHARTS, ids=lambda chart: chart.__name__)
def test_committed_svg_matches_the_declaration(chart: type) -> None:
    committed = _committed(chart, "svg")
    fresh = render(chart, "svg")
    stale = f"docs/generated/{file_name(chart, 'svg')} is stale: {REGENERATE}"
    if svg_generator(committed) == graphviz_version():
        assert committed == fresh, stale
    else:
        assert _svg_structure(committed) == _svg_structure(fresh), stale


@pytest.mark.parametrize("chart", CHARTS, ids=lambda chart: chart.__name__)
def test_committed_png_matches_the_declaration(chart: type) -> None:
    committed = _committed(chart, "png")
    fresh = render(chart, "png")
    stale = f"docs/generated/{file_name(chart, 'png')} is stale: {REGENERATE}"
    if svg_generator(_committed(chart, "svg")) == graphviz_version():
        assert committed == fresh, stale
    else:
        (width, height), (fresh_width, fresh_height) = _png_size(committed), _png_size(fresh)
        assert abs(width - fresh_width) <= fresh_width // 5, stale
        assert abs(height - fresh_height) <= fresh_height // 5, stale


@pytest.mark.parametrize("chart", CHARTS, ids=lambda chart: chart.__name__)
def test_svg_is_xml_naming_every_state_and_event(chart: type) -> None:
    spec = ChartSpec.of(chart)
    nodes, edges, texts = _svg_structure(_committed(chart, "svg"))
    words = " ".join(texts).replace(",", " ").split()
    assert set(spec.states) <= set(words)
    assert set(spec.events) <= set(words)
    assert len(edges) == 1 + sum(1 for b in spec.all_branches() if not b.internal)
    assert len(nodes) == 1 + len(spec.states)


def _png_size(png: bytes) -> tuple[int, int]:
    """
    Decode C{png} far enough to prove it is whole: signature, chunk CRCs, and
    image data that inflates to exactly one filtered row per line.
    """
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    offset, chunks = 8, []
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind, data = png[offset + 4 : offset + 8], png[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + data) == crc, f"bad CRC in {kind!r}"
        chunks.append((kind, data))
        offset += 12 + length
    assert chunks[0][0] == b"IHDR"
    assert chunks[-1][0] == b"IEND"
    width, height, depth, colour = struct.unpack(">IIBB", chunks[0][1][:10])
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    pixels = zlib.decompress(b"".join(data for kind, data in chunks if kind == b"IDAT"))
    assert len(pixels) == height * (1 + (width * channels * depth + 7) // 8)
    return width, height


@pytest.mark.parametrize("chart", CHARTS, ids=lambda chart: chart.__name__)
def test_png_decodes_to_a_readable_size(chart: type) -> None:
    width, height = _png_size(_committed(chart, "png"))
    assert 600 <= width <= 8000
    assert 200 <= height <= 8000


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
    readme = (ROOT / "README.md").read_text()
    generated = (GENERATED / "connection-lifecycle.table.md").read_text()
    assert _overview_rows(readme) == _overview_rows(generated), (
        "README.md's lifecycle table is stale: copy the overview from "
        "docs/generated/connection-lifecycle.table.md"
    )
