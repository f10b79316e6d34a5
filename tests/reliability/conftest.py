"""Reliability tests (issue #12): crashes, pauses, races, bad input, disk and database faults.

They use real processes and signals. The end-to-end fixtures (``project``, ``proj``, ``pws``) and
helpers (``ran``, ``script``, ``times``) come from :mod:`tests.e2e.conftest`.
"""

from __future__ import annotations

from tests.e2e.conftest import proj, project, pws  # noqa: F401  (fixtures shared with e2e)
