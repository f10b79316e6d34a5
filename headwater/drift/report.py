"""``DriftReport``: what one comparison of a baseline with a target found, as plain JSON-safe data."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["REPORT_VERSION", "DriftReport"]

REPORT_VERSION = 1

# SDK v1's metric names (azureml.datadrift: get_output's ``metrics``, the run's metrics)
COEFFICIENT = "datadrift_coefficient"
CONTRIBUTION = "datadrift_contribution"
WASSERSTEIN = "wasserstein_distance"
ENERGY = "energy_distance"
EUCLIDEAN = "euclidean_distance"


def _json_safe(value: Any) -> Any:
    """``value`` with numpy scalars as Python numbers, tuples as lists and NaN/inf as ``None``."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    item = getattr(value, "item", None)  # a numpy scalar
    if callable(item):
        return _json_safe(item())
    return str(value)


@dataclass(frozen=True)
class DriftReport:
    """The result of :func:`headwater.drift.compute_drift`.

    - ``magnitude``: the data drift magnitude, 0-100 (%): how well a classifier tells baseline rows from
      target rows (SDK v1's ``datadrift_coefficient`` x 100; see :attr:`coefficient`).
    - ``contributions``: feature → its share of the magnitude in percentage points (they add up to
      ``magnitude``), sorted descending.
    - ``numeric``: feature → ``wasserstein_distance``, ``energy_distance``, ``baseline_mean``,
      ``target_mean``, ``baseline_min``, ``target_min``, ``baseline_max``, ``target_max``,
      ``baseline_missing``, ``target_missing`` (fractions of missing values).
    - ``categorical``: feature → ``euclidean_distance``, ``baseline_unique``, ``target_unique``.
    - ``distributions``: feature → for plots. Numeric: ``{"kind": "numeric", "edges": [...],
      "baseline": [counts], "target": [counts]}`` (shared bin edges). Categorical: ``{"kind":
      "categorical", "values": [...], "baseline": [frequencies], "target": [frequencies], "other":
      [baseline, target]}`` (the most frequent values; ``None`` stands for missing; ``other`` is the
      frequency of the values not listed).
    - ``dropped``: column → why it was not compared.
    - ``baseline_rows``, ``target_rows``: the rows compared; ``features``: the features used, in order.
    - ``classifier``: how the magnitude was measured (model, rows sampled per side, MCC on the held-out
      half, train half and all sampled rows, ROC AUC).
    """

    magnitude: float
    contributions: dict[str, float]
    numeric: dict[str, dict[str, Any]]
    categorical: dict[str, dict[str, Any]]
    distributions: dict[str, dict[str, Any]]
    dropped: dict[str, str]
    baseline_rows: int
    target_rows: int
    features: tuple[str, ...]
    classifier: dict[str, Any] = field(default_factory=dict)

    @property
    def coefficient(self) -> float:
        """SDK v1's ``datadrift_coefficient``: the magnitude as a fraction, 0-1 (what a threshold compares)."""
        return self.magnitude / 100.0

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-safe data with stable keys (``json.dumps`` takes it as it is)."""
        return _json_safe(
            {
                "version": REPORT_VERSION,
                "magnitude": self.magnitude,
                "baseline_rows": self.baseline_rows,
                "target_rows": self.target_rows,
                "features": list(self.features),
                "contributions": self.contributions,
                "numeric": self.numeric,
                "categorical": self.categorical,
                "distributions": self.distributions,
                "dropped": self.dropped,
                "classifier": self.classifier,
            }
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftReport:
        """The report :meth:`to_dict` wrote (also after a JSON round trip)."""
        contributions = {str(k): float(v) for k, v in data["contributions"].items()}
        return cls(
            magnitude=float(data["magnitude"]),
            contributions=dict(sorted(contributions.items(), key=lambda kv: (-kv[1], kv[0]))),
            numeric={str(k): dict(v) for k, v in data["numeric"].items()},
            categorical={str(k): dict(v) for k, v in data["categorical"].items()},
            distributions={str(k): dict(v) for k, v in data["distributions"].items()},
            dropped={str(k): str(v) for k, v in data.get("dropped", {}).items()},
            baseline_rows=int(data["baseline_rows"]),
            target_rows=int(data["target_rows"]),
            features=tuple(str(f) for f in data["features"]),
            classifier=dict(data.get("classifier", {})),
        )

    def sdk_v1_metrics(self) -> dict[str, list[dict[str, Any]]]:
        """The metrics in SDK v1's ``get_output`` shape: ``dataset_metrics`` and ``column_metrics``.

        ``{"dataset_metrics": [{"name": "datadrift_coefficient", "value": 0.53}], "column_metrics":
        [{"feature": [{"name": "datadrift_contribution", "value": ...}, {"name": "wasserstein_distance",
        ...}, {"name": "energy_distance", ...}]}]}`` (categorical features: ``euclidean_distance``).
        """
        columns: list[dict[str, Any]] = []
        for feature in self.features:
            entries = [{"name": CONTRIBUTION, "value": self.contributions.get(feature, 0.0)}]
            if feature in self.numeric:
                stats = self.numeric[feature]
                entries += [
                    {"name": WASSERSTEIN, "value": stats[WASSERSTEIN]},
                    {"name": ENERGY, "value": stats[ENERGY]},
                ]
            elif feature in self.categorical:
                entries.append({"name": EUCLIDEAN, "value": self.categorical[feature][EUCLIDEAN]})
            columns.append({feature: entries})
        return _json_safe(
            {"dataset_metrics": [{"name": COEFFICIENT, "value": self.coefficient}], "column_metrics": columns}
        )
