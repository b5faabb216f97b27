"""
Twisted's own tests of its HTTP/1.1 client protocol and its response, run
against httpchart's.

The test classes are imported from the installed C{twisted} package, never
copied.  Before each test the module-level names their methods use,
C{HTTP11ClientProtocol} and C{Response}, are rebound to httpchart's classes
(the protocol on the compiled or the reference engine), and restored
afterwards.
"""

from __future__ import annotations

import unittest
from typing import Any

import pytest
from twisted.web.test import test_newclient as twisted_tests

from httpchart.protocol import HTTP11ClientProtocol, Response

# Tests that reach into a private attribute httpchart's design does not have,
# each with the reason.  Keep this short.
PRIVATE_ATTRIBUTE_TESTS = {
    "test_proxyStopped": (
        "calls Twisted's private _disconnectParser directly, outside any "
        "transition; httpchart's equivalent is the chart's disconnect_parser "
        "effect, and tests/test_protocol_table.py checks that it stops the "
        "transport proxy"
    ),
}


# Tests that pin a behaviour of Twisted's that httpchart improves on purpose
# (see docs/differences.md); each is run, and must fail, in
# test_deliberate_differences_really_differ.
DELIBERATE_DIFFERENCES = {
    "test_receiveResponseHeadersTooLong": (
        "Twisted drops the connection when a header line is too long, so the "
        "response fails with a bare ConnectionDone; httpchart fails it with "
        "HeadTooLarge, which says what went wrong"
    ),
}


RUNNING_DIFFERENCES = False


class ReferenceEngineProtocol(HTTP11ClientProtocol):
    """
    httpchart's protocol on python-statemachine's own engine.
    """

    engine = "reference"


def _against(suite: type[Any], **names: type[Any]) -> type[Any]:
    class Conformance(suite):  # type: ignore[misc, valid-type]
        def setUp(self) -> None:
            if self._testMethodName in PRIVATE_ATTRIBUTE_TESTS:
                pytest.skip(PRIVATE_ATTRIBUTE_TESTS[self._testMethodName])
            if self._testMethodName in DELIBERATE_DIFFERENCES and not RUNNING_DIFFERENCES:
                pytest.skip(DELIBERATE_DIFFERENCES[self._testMethodName])
            for name, replacement in names.items():
                self.addCleanup(setattr, twisted_tests, name, getattr(twisted_tests, name))
                setattr(twisted_tests, name, replacement)
            super().setUp()

    return Conformance


class TestTwistedSuiteOnCompiledEngine(
    _against(
        twisted_tests.HTTP11ClientProtocolTests,
        HTTP11ClientProtocol=HTTP11ClientProtocol,
        Response=Response,
    )
):
    """
    Twisted's HTTP11ClientProtocolTests, on the compiled engine.
    """


class TestTwistedSuiteOnReferenceEngine(
    _against(
        twisted_tests.HTTP11ClientProtocolTests,
        HTTP11ClientProtocol=ReferenceEngineProtocol,
        Response=Response,
    )
):
    """
    Twisted's HTTP11ClientProtocolTests, on python-statemachine's engine.
    """


class TestTwistedResponseSuite(_against(twisted_tests.ResponseTests, Response=Response)):
    """
    Twisted's ResponseTests, on httpchart's Response.
    """


def test_every_listed_exception_names_a_real_twisted_test() -> None:
    for name in {**PRIVATE_ATTRIBUTE_TESTS, **DELIBERATE_DIFFERENCES}:
        assert callable(getattr(twisted_tests.HTTP11ClientProtocolTests, name))


@pytest.mark.parametrize("name", sorted(DELIBERATE_DIFFERENCES))
def test_deliberate_differences_really_differ(name: str) -> None:
    global RUNNING_DIFFERENCES
    result = unittest.TestResult()
    RUNNING_DIFFERENCES = True
    try:
        TestTwistedSuiteOnCompiledEngine(name).run(result)
    finally:
        RUNNING_DIFFERENCES = False
    assert result.testsRun == 1
    assert len(result.failures) + len(result.errors) == 1
