"""
The declared charts of httpchart and the machinery that runs them.

L{ConnectionLifecycle} is the lifecycle of one HTTP/1.1 client connection;
L{HostPool} is what a connection pool does with one key's connections and
waiting requests.
L{ChartSpec.of} reads any chart into plain data, L{CompiledEngine} runs it at
the speed of hand-written dispatch, and L{ReferenceEngine} runs it on
python-statemachine's own engine for comparison; a L{Recorder} passed as a
model's observer keeps the transitions it takes.  L{Charted} is the base of
a model, and L{ChartModel} the interface between the engines and a model.
What httpchart needs of python-statemachine beyond its public API lives in
C{_library}, alone.  Nothing in this package knows about sockets or the
reactor.
"""

from .body import BodyDelivery
from .engines import CompiledEngine, Engine, LifecycleError, Payload, ReferenceEngine
from .lifecycle import ConnectionLifecycle
from .model import Charted, ChartModel
from .parsing import ResponseParsing
from .pool import HostPool
from .recorder import Recorder
from .spec import Branch, ChartDefinitionError, ChartSpec, Guard, TransitionRecord
from .tunnel import TunnelSetup

CHARTS = (ConnectionLifecycle, ResponseParsing, BodyDelivery, TunnelSetup, HostPool)
"""
Every chart httpchart declares; the diagrams and the documentation render
each of them.
"""

__all__ = [
    "CHARTS",
    "BodyDelivery",
    "Branch",
    "ChartDefinitionError",
    "ChartModel",
    "ChartSpec",
    "Charted",
    "CompiledEngine",
    "ConnectionLifecycle",
    "Engine",
    "Guard",
    "HostPool",
    "LifecycleError",
    "Payload",
    "Recorder",
    "ReferenceEngine",
    "ResponseParsing",
    "TransitionRecord",
    "TunnelSetup",
]
