"""Fixtures of the ops tests: the e2e project folder and workspace."""

from __future__ import annotations

from tests.e2e.conftest import proj, pws  # noqa: F401  (fixtures shared with e2e)
