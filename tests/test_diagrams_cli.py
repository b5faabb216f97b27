"""
C{python -m httpchart.diagrams}: what it writes, and how it fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from httpchart.diagrams import cli, render
from httpchart.diagrams.outputs import FORMATS, file_name
from httpchart.statechart import CHARTS, ConnectionLifecycle

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ)
    if path is not None:
        environment["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "httpchart.diagrams", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_missing_dot_is_one_line_naming_the_install_command(fmt: str, tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    finished = _run("--format", fmt, "--out", str(tmp_path / "out"), path=str(empty))
    assert finished.returncode == 2
    assert finished.stdout == ""
    (line,) = finished.stderr.splitlines()
    assert "apt-get install graphviz" in line
    assert "brew install graphviz" in line
    assert not (tmp_path / "out").exists()


def test_text_formats_need_no_graphviz(tmp_path: Path) -> None:
    finished = _run("--format", "mermaid", "--chart", "ConnectionLifecycle", path=str(tmp_path))
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.encode() == render(ConnectionLifecycle, "mermaid")


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--format", "gif"], "invalid choice: 'gif'"),
        (["--chart", "NoSuchChart"], "invalid choice: 'NoSuchChart'"),
        (["--format", "png"], "give --out DIR"),
        (["--colour"], "unrecognized arguments: --colour"),
    ],
)
def test_bad_arguments_print_usage_and_exit_2(
    args: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(args)
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("usage: python -m httpchart.diagrams")
    assert complaint in error


def test_bad_arguments_exit_2_from_the_command_line() -> None:
    finished = _run("--format", "gif")
    assert finished.returncode == 2
    assert finished.stderr.startswith("usage:")
    assert "Traceback" not in finished.stderr


def test_out_writes_one_file_per_chart_and_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--format", "dot", "--out", str(tmp_path)]) == 0
    written = sorted(tmp_path.iterdir())
    assert written == sorted(tmp_path / file_name(chart, "dot") for chart in CHARTS)
    assert sorted(capsys.readouterr().out.split()) == [str(path) for path in written]
    for chart in CHARTS:
        assert (tmp_path / file_name(chart, "dot")).read_bytes() == render(chart, "dot")


def test_every_format_can_be_written(tmp_path: Path) -> None:
    for fmt in FORMATS:
        assert (
            cli.main(["--format", fmt, "--chart", "ConnectionLifecycle", "--out", str(tmp_path)])
            == 0
        )
    names = {path.name for path in tmp_path.iterdir()}
    assert names == {file_name(ConnectionLifecycle, fmt) for fmt in FORMATS}


def test_a_chart_named_twice_is_rendered_once(capsys: pytest.CaptureFixture[str]) -> None:
    chart = ["--chart", "ConnectionLifecycle"]
    assert cli.main(["--format", "md", *chart, *chart]) == 0
    assert capsys.readouterr().out == render(ConnectionLifecycle, "md").decode()


def test_a_delegating_command_names_itself_in_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--format", "gif"], prog="httpchart diagrams")
    assert capsys.readouterr().err.startswith("usage: httpchart diagrams")
