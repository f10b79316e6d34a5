"""The pipeline graph: pure data and functions (stdlib only, no I/O).

Testable with plain objects in microseconds; everything above it (the SDK) builds a
:class:`PipelineSpec`, everything below it (planner, engine) reads one.
"""

from headwater.graph.analysis import dependencies, downstream, producers, topological_order, validate
from headwater.graph.spec import InputSpec, OutputSpec, PipelineSpec, StepSpec

__all__ = [
    "InputSpec",
    "OutputSpec",
    "PipelineSpec",
    "StepSpec",
    "dependencies",
    "downstream",
    "producers",
    "topological_order",
    "validate",
]
