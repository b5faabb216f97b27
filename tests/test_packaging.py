"""
The distributions build, pass twine's checks, and the wheel installs clean.

C{python -m build} makes the source distribution and, from it, the wheel
(with the setuptools of this environment: no download).  The wheel holds
only C{httpchart.statechart}, C{httpchart.protocol} and C{httpchart.diagrams}
under a namespace, with their C{py.typed}, and nothing at the top level.  It
is installed into a new virtual environment that sees this environment's
packages except httpchart itself and the C{diagrams} extra's: there the
console script runs, the client imports and runs, and the diagrams command
names the extra to install.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from httpchart.diagrams.extra import EXTRA_MODULES

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("statechart", "protocol", "diagrams")
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def _run(*command: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """
    Run C{command} away from the source tree, so that nothing imports from it.
    """
    return subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=tempfile.gettempdir(),
        env={name: value for name, value in os.environ.items() if name != "PYTHONPATH"},
    )


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """
    A folder with the source distribution and the wheel built from it.
    """
    out = tmp_path_factory.mktemp("dist")
    built = _run(
        sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT, timeout=300
    )
    assert built.returncode == 0, built.stdout + built.stderr
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (found,) = dist.glob("httpchart-*.whl")
    return found


@pytest.fixture(scope="module")
def sdist(dist: Path) -> Path:
    (found,) = dist.glob("httpchart-*.tar.gz")
    return found


def _linked(name: str) -> bool:
    """
    Whether the entry C{name} of this environment's packages is linked into
    the new environment: anything but httpchart's editable install, the
    packages of the C{diagrams} extra, and C{.pth} files.
    """
    project = re.split(r"[-.]", name, maxsplit=1)[0].lower()
    return not (
        project in {"httpchart", *EXTRA_MODULES}
        or name.startswith("__editable__")
        or name.endswith(".pth")
    )


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """
    A new virtual environment with the wheel installed and without the
    C{diagrams} extra.  The wheel's dependencies come from this environment
    (no download), through a farm of links to its installed packages that
    leaves out httpchart's editable install and the extra's packages.
    """
    where = tmp_path_factory.mktemp("venv")
    made = _run(sys.executable, "-m", "venv", "--without-pip", where / "env")
    assert made.returncode == 0, made.stderr
    python = where / "env" / "bin" / "python"
    farm = where / "dependencies"
    farm.mkdir()
    installed = Path(sysconfig.get_paths()["purelib"])
    for entry in installed.iterdir():
        if _linked(entry.name):
            (farm / entry.name).symlink_to(entry)
    site = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    (Path(site.stdout.strip()) / "dependencies.pth").write_text(f"{farm}\n")
    added = _run(
        sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel
    )
    assert added.returncode == 0, added.stderr
    return where / "env" / "bin"


def test_twine_accepts_the_wheel_and_the_source_distribution(wheel: Path, sdist: Path) -> None:
    checked = _run(sys.executable, "-m", "twine", "check", "--strict", wheel, sdist)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2


def test_wheel_holds_only_the_httpchart_packages(wheel: Path) -> None:
    assert wheel.name == f"httpchart-{VERSION}-py3-none-any.whl"
    names = zipfile.ZipFile(wheel).namelist()
    info = f"httpchart-{VERSION}.dist-info"
    shipped = sorted(name for name in names if not name.startswith(f"{info}/"))
    expected = sorted(
        f"httpchart/{package}/{source.name}"
        for package in PACKAGES
        for source in (ROOT / package).iterdir()
        if source.suffix == ".py" or source.name == "py.typed"
    )
    assert shipped == expected
    for package in PACKAGES:
        assert f"httpchart/{package}/py.typed" in names
    assert not any(re.search(r"(^|/)(tests?|bench|localservers)(/|$)", name) for name in names)
    assert f"{info}/licenses/LICENSE" in names
    entry_points = zipfile.ZipFile(wheel).read(f"{info}/entry_points.txt").decode()
    assert "httpchart = httpchart.protocol.cli:main" in entry_points


def test_wheel_requires_only_the_client_s_packages_unless_the_extra_is_asked(
    wheel: Path,
) -> None:
    metadata = zipfile.ZipFile(wheel).read(f"httpchart-{VERSION}.dist-info/METADATA").decode()
    requires = [
        line.split(": ", 1)[1]
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist: ")
    ]
    always = sorted(re.split(r"[<>=\[ ]", line)[0] for line in requires if "extra ==" not in line)
    assert always == ["Twisted", "httptools", "python-statemachine"]
    diagrams = sorted(
        re.split(r"[<>=\[ ]", line)[0] for line in requires if 'extra == "diagrams"' in line
    )
    assert diagrams == ["graphviz", "pydot", "python-statemachine"]


def test_source_distribution_holds_what_a_user_and_a_packager_read(sdist: Path) -> None:
    top = f"httpchart-{VERSION}"
    with tarfile.open(sdist) as archive:
        names = {name.removeprefix(f"{top}/") for name in archive.getnames()}
        info = archive.extractfile(f"{top}/PKG-INFO")
        assert info is not None
        assert f"\nVersion: {VERSION}\n" in info.read().decode()
    assert {"README.md", "CHANGELOG.md", "LICENSE", "pyproject.toml", "PKG-INFO"} <= names
    assert {f"{package}/py.typed" for package in PACKAGES} <= names
    assert {"tests/test_packaging.py", "docs/conf.py", "docs/index.md"} <= names
    # The tests run from the source distribution: their shared helpers, their
    # tables and the real servers they start come with them.
    assert {
        "tests/support/rig.py",
        "tests/tables/transition_table.py",
        "localservers/servers.py",
        "localservers/tinyproxy.py",
    } <= names
    assert not any(name.startswith(("bench/", ".ci/")) or "__pycache__" in name for name in names)


def test_license_file_is_the_mit_license_the_metadata_names() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert "the httpchart developers" in text


def test_changelog_has_the_current_version_and_what_is_unreleased() -> None:
    headings = re.findall(r"^## (.+)$", (ROOT / "CHANGELOG.md").read_text(), re.MULTILINE)
    assert headings[0] == "Unreleased"
    assert VERSION in headings


def test_installed_wheel_has_every_requirement_it_declares_without_the_extra(
    venv: Path,
) -> None:
    checked = _run(sys.executable, "-m", "pip", "--python", venv / "python", "check")
    assert (checked.returncode, checked.stdout) == (0, "No broken requirements found.\n")


def test_console_script_runs_from_the_installed_wheel(venv: Path) -> None:
    version = _run(venv / "httpchart", "--version")
    assert (version.returncode, version.stdout, version.stderr) == (0, f"httpchart {VERSION}\n", "")
    helped = _run(venv / "httpchart", "--help")
    assert helped.returncode == 0, helped.stderr
    for command in ("get", "demo", "diagrams"):
        assert command in helped.stdout


def test_client_imports_from_the_wheel_without_the_extra(venv: Path) -> None:
    imported = _run(
        venv / "python",
        "-c",
        "import importlib.util, httpchart.protocol, httpchart.statechart\n"
        "print(httpchart.protocol.__file__)\n"
        "print([name for name in ('graphviz', 'pydot') if importlib.util.find_spec(name)])\n",
    )
    assert imported.returncode == 0, imported.stderr
    where, extra = imported.stdout.splitlines()
    assert Path(where).is_relative_to(venv.parent)
    assert extra == "[]"


def test_client_runs_a_session_from_the_wheel(venv: Path) -> None:
    demo = _run(venv / "httpchart", "demo", timeout=60)
    assert demo.returncode == 0, demo.stderr
    assert "QUIESCENT --issue--> TRANSMITTING" in demo.stdout


@pytest.mark.parametrize(
    ("command", "prog"),
    [
        (["httpchart", "diagrams"], "httpchart diagrams"),
        (["python", "-m", "httpchart.diagrams"], "python -m httpchart.diagrams"),
    ],
)
def test_installed_diagrams_command_names_the_missing_extra(
    venv: Path, command: list[str], prog: str
) -> None:
    refused = _run(venv / command[0], *command[1:], "--format", "md")
    assert (refused.returncode, refused.stdout) == (2, "")
    (line,) = refused.stderr.splitlines()
    assert line.startswith(f"{prog}: rendering diagrams needs the httpchart[diagrams] extra")
    assert line.endswith("is not installed): pip install 'httpchart[diagrams]'")
