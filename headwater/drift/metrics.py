"""``compute_drift``: compare a baseline with a target dataset, the way SDK v1's dataset monitors did."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from headwater.drift.errors import MIN_ROWS, DriftDataError, require
from headwater.drift.report import DriftReport

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["compute_drift"]


def _check_rows(baseline: pd.DataFrame, target: pd.DataFrame) -> None:
    import pandas as pd

    for side, frame in (("baseline", baseline), ("target", target)):
        if not isinstance(frame, pd.DataFrame):
            raise DriftDataError(
                f"The {side} must be a pandas DataFrame, not {type(frame).__name__}.",
                side=side,
                hint="Pass dataset.to_pandas_dataframe() for a TabularDataset.",
            )
        if len(frame) < MIN_ROWS:
            raise DriftDataError(
                f"The {side} dataset has {len(frame)} row(s); data drift needs at least {MIN_ROWS} rows "
                "in the baseline and in the target.",
                side=side,
                count=len(frame),
                hint="Choose a longer period or a baseline with more rows."
                if side == "target"
                else "Choose a baseline dataset with more rows.",
            )


def compute_drift(
    baseline: pd.DataFrame,
    target: pd.DataFrame,
    *,
    features: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    random_state: int = 0,
) -> DriftReport:
    """Compare ``target`` with ``baseline`` and say how far it drifted, overall and per feature.

    ``features``: the columns to compare (default: every column both have); ``exclude``: columns never
    compared (e.g. the timestamp column). Which columns count as numeric or categorical and which are
    dropped follows SDK v1 (see :mod:`headwater.drift.columns`); the magnitude and contributions come
    from a classifier (see :mod:`headwater.drift.classifier`); the distances from scipy (see
    :mod:`headwater.drift.distances`). The same inputs and ``random_state`` give the same report.

    Raises :class:`~headwater.drift.errors.DriftDataError` when either side has fewer than 50 rows, the
    two have no feature in common, or every feature is dropped; :class:`~headwater.errors.HeadwaterError`
    when scipy or scikit-learn is missing (``pip install 'headwater[drift]'``).
    """
    require("scipy")
    require("sklearn")
    import numpy as np

    from headwater.drift.classifier import sample_rows, separate
    from headwater.drift.columns import choose_columns
    from headwater.drift.distances import categorical_stats, encode_categorical, numeric_stats, numeric_values

    _check_rows(baseline, target)
    if isinstance(features, str):
        features = [features]
    columns = choose_columns(baseline, target, features, [exclude] if isinstance(exclude, str) else exclude)
    b_rows, t_rows = sample_rows(len(baseline), len(target), random_state)
    b_matrix = np.empty((len(b_rows), len(columns.features)), dtype=np.float64)
    t_matrix = np.empty((len(t_rows), len(columns.features)), dtype=np.float64)
    numeric: dict[str, dict[str, Any]] = {}
    categorical: dict[str, dict[str, Any]] = {}
    distributions: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(columns.numeric):
        b, t = numeric_values(baseline[name]), numeric_values(target[name])
        numeric[name], distributions[name] = numeric_stats(b, t)
        b_matrix[:, i], t_matrix[:, i] = b[b_rows], t[t_rows]
    for j, name in enumerate(columns.categorical, start=len(columns.numeric)):
        encoded = encode_categorical(baseline[name], target[name])
        categorical[name], distributions[name] = categorical_stats(encoded)
        b_matrix[:, j], t_matrix[:, j] = encoded.baseline[b_rows], encoded.target[t_rows]
    for matrix in (b_matrix, t_matrix):
        codes = matrix[:, len(columns.numeric) :]
        codes[codes < 0] = np.nan  # a missing category is a missing value to the classifier
    is_categorical = [False] * len(columns.numeric) + [True] * len(columns.categorical)
    separation = separate(list(columns.features), b_matrix, t_matrix, is_categorical, random_state)
    ranked = dict(sorted(separation.contributions.items(), key=lambda kv: (-kv[1], kv[0])))
    return DriftReport(
        magnitude=separation.magnitude,
        contributions=ranked,
        numeric=numeric,
        categorical=categorical,
        distributions=distributions,
        dropped=columns.dropped,
        baseline_rows=len(baseline),
        target_rows=len(target),
        features=columns.features,
        classifier=separation.details,
    )
