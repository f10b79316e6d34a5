"""Inside a step process: ``Run.get_context()`` and the events a step writes for the orchestrator.

Stdlib only, with no third-party import anywhere, not even a lazy one: the executor puts this
package on a step's ``PYTHONPATH``, so it must work in any Python environment and import in a
few milliseconds. It never opens the metadata database; the one bridge into the SDK
(``run.experiment.workspace``, direct-mode input datasets) is :mod:`headwater.runtime._bridge`,
loaded only when a script asks for those. The contract with the executor (the context file, the
events file) is documented in :mod:`headwater.runtime.context`.
"""

from __future__ import annotations

from headwater.runtime.run import Run, RunEnvironmentException

__all__ = ["Run", "RunEnvironmentException"]
