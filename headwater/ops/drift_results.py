"""``detector_results``: a data drift detector's result per period, read from its runs.

Each period a detector ran is a step (``datadrift_<start date>``) of a pipeline run recorded in
``drift_runs``; its report (``report.json`` in the step's output) holds the magnitude, the feature
contributions, the distances and the distributions. When a period ran several times the latest
run that produced a result wins (as in SDK v1, where the latest pipeline per target date wins); a
period that never produced one shows its latest run's status. Used by ``get_output``, ``show``,
the studio and the alert sweep; it never imports the SDK.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from headwater.errors import NotFoundError
from headwater.ops.drift_periods import period_of, utc_naive
from headwater.ops.drift_submit import step_name
from headwater.status import SUCCEEDED
from headwater.store.repo_drift import DetectorRecord, DriftRunRecord

__all__ = ["PeriodResult", "detector_results", "read_report"]


@dataclass(frozen=True)
class PeriodResult:
    """One period's result. ``magnitude`` is 0-100 (None until the step finished); ``threshold``
    is the detector's (0-1), or the one its ``run(drift_threshold=...)`` was given; ``report`` is
    the step's ``report.json`` (``{"start_date", "end_date", "report": DriftReport.to_dict()}``) or None."""

    target_date: datetime  # the period's start (naive UTC)
    end_date: datetime  # the period's end, excluded
    run_id: str  # the detector's pipeline run
    step_run_id: str | None
    status: str  # the step run's status (the pipeline run's when the step is not recorded)
    run_type: str  # run | backfill | schedule
    magnitude: float | None
    threshold: float
    report: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def has_drift(self) -> bool | None:
        """Whether the magnitude crossed the threshold (SDK v1: ``coefficient > threshold``)."""
        return None if self.magnitude is None else self.magnitude / 100.0 > self.threshold


def _store_and_folder(ws_or_store: Any) -> tuple[Any, Path | None]:
    if isinstance(ws_or_store, tuple):
        return ws_or_store[0], Path(ws_or_store[1])
    if hasattr(ws_or_store, "metadata_store"):
        folder = getattr(ws_or_store, "folder", None) or getattr(ws_or_store, "_folder", None)
        return ws_or_store.metadata_store, None if folder is None else Path(folder)
    from headwater.store.db import sqlite_path

    path = sqlite_path(ws_or_store.url)
    return ws_or_store, None if path is None else Path(path).parent


def read_report(store: Any, folder: Path | None, step_run_id: str) -> dict[str, Any] | None:
    """The ``report.json`` a detector step wrote, or None when it has none (not finished, removed)."""
    from headwater.store.datastores import backend_for

    for out in store.get_run_outputs(step_run_id):
        record = store.get_datastore(out.datastore)
        if record is None or folder is None:
            continue
        try:
            backend = backend_for(record, folder)
            with backend.open(posixpath.join(out.path, "report.json")) as f:
                data: dict[str, Any] = json.loads(f.read().decode("utf-8"))
                return data
        except (OSError, ValueError):
            continue
    return None


def _iso(value: datetime | date | None) -> str | None:
    return None if value is None else utc_naive(value).isoformat()


def detector_results(
    ws_or_store: Any,
    detector_name: str,
    start: datetime | date | None = None,
    end: datetime | date | None = None,
    *,
    run_id: str | None = None,
    with_reports: bool = True,
) -> list[PeriodResult]:
    """The detector's result per target date (period start) in ``[start, end]``, oldest first.

    ``ws_or_store``: an SDK Workspace, a ``DriftWorkspace``, ``(store, folder)`` or a store (a
    SQLite store's folder is the workspace). ``run_id``: only that run's periods (every run of a
    period then counts, not only the latest). ``with_reports=False`` skips reading the reports
    (the magnitude then comes from the step's ``datadrift_magnitude`` metric).
    """
    store, folder = _store_and_folder(ws_or_store)
    detector: DetectorRecord | None = store.get_detector(detector_name)
    if detector is None:
        raise NotFoundError("data drift detector", detector_name, candidates=[d.name for d in store.list_detectors()])
    runs = [r for r in store.list_drift_runs(detector.id, start=_iso(start), end=_iso(end)) if r.run_id]
    if run_id is not None:
        runs = [r for r in runs if r.run_id == run_id]
    steps: dict[str, dict[str, Any]] = {}

    def step_of(r: DriftRunRecord) -> tuple[Any, Any]:
        assert r.run_id is not None
        if r.run_id not in steps:
            steps[r.run_id] = {s.name: s for s in store.list_runs(parent_id=r.run_id)}
        period = period_of(detector.frequency, datetime.fromisoformat(r.target_date))
        return period, steps[r.run_id].get(step_name(period))

    by_date: dict[str, list[DriftRunRecord]] = {}
    for r in runs:
        by_date.setdefault(r.target_date, []).append(r)
    results = []
    for target_date in sorted(by_date):
        candidates = list(reversed(by_date[target_date]))  # newest first
        chosen = None
        for r in candidates:
            period, step = step_of(r)
            if step is not None and step.status in SUCCEEDED:
                chosen = (r, period, step)
                break
        if chosen is None:
            r = candidates[0]
            period, step = step_of(r)
            chosen = (r, period, step)
        r, period, step = chosen
        results.append(_result(store, folder, detector, r, period, step, with_reports))
    return results


def _result(
    store: Any,
    folder: Path | None,
    detector: DetectorRecord,
    r: DriftRunRecord,
    period: tuple[datetime, datetime],
    step: Any,
    with_reports: bool,
) -> PeriodResult:
    assert r.run_id is not None
    report = None
    magnitude = None
    if step is not None and step.status in SUCCEEDED:
        if with_reports:
            report = read_report(store, folder, step.id)
        if report is not None:
            magnitude = float(report["report"]["magnitude"])
        else:
            metric = store.get_metrics(step.id, "datadrift_magnitude")
            magnitude = float(metric[-1].value) if metric else None
    if step is not None:
        status = step.status
    else:
        parent = store.get_run(r.run_id)
        status = parent.status if parent is not None else r.status
    # DataDriftDetector.run(drift_threshold=...) records a threshold for that run only
    threshold = store.get_properties(r.run_id).get("drift_threshold")
    return PeriodResult(
        target_date=period[0],
        end_date=period[1],
        run_id=r.run_id,
        step_run_id=None if step is None else step.id,
        status=str(status),
        run_type=r.trigger,
        magnitude=magnitude,
        threshold=detector.drift_threshold if threshold is None else float(threshold),
        report=report,
    )
