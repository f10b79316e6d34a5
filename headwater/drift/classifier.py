"""The data drift magnitude: how well a classifier tells baseline rows from target rows.

SDK v1 (azureml-datadrift) trained a gradient-boosted classifier to separate the two datasets on one
stratified half of the rows and took the Matthews correlation coefficient (MCC) of its predictions on
the other half as ``datadrift_coefficient`` (0: indistinguishable, 1: perfectly separable); each
feature's contribution came from the classifier's feature importances. Headwater does the same with
scikit-learn:

- Sample: up to :data:`SAMPLE_ROWS` rows from each side, drawn without replacement with
  ``numpy.random.default_rng(random_state)`` (equal numbers, so the classes are balanced and the
  0.5 decision threshold is the natural one), split into halves stratified by side
  (``train_test_split(stratify=..., random_state=...)``).
- Model: ``HistGradientBoostingClassifier`` (native missing values and categorical features), 50
  iterations, no early stopping, one OpenMP thread (see :data:`THREADS`).
- Magnitude = max(0, MCC on the held-out half) x 100.
- Contributions: permutation importance on (up to :data:`IMPORTANCE_ROWS` rows of) the held-out half
  (the drop in ROC AUC when one feature's values are shuffled, ``n_repeats`` = :data:`REPEATS`),
  negative ones taken as 0; the magnitude is split among the features in proportion, so the
  contributions add up to the magnitude.

With a small side (a 60-row period) the sample is small too (60 rows from each side), so its
magnitude is noisier: the same trade SDK v1's minimum of 50 rows accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = ["REPEATS", "SAMPLE_ROWS", "Separation", "sample_rows", "separate"]

SAMPLE_ROWS = 10_000  # rows drawn from each side for the classifier
REPEATS = 2  # permutation-importance repeats per feature ...
IMPORTANCE_ROWS = 4000  # ... on at most this many of the held-out rows
MAX_ITER = 50  # boosting iterations
# OpenMP threads for the classifier: on a sample this small, more threads gain little on a quiet
# machine and lose badly on a busy one (spinning threads that wait for each other: 40x slower
# measured with 2 threads on a 2-core machine at load 8).
THREADS = 1
# ... but the permutations are scored on JOBS threads (joblib's threading backend: no processes to
# start; the trees' predictions release the GIL), each with its single OpenMP thread.
JOBS = 2


@dataclass(frozen=True)
class Separation:
    magnitude: float
    contributions: dict[str, float]
    details: dict[str, Any]


def sample_rows(baseline_rows: int, target_rows: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """The (sorted) row positions drawn from each side: the same number from both, at most SAMPLE_ROWS."""
    import numpy as np

    rng = np.random.default_rng(random_state)
    n = min(baseline_rows, target_rows, SAMPLE_ROWS)
    b = np.sort(rng.choice(baseline_rows, size=n, replace=False))
    t = np.sort(rng.choice(target_rows, size=n, replace=False))
    return b, t


def separate(
    names: list[str], baseline: np.ndarray, target: np.ndarray, categorical: list[bool], random_state: int
) -> Separation:
    """Train on half of the sampled rows, measure on the other half.

    ``baseline``/``target`` are the sampled rows as float matrices (columns in ``names`` order; NaN:
    missing; categorical columns hold codes 0..k-1).
    """
    import numpy as np
    from joblib import parallel_config
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import matthews_corrcoef, roc_auc_score
    from sklearn.model_selection import train_test_split
    from threadpoolctl import threadpool_limits

    x = np.concatenate([baseline, target])
    y = np.concatenate([np.zeros(len(baseline), dtype=np.int8), np.ones(len(target), dtype=np.int8)])
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.5, stratify=y, random_state=random_state, shuffle=True
    )
    model = HistGradientBoostingClassifier(
        max_iter=MAX_ITER,
        categorical_features=np.asarray(categorical, dtype=bool) if any(categorical) else None,
        early_stopping=False,
        random_state=random_state,
    )
    with threadpool_limits(limits=THREADS, user_api="openmp"), parallel_config("threading", n_jobs=JOBS):
        model.fit(x_train, y_train)
        proba_test = model.predict_proba(x_test)[:, 1]
        proba_train = model.predict_proba(x_train)[:, 1]
        importance = permutation_importance(
            model,
            x_test[:IMPORTANCE_ROWS],  # already shuffled, both sides in proportion
            y_test[:IMPORTANCE_ROWS],
            scoring="roc_auc",
            n_repeats=REPEATS,
            random_state=random_state,
            n_jobs=JOBS,
        ).importances_mean
    mcc_test = float(matthews_corrcoef(y_test, proba_test >= 0.5))
    mcc_train = float(matthews_corrcoef(y_train, proba_train >= 0.5))
    mcc_all = float(
        matthews_corrcoef(np.concatenate([y_test, y_train]), np.concatenate([proba_test, proba_train]) >= 0.5)
    )
    auc = float(roc_auc_score(y_test, proba_test))
    magnitude = max(0.0, mcc_test) * 100.0
    weights = np.clip(np.nan_to_num(importance), 0.0, None)
    total = float(weights.sum())
    shares = weights / total if total > 0 else np.zeros(len(names))
    contributions = {name: float(magnitude * share) for name, share in zip(names, shares, strict=True)}
    details = {
        "model": "sklearn.ensemble.HistGradientBoostingClassifier",
        "sampled_rows_per_side": len(baseline),
        "mcc_test": mcc_test,
        "mcc_train": mcc_train,
        "mcc_all": mcc_all,
        "roc_auc_test": auc,
        "importance": "permutation, ROC AUC decrease on the held-out half",
        "permutation_importance": {n: float(v) for n, v in zip(names, importance, strict=True)},
    }
    return Separation(magnitude, contributions, details)
