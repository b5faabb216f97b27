"""
The distribution installs httpchart.statechart, httpchart.protocol and
httpchart.diagrams under a namespace, and nothing at the top level.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_installs_only_the_httpchart_namespace(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("httpchart-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert top == {
        "httpchart",
        wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info",
    }
    packages = {"/".join(name.split("/")[:2]) for name in names if name.startswith("httpchart/")}
    assert packages == {"httpchart/statechart", "httpchart/protocol", "httpchart/diagrams"}
    assert "httpchart/__init__.py" not in names
    for package in packages:
        assert f"{package}/py.typed" in names
