"""The studio's data drift queries: the detectors list, a detector's view, a run's detector.

A detector's view holds its settings (alert e-mail addresses shown; a webhook only as
"configured" with its host, never its URL), its results per period
(:func:`headwater.ops.drift_results.detector_results`: the latest run per target date), the data
of the magnitude-over-time chart with the threshold, its alerts, and for one chosen period (the
latest with a report unless ``period`` names one) the per-feature contributions, statistics and
baseline-vs-target distributions, shaped for the page's charts and tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from headwater.errors import NotFoundError

__all__ = ["DetectorRow", "DetectorView", "detector_of_run", "detector_view", "detectors_overview", "webhook_label"]


@dataclass(frozen=True)
class DetectorRow:
    """A line of the detectors list."""

    detector: Any
    last: Any | None  # the latest period's result
    alerts: int
    webhook: str | None


@dataclass
class DetectorView:
    """What a detector's page shows (see the module docstring)."""

    detector: Any
    results: list[Any]
    alerts: list[Any]
    webhook: str | None
    chart: dict[str, Any]
    period: Any | None = None
    features: list[dict[str, Any]] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)
    alerts_by_run: dict[str, Any] = field(default_factory=dict)


def webhook_label(ws_folder: Path, detector_name: str) -> str | None:
    """``configured (https://host/…)`` when the detector has a webhook, else None (never the URL)."""
    from headwater.ops.drift_alerts import _webhook_url
    from headwater.ops.drift_webhook import redact

    url = _webhook_url(Path(ws_folder), detector_name)
    return None if url is None else f"configured ({redact(url)})"


def _results(store: Any, ws_folder: Path, name: str, *, with_reports: bool = True) -> list[Any]:
    from headwater.ops.drift_results import detector_results

    return list(detector_results((store, Path(ws_folder)), name, with_reports=with_reports))


def _epoch(at: datetime | str) -> float:
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).timestamp()


def _report(wrapped: dict[str, Any] | None) -> dict[str, Any]:
    """The DriftReport dict in a period's ``report.json`` (which wraps it), or {}."""
    wrapped = wrapped or {}
    inner = wrapped.get("report", wrapped)
    return inner if isinstance(inner, dict) else {}


def detectors_overview(store: Any, ws_folder: Path) -> list[DetectorRow]:
    """Every live detector with its latest result, its number of alerts and its webhook label."""
    rows = []
    for detector in store.list_detectors():
        results = [r for r in _results(store, ws_folder, detector.name, with_reports=False) if r.magnitude is not None]
        rows.append(
            DetectorRow(
                detector=detector,
                last=results[-1] if results else None,
                alerts=len(store.list_drift_alerts(detector.id)),
                webhook=webhook_label(ws_folder, detector.name),
            )
        )
    return rows


def _chart(detector: Any, results: list[Any]) -> dict[str, Any]:
    """Magnitude over time (x: the periods' starts, epoch seconds) and the threshold (in %)."""
    points = [r for r in results if r.magnitude is not None]
    return {
        "title": "Data drift magnitude (%)",
        "time": True,
        "x": [_epoch(r.target_date) for r in points],
        "series": [
            {"label": "magnitude", "values": [round(float(r.magnitude), 3) for r in points]},
            {"label": "threshold", "values": [detector.drift_threshold * 100.0] * len(points), "dash": True},
        ],
    }


