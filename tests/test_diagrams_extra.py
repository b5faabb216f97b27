"""
The client needs no part of the C{httpchart[diagrams]} extra: without its
packages the client imports, and the diagrams command says in one line which
extra to install and exits with status 2.  Each run is a separate Python
whose imports of the extra's packages fail, as they do where it is not
installed (tests/test_packaging.py also checks a real install without it).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from httpchart.diagrams.extra import EXTRA_MODULES, DiagramsExtraMissing, extra_missing

INSTALL = "pip install 'httpchart[diagrams]'"


def without_extra(code: str) -> subprocess.CompletedProcess[str]:
    """
    Run C{code} in a Python where importing the extra's packages fails.
    """
    block = "".join(f"sys.modules[{name!r}] = None\n" for name in sorted(EXTRA_MODULES))
    return subprocess.run(
        [sys.executable, "-c", f"import sys\n{block}{code}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_client_imports_without_the_extra() -> None:
    finished = without_extra(
        "import httpchart.protocol, httpchart.statechart\n"
        "from httpchart.protocol import HTTP11ClientProtocol\n"
        "print(HTTP11ClientProtocol.__name__)\n"
    )
    assert (finished.returncode, finished.stderr) == (0, "")
    assert finished.stdout == "HTTP11ClientProtocol\n"


def test_client_does_not_load_the_extra_even_where_it_is_installed() -> None:
    finished = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, httpchart.protocol, httpchart.protocol.cli\n"
            "print(sorted(name for name in sys.modules if name in {'graphviz', 'pydot'}))\n",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (finished.returncode, finished.stdout) == (0, "[]\n"), finished.stderr


@pytest.mark.parametrize(
    ("run", "prog"),
    [
        (
            "import runpy\nrunpy.run_module('httpchart.diagrams', run_name='__main__', "
            "alter_sys=True)",
            "python -m httpchart.diagrams",
        ),
        (
            "from httpchart.protocol.cli import main\nsys.exit(main(sys.argv[1:]))",
            "httpchart diagrams",
        ),
    ],
)
@pytest.mark.parametrize("arguments", [["--format", "md"], ["--help"], ["--format", "gif"]])
def test_diagrams_command_names_the_extra_in_one_line(
    run: str, prog: str, arguments: list[str]
) -> None:
    if prog == "httpchart diagrams":
        arguments = ["diagrams", *arguments]
    finished = without_extra(f"sys.argv[1:] = {arguments!r}\n{run}\n")
    assert finished.returncode == 2
    assert finished.stdout == ""
    (line,) = finished.stderr.splitlines()
    assert line.startswith(f"{prog}: rendering diagrams needs the httpchart[diagrams] extra")
    assert line.endswith(INSTALL)


def test_renderers_raise_an_import_error_naming_the_extra() -> None:
    finished = without_extra(
        "import httpchart.diagrams\n"
        "try:\n"
        "    from httpchart.diagrams import render\n"
        "except ImportError as error:\n"
        "    print(type(error).__name__, error)\n"
        "print(hasattr(httpchart.diagrams, '__wrapped__'))\n"
    )
    assert (finished.returncode, finished.stderr) == (0, "")
    refused, introspected = finished.stdout.splitlines()
    assert refused.startswith("DiagramsExtraMissing rendering diagrams needs the")
    assert refused.endswith(INSTALL)
    assert introspected == "False"


def test_a_missing_module_outside_the_extra_is_not_called_a_missing_extra() -> None:
    broken = ModuleNotFoundError("No module named 'zope'", name="zope")
    with pytest.raises(ModuleNotFoundError) as raised:
        extra_missing(broken)
    assert raised.value is broken
    assert not isinstance(raised.value, DiagramsExtraMissing)


def test_a_missing_package_of_the_extra_is_named() -> None:
    missing = extra_missing(ModuleNotFoundError("No module named 'pydot.core'", name="pydot.core"))
    assert missing.name == "pydot"
    assert str(missing) == (
        "rendering diagrams needs the httpchart[diagrams] extra (pydot is not installed): "
        + INSTALL
    )
