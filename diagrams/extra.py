"""
What the diagrams need beyond the client: the C{httpchart[diagrams]} extra.

The client needs Twisted, httptools and python-statemachine only; rendering
needs the packages of the C{diagrams} extra as well.  Without them
C{httpchart.diagrams} still imports, so that its command line can say in one
line what to install, but its renderers raise L{DiagramsExtraMissing}.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

EXTRA = "httpchart[diagrams]"
"""The extra that installs what the diagrams need."""

EXTRA_MODULES = frozenset({"graphviz", "pydot"})
"""The top-level modules the C{diagrams} extra installs and the renderers import."""


class DiagramsExtraMissing(ImportError):
    """
    A package of the C{diagrams} extra is not installed; the message says
    which extra to install.
    """

    def __init__(self, module: str) -> None:
        super().__init__(
            f"rendering diagrams needs the {EXTRA} extra ({module} is not installed): "
            f"pip install '{EXTRA}'",
            name=module,
        )


def extra_missing(error: ModuleNotFoundError) -> DiagramsExtraMissing:
    """
    The L{DiagramsExtraMissing} that C{error} means.

    @raise ModuleNotFoundError: C{error} itself, when the missing module is
        not one that the extra installs: that is a broken installation, not
        a missing extra.
    """
    module = (error.name or "").partition(".")[0]
    if module not in EXTRA_MODULES:
        raise error
    return DiagramsExtraMissing(module)


def unavailable(error: ModuleNotFoundError) -> Callable[[str], NoReturn]:
    """
    A module C{__getattr__} for a package whose renderers could not be
    imported because of C{error}: asking it for any public name raises the
    L{DiagramsExtraMissing} that says what to install (a special name stays
    an C{AttributeError}, for C{hasattr} and introspection).
    """
    missing = extra_missing(error)

    def __getattr__(name: str) -> NoReturn:
        if name.startswith("__"):
            raise AttributeError(name)
        raise DiagramsExtraMissing(str(missing.name)) from error

    return __getattr__
