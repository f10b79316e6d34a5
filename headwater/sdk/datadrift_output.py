"""``DataDriftDetector.get_output`` and ``show``: SDK v1's result shapes and figures.

``get_output`` returns, as ``azureml-datadrift`` 1.62 does for a dataset-based detector::

    results = [{'drift_type': 'DatasetBased',
                'result': [{'has_drift': True, 'drift_threshold': 0.3,
                            'start_date': datetime(2026, 4, 3), 'end_date': datetime(2026, 4, 4),
                            'baseline_dataset_id': '...', 'target_dataset_id': '...'}]}, ...]   # one per period
    metrics = [{'drift_type': 'DatasetBased',
                'metrics': [{'schema_version': '1.0', 'start_date': ..., 'end_date': ...,
                             'baseline_dataset_id': '...', 'target_dataset_id': '...',
                             'dataset_metrics': [{'name': 'datadrift_coefficient', 'value': 0.53}],
                             'column_metrics': [{'feature1': [{'name': 'datadrift_contribution', 'value': ...},
                                                              {'name': 'wasserstein_distance', 'value': ...},
                                                              {'name': 'energy_distance', 'value': ...}, ...]}]},
                            ...]}]                                                          # one entry per period

``datadrift_coefficient`` is the magnitude as a fraction (0-1); ``has_drift`` is ``coefficient >
threshold``. ``show`` draws SDK v1's two panels (magnitude over time, contribution by feature) on
the Agg backend and returns ``{detector name: Figure}``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from headwater.errors import NotFoundError
from headwater.sdk.datadrift_config import DriftArgumentError, check_datetime

if TYPE_CHECKING:
    from headwater.ops.drift_results import PeriodResult
    from headwater.sdk.datadrift import DataDriftDetector

__all__ = ["get_output", "show", "time_range"]

SCHEMA_VERSION = "1.0"
LOOKBACK = 10
_RENAME = {"wasserstein": "wasserstein_distance", "energy": "energy_distance", "euclidean": "euclidean_distance"}


def _shift(frequency: str, when: datetime, periods: int) -> datetime:
    if frequency == "Day":
        return when + timedelta(days=periods)
    if frequency == "Week":
        return when + timedelta(weeks=periods)
    index = when.year * 12 + when.month - 1 + periods
    return when.replace(year=index // 12, month=index % 12 + 1, day=min(when.day, 28))


def time_range(frequency: str, start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """SDK v1's window: both None is the last 10 periods up to today; one of them is 10 periods from it."""
    if start is None and end is None:
        now = datetime.now(UTC)  # SDK v1 works in naive UTC
        end = datetime(now.year, now.month, now.day)
    if start is not None:
        start = check_datetime(start, "start_time")
    if end is not None:
        end = check_datetime(end, "end_time")
    if start is None:
        assert end is not None
        start = _shift(frequency, end, -LOOKBACK)
    if end is None:
        end = _shift(frequency, start, LOOKBACK)
    return start, end


def _results(
    detector: DataDriftDetector, start: datetime | None, end: datetime | None, run_id: str | None, adhoc: bool
) -> list[PeriodResult]:
    from headwater.ops.drift_results import detector_results

    if run_id is not None:
        if start is not None or end is not None:
            raise DriftArgumentError("Either run_id or start_time/end_time should be None.")
        found = [r for r in detector_results(detector.workspace, detector.name, run_id=run_id) if r.report]
        if not found:
            raise NotFoundError(
                "data drift result of run",
                run_id,
                hint="Make sure the run id is one of this detector's runs and that it finished.",
            )
        return found
    lo, hi = time_range(detector.frequency, start, end)
    # a period overlapping [lo, hi] starts at most one period before lo
    every = detector_results(detector.workspace, detector.name, _shift(detector.frequency, lo, -1), hi)
    picked = [
        r
        for r in every
        if r.report is not None
        and (adhoc or r.run_type != "run")
        and (lo <= r.target_date <= hi or lo <= r.end_date <= hi)
    ]
    if not picked:
        what = "scheduled/backfill runs" if not adhoc else "runs"
        raise NotFoundError(
            "data drift result",
            f"{lo:%Y-%m-%d} .. {hi:%Y-%m-%d}",
            hint=f"No finished {what} of detector {detector.name!r} cover this time range; "
            "run backfill(start_date, end_date) or pass run_id= for an ad-hoc run.",
        )
    return picked