def _feature_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per feature of a period's report, by contribution (largest first)."""
    contributions: dict[str, float] = report.get("contributions") or {}
    total = sum(max(0.0, v) for v in contributions.values()) or 1.0
    numeric: dict[str, dict[str, Any]] = report.get("numeric") or {}
    categorical: dict[str, dict[str, Any]] = report.get("categorical") or {}
    distributions: dict[str, dict[str, Any]] = report.get("distributions") or {}
    # largest first (a report written with sorted keys lists them by name)
    ranked = sorted(contributions, key=lambda f: (-float(contributions[f]), f))
    names = ranked + [f for f in report.get("features") or [] if f not in contributions]
    rows = []
    for name in names:
        value = float(contributions.get(name, 0.0))
        dist = distributions.get(name) or {}
        rows.append(
            {
                "name": name,
                "contribution": value,
                "share": max(0.0, value) / total * 100.0,
                "kind": dist.get("kind") or ("numeric" if name in numeric else "categorical"),
                "stats": numeric.get(name) or categorical.get(name) or {},
                "chart": _distribution_chart(name, dist) if dist.get("kind") == "numeric" else None,
                "levels": _categorical_rows(dist) if dist.get("kind") == "categorical" else [],
            }
        )
    return rows


def _shares(counts: list[float]) -> list[float]:
    total = float(sum(counts)) or 1.0
    return [round(c / total, 6) for c in counts]


def _distribution_chart(name: str, dist: dict[str, Any]) -> dict[str, Any]:
    """A numeric feature's histogram: x the bins' left edges, the share of rows per bin on each side."""
    edges = list(dist.get("edges") or [])
    return {
        "title": name,
        "time": False,
        "stepped": True,
        "x": edges[:-1] if len(edges) > 1 else edges,
        "series": [
            {"label": "baseline", "values": _shares(list(dist.get("baseline") or []))},
            {"label": "target", "values": _shares(list(dist.get("target") or []))},
        ],
    }


def _categorical_rows(dist: dict[str, Any]) -> list[dict[str, Any]]:
    values = list(dist.get("values") or [])
    base = list(dist.get("baseline") or [])
    target = list(dist.get("target") or [])
    rows = [
        {"value": "(missing)" if v is None else str(v), "baseline": b, "target": t}
        for v, b, t in zip(values, base, target, strict=False)
    ]
    other = dist.get("other")
    if other and any(other):
        rows.append({"value": "(other values)", "baseline": other[0], "target": other[1]})
    return rows


def detector_view(store: Any, ws_folder: Path, name: str, period: str | None = None) -> DetectorView:
    """The detector ``name``'s page data; ``period`` (a target date, ISO) chooses the period shown
    in detail. NotFoundError (404) for an unknown detector or period."""
    detector = store.get_detector(name)
    if detector is None:
        raise NotFoundError(
            "Data drift detector",
            name,
            candidates=[d.name for d in store.list_detectors()],
            hint="Open the detectors list at /studio/drift.",
        )
    results = _results(store, ws_folder, name, with_reports=False)  # one report is read: the chosen period's
    alerts = store.list_drift_alerts(detector.id)
    view = DetectorView(
        detector=detector,
        results=results,
        alerts=alerts,
        webhook=webhook_label(ws_folder, name),
        chart=_chart(detector, results),
        alerts_by_run={a.run_id: a for a in alerts},
    )
    measured = [r for r in results if r.magnitude is not None]
    if period is not None:
        wanted = _epoch(period) if _is_date(period) else None
        chosen = [r for r in results if _epoch(r.target_date) == wanted]
        if not chosen:
            raise NotFoundError(
                "Period",
                period,
                where=f"data drift detector {name!r}",
                candidates=[r.target_date.isoformat() for r in results],
            )
        view.period = chosen[-1]
    elif measured:
        view.period = measured[-1]
    if view.period is not None and view.period.step_run_id is not None and view.period.magnitude is not None:
        from headwater.ops.drift_results import read_report

        report = _report(read_report(store, Path(ws_folder), view.period.step_run_id))
        view.features = _feature_rows(report)
        view.dropped = dict(report.get("dropped") or {})
    return view


def _is_date(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def detector_of_run(store: Any, run_id: str) -> tuple[str, str] | None:
    """``(detector name, target date)`` when ``run_id`` is a detector run, else None."""
    drift_run = store.drift_run_of(run_id)
    if drift_run is None:
        return None
    detector = store.get_detector_by_id(drift_run.detector_id)
    return None if detector is None else (detector.name, drift_run.target_date)
