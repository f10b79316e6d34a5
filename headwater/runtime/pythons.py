"""Which Pythons a step may run on: the runtime's floor, and what Headwater's SDK itself needs.

SDK v1 environments often pin an old Python (``python=3.6``, ``3.7``, ``3.8``). A step's script runs
on the environment's Python with only :mod:`headwater.runtime` and the ``azureml`` names of
:mod:`headwater.compat` on its path, so those are written for :data:`OLDEST_STEP_PYTHON` and
tested on every installed Python from it on; the environment builder never picks an older one
(:func:`headwater.engine.interpreters.choose_interpreter`). The rest of Headwater (the SDK side
that ``Dataset``, ``Workspace`` ... stand for) needs :data:`SDK_PYTHON`, Headwater's own
``requires-python``: on an older step Python those names import, and say so when used.
Stdlib only.
"""

from __future__ import annotations

import sys

__all__ = ["OLDEST_STEP_PYTHON", "SDK_PYTHON", "running", "sdk_available"]

#: The oldest Python a step may run on (the runtime and the step-side ``azureml`` names work there).
OLDEST_STEP_PYTHON = (3, 8)
#: The Python Headwater's SDK needs (``requires-python`` in pyproject.toml; a test keeps them equal).
SDK_PYTHON = (3, 11)


def running() -> str:
    """The running Python's version, ``'3.8.18'``."""
    return "{}.{}.{}".format(*sys.version_info[:3])


def sdk_available() -> bool:
    """Whether the running Python can import Headwater's SDK side."""
    return sys.version_info[:2] >= SDK_PYTHON
