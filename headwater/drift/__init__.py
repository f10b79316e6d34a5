"""Data drift statistics: compare a baseline dataset with a target dataset (SDK v1's dataset monitors).

``compute_drift(baseline, target) -> DriftReport``. scipy and scikit-learn are imported only when
something is computed (``pip install 'headwater[drift]'``); importing this package is cheap.
"""

from __future__ import annotations

from headwater.drift.errors import MIN_ROWS, DriftDataError
from headwater.drift.metrics import compute_drift
from headwater.drift.report import DriftReport

__all__ = ["MIN_ROWS", "DriftDataError", "DriftReport", "compute_drift"]