def _ranked(report: dict[str, Any]) -> list[tuple[str, float]]:
    """The feature contributions, largest first (the first column of SDK v1's ``column_metrics``)."""
    return sorted((report.get("contributions") or {}).items(), key=lambda kv: (-kv[1], kv[0]))


def _column_metrics(report: dict[str, Any]) -> list[dict[str, list[dict[str, Any]]]]:
    columns: dict[str, list[dict[str, Any]]] = {}
    for feature, value in _ranked(report):
        columns.setdefault(feature, []).append({"name": "datadrift_contribution", "value": value})
    for group in ("numeric", "categorical"):
        for feature, stats in (report.get(group) or {}).items():
            for key, value in stats.items():
                columns.setdefault(feature, []).append({"name": _RENAME.get(key, key), "value": value})
    return [{feature: metrics} for feature, metrics in columns.items()]


def get_output(
    detector: DataDriftDetector, start_time: datetime | None, end_time: datetime | None, run_id: str | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """See the module docstring."""
    found = _results(detector, start_time, end_time, run_id, adhoc=run_id is not None)
    base_id = detector._record.baseline_dataset.get("id")
    target_id = detector._record.target_dataset.get("id")
    results: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    for r in found:
        assert r.report is not None and r.magnitude is not None
        threshold = r.threshold
        coefficient = r.magnitude / 100.0
        ids = {"baseline_dataset_id": base_id, "target_dataset_id": target_id}
        dates = {"start_date": r.target_date, "end_date": r.end_date}
        results.append(
            {
                "drift_type": detector.drift_type,
                "result": [{"has_drift": coefficient > threshold, "drift_threshold": threshold, **dates, **ids}],
            }
        )
        entries.append(
            {
                "schema_version": SCHEMA_VERSION,
                **dates,
                **ids,
                "dataset_metrics": [{"name": "datadrift_coefficient", "value": coefficient}],
                "column_metrics": _column_metrics(r.report["report"]),
            }
        )
    return results, [{"drift_type": detector.drift_type, "metrics": entries}]


def show(detector: DataDriftDetector, start_time: datetime | None, end_time: datetime | None) -> dict[str, Any]:
    """See the module docstring."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    found = _results(detector, start_time, end_time, None, adhoc=True)
    dates = [r.target_date for r in found]
    coefficients = [(r.magnitude or 0.0) / 100.0 for r in found]
    features: list[str] = []
    for r in found:
        assert r.report is not None
        for f, _ in _ranked(r.report["report"]):
            if f not in features:
                features.append(f)
    figure = Figure(figsize=(20, 8))
    figure.suptitle(f"{detector.workspace.name}\nDataDrift Monitor : {detector.name}", fontsize=20)
    magnitude, contribution = figure.subplots(1, 2)
    magnitude.plot(dates, coefficients, "-g", marker=".", linewidth=0.5, markersize=5)
    magnitude.axhline(detector.drift_threshold, color="r", linestyle="--", linewidth=0.8)
    magnitude.set_ylim(0, 1.1)
    magnitude.set_title("Data drift magnitude", fontsize=20)
    magnitude.set_ylabel("Percentage", fontsize=16)
    bottoms = [0.0] * len(found)
    for f in features:
        shares = []
        for r in found:
            assert r.report is not None
            contributions = r.report["report"].get("contributions") or {}
            total = sum(contributions.values()) or 1.0
            shares.append(contributions.get(f, 0.0) / total)
        contribution.bar(dates, shares, bottom=bottoms, label=f)
        bottoms = [b + s for b, s in zip(bottoms, shares, strict=True)]
    contribution.set_title("Drift contribution by feature", fontsize=20)
    contribution.set_ylabel("Percentage", fontsize=16)
    if features:
        contribution.legend(loc="upper right", prop={"size": 7})
    xlabel = {"Day": "Day", "Week": "Week of", "Month": "Month of"}[detector.frequency]
    for ax in (magnitude, contribution):
        ax.set_xlabel(xlabel, fontsize=16)
        ax.tick_params(axis="x", labelrotation=15)
    return {detector.name: figure}
