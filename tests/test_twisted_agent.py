"""
Twisted's own tests of Agent and HTTPConnectionPool, run with httpchart's
pool and connections.

The classes come from the installed C{twisted} package, never copied.  Before
each test, the names through which those tests and C{twisted.web.client}
reach a pool or a connection (C{HTTPConnectionPool}, C{_HTTP11ClientFactory}
and C{HTTP11ClientProtocol}) are rebound to httpchart's, and restored
afterwards.  Every class runs twice: on the compiled engine and on
python-statemachine's (the connections' charts and the pool's).

L{SELECTED} are the classes of C{test_agent} that build a pool or a
connection; L{test_the_other_classes_reach_no_pool_or_connection} proves
that the selection misses none.  All of them pass unchanged.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from twisted.trial.reporter import TestResult
from twisted.trial.unittest import SynchronousTestCase
from twisted.web import client
from twisted.web.test import test_agent as twisted_tests

from httpchart.protocol import Agent, HTTP11ClientProtocol, HTTPConnectionPool
from httpchart.protocol.pool import HTTP11ClientFactory

SELECTED = (
    "HTTPConnectionPoolTests",
    "HTTPConnectionPoolRetryTests",
    "AgentTests",
    "AgentHTTPSTests",
    "AgentMethodInjectionTests",
    "AgentURIInjectionTests",
    "ProxyAgentTests",
    "CookieAgentTests",
    "ContentDecoderAgentTests",
    "ContentDecoderAgentWithGzipTests",
    "RedirectAgentTests",
    "BrowserLikeRedirectAgentTests",
)


class ReferenceEngineProtocol(HTTP11ClientProtocol):
    """
    httpchart's protocol on python-statemachine's own engine.
    """

    engine = "reference"


def _substitutes(protocol_class: type[HTTP11ClientProtocol]) -> dict[str, Any]:
    class Pool(HTTPConnectionPool):
        protocol = protocol_class
        engine = protocol_class.engine

    return {
        "HTTP11ClientProtocol": protocol_class,
        "HTTPConnectionPool": Pool,
        "_HTTP11ClientFactory": HTTP11ClientFactory,
    }


def _substitute(case: SynchronousTestCase, substitutes: dict[str, Any]) -> None:
    """
    Rebind C{substitutes} in Twisted's client module and its test module for
    the duration of C{case}.
    """
    for name, replacement in substitutes.items():
        modules = [module for module in (client, twisted_tests) if hasattr(module, name)]
        assert modules, f"nothing to substitute for {name}"
        for module in modules:
            case.addCleanup(setattr, module, name, getattr(module, name))
            setattr(module, name, replacement)


def _against(base: type[Any], substitutes: dict[str, Any]) -> type[Any]:
    class Conformance(base):  # type: ignore[misc,valid-type]
        def setUp(self) -> Any:
            _substitute(self, substitutes)
            return super().setUp()

    return Conformance


AGENT_CLASSES = tuple(name for name in SELECTED if "Pool" not in name)


def _conformance_classes() -> dict[str, type[Any]]:
    classes = {}
    for name in AGENT_CLASSES:
        substitutes = {
            "HTTP11ClientProtocol": HTTP11ClientProtocol,
            "HTTPConnectionPool": HTTPConnectionPool,
            "_HTTP11ClientFactory": HTTP11ClientFactory,
            "Agent": Agent,
        }
        conformance = _against(getattr(twisted_tests, name), substitutes)
        conformance.__name__ = conformance.__qualname__ = f"Test{name}OnHttpchartAgent"
        conformance.__doc__ = f"Twisted's {name} with httpchart's Agent and pool."
        classes[conformance.__name__] = conformance
    for name in SELECTED:
        for engine, protocol in (
            ("CompiledEngine", HTTP11ClientProtocol),
            ("ReferenceEngine", ReferenceEngineProtocol),
        ):
            conformance = _against(getattr(twisted_tests, name), _substitutes(protocol))
            conformance.__name__ = conformance.__qualname__ = f"Test{name}On{engine}"
            conformance.__doc__ = f"Twisted's {name} with httpchart's pool, on the {engine}."
            classes[conformance.__name__] = conformance
    return classes


globals().update(_conformance_classes())


def test_the_other_classes_reach_no_pool_or_connection() -> None:
    """
    Run every test class of C{test_agent} outside L{SELECTED} with counting
    substitutes: none of them builds a pool or a connection, so none of them
    says anything about httpchart.
    """
    built: Counter[str] = Counter()

    class CountingProtocol(HTTP11ClientProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            built["connections"] += 1
            super().__init__(*args, **kwargs)

    substitutes = _substitutes(CountingProtocol)

    class CountingPool(substitutes["HTTPConnectionPool"]):  # type: ignore[misc,name-defined]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            built["pools"] += 1
            super().__init__(*args, **kwargs)

    substitutes["HTTPConnectionPool"] = CountingPool
    others = [
        value
        for name, value in vars(twisted_tests).items()
        if isinstance(value, type)
        and issubclass(value, SynchronousTestCase)
        and value.__module__ == twisted_tests.__name__
        and name not in SELECTED
    ]
    ran = 0
    for case_class in others:
        counted = _against(case_class, substitutes)
        result = TestResult()
        for name in dir(case_class):
            if name.startswith("test_"):
                counted(name).run(result)
                ran += 1
        assert result.wasSuccessful(), (case_class.__name__, result.errors, result.failures)
        assert built == Counter(), case_class.__name__
    assert ran > 0
