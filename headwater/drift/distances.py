"""Per-feature statistics: scipy's distances, summary values, and the distributions a plot needs.

Numeric features: ``scipy.stats.wasserstein_distance`` and ``energy_distance`` between the baseline's
and the target's distributions (missing values left out; see :func:`numeric_stats`), mean, min, max
and the share missing; a histogram of both sides over shared bin edges. Categorical features: the Euclidean distance
(``scipy.spatial.distance.euclidean``) between the two sides' value frequencies (missing counted as a
value of its own), the distinct-value counts, and the most frequent values' frequencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "BINS",
    "TOP_VALUES",
    "Encoded",
    "categorical_stats",
    "encode_categorical",
    "numeric_stats",
    "numeric_values",
]

BINS = 20  # histogram bins of a numeric feature's distribution (for plots)
FINE_BINS = 205 * BINS  # bins of the distributions the distances are computed between (4,100)
TOP_VALUES = 20  # values listed in a categorical feature's distribution (the rest is "other")


def numeric_values(column: pd.Series) -> np.ndarray:
    """``column`` as float64 with NaN for missing (nullable integers included)."""
    import numpy as np

    return column.to_numpy(dtype=np.float64, na_value=np.nan)


def _integers(values: np.ndarray) -> bool:
    """Whether every value is a whole number (a first look at 1,000 of them settles most float columns)."""
    import numpy as np

    head = values[:1000]
    if not bool(np.all(np.mod(head, 1) == 0)):
        return False
    return bool(np.all(np.mod(values, 1) == 0))


def _binned(b: np.ndarray, t: np.ndarray, low: float, high: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bin centres, baseline counts, target counts) over shared bins: one per integer when the values are
    integers spanning at most FINE_BINS (exact), else FINE_BINS equal-width bins over [low, high]."""
    import numpy as np

    integers = high - low <= FINE_BINS and _integers(t) and _integers(b)
    if integers:
        centres = np.arange(low, high + 1)
        edges = np.append(centres - 0.5, high + 0.5)
    else:
        edges = np.histogram_bin_edges(b[:0], bins=FINE_BINS, range=(low, high))
        centres = (edges[:-1] + edges[1:]) / 2
    return centres, np.histogram(b, bins=edges)[0], np.histogram(t, bins=edges)[0]


def numeric_stats(baseline: np.ndarray, target: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
    """(statistics, distribution) of one numeric feature given both sides' float values (NaN: missing).

    As SDK v1 did, the distances are scipy's, between the two sides' binned distributions (bin centres
    weighted by counts) over shared edges: one pass over the values instead of sorting them. Integer
    values spanning at most FINE_BINS get a bin each (exact); other values FINE_BINS equal-width bins,
    which moves each value by at most half a bin width (1/8,200 of the range).
    """
    import numpy as np
    from scipy.stats import energy_distance, wasserstein_distance

    b = baseline[~np.isnan(baseline)]
    t = target[~np.isnan(target)]
    low = float(min(b.min(), t.min()))
    high = float(max(b.max(), t.max()))
    centres, b_fine, t_fine = _binned(b, t, low, high)
    keep = (b_fine + t_fine) > 0
    centres, b_fine, t_fine = centres[keep], b_fine[keep], t_fine[keep]
    stats: dict[str, Any] = {
        "wasserstein_distance": float(wasserstein_distance(centres, centres, b_fine, t_fine)),
        "energy_distance": float(energy_distance(centres, centres, b_fine, t_fine)),
        "baseline_mean": float(b.mean()),
        "target_mean": float(t.mean()),
        "baseline_min": float(b.min()),
        "target_min": float(t.min()),
        "baseline_max": float(b.max()),
        "target_max": float(t.max()),
        "baseline_missing": 1.0 - len(b) / len(baseline),
        "target_missing": 1.0 - len(t) / len(target),
    }
    edges = np.histogram_bin_edges(b[:0], bins=BINS, range=(low, high))
    # the fine bins regrouped into the coarse ones (each fine bin lies inside one, or holds one integer value):
    # the same counts as a histogram of the values, without another pass over them
    distribution = {
        "kind": "numeric",
        "edges": edges.tolist(),
        "baseline": np.histogram(centres, bins=edges, weights=b_fine)[0].astype(np.int64).tolist(),
        "target": np.histogram(centres, bins=edges, weights=t_fine)[0].astype(np.int64).tolist(),
    }
    return stats, distribution


@dataclass(frozen=True)
class Encoded:
    """A categorical feature as integer codes over the values both sides share (-1: missing)."""

    values: list[Any]  # code -> value
    baseline: np.ndarray
    target: np.ndarray


def encode_categorical(baseline: pd.Series, target: pd.Series) -> Encoded:
    """Both sides' codes over the union of their values, ordered by the values' text (deterministic)."""
    import pandas as pd

    b = baseline.astype("category")
    t = target.astype("category")
    values = sorted(set(b.cat.categories) | set(t.cat.categories), key=lambda v: (str(type(v)), str(v)))
    categories = pd.Index(values, dtype=object)
    b_codes = b.cat.set_categories(categories).cat.codes.to_numpy()
    t_codes = t.cat.set_categories(categories).cat.codes.to_numpy()
    return Encoded(values, b_codes, t_codes)


def categorical_stats(encoded: Encoded) -> tuple[dict[str, Any], dict[str, Any]]:
    """(statistics, distribution) of one categorical feature."""
    import numpy as np
    from scipy.spatial.distance import euclidean

    size = len(encoded.values) + 1  # slot 0: missing
    b_counts = np.bincount(encoded.baseline.astype(np.int64) + 1, minlength=size)
    t_counts = np.bincount(encoded.target.astype(np.int64) + 1, minlength=size)
    b_freq = b_counts / max(1, b_counts.sum())
    t_freq = t_counts / max(1, t_counts.sum())
    stats = {
        "euclidean_distance": float(euclidean(b_freq, t_freq)),
        "baseline_unique": int(np.count_nonzero(b_counts[1:])),
        "target_unique": int(np.count_nonzero(t_counts[1:])),
        "baseline_missing": float(b_freq[0]),
        "target_missing": float(t_freq[0]),
    }
    labels: list[Any] = [None, *encoded.values]
    order = sorted(range(size), key=lambda i: (-(b_counts[i] + t_counts[i]), i))
    shown = [i for i in order[:TOP_VALUES] if b_counts[i] + t_counts[i] > 0]
    distribution = {
        "kind": "categorical",
        "values": [labels[i] for i in shown],
        "baseline": [float(b_freq[i]) for i in shown],
        "target": [float(t_freq[i]) for i in shown],
        "other": [float(1.0 - b_freq[shown].sum()), float(1.0 - t_freq[shown].sum())],
    }
    return stats, distribution
