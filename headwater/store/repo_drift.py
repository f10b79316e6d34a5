"""Data drift queries of :class:`~headwater.store.metadata.MetadataStore`: detectors, the runs
that cover their periods, and the alert outbox (revision ``0003_drift``).

A detector (SDK v1's ``DataDriftDetector``) is a row of ``drift_detectors``; deleting it sets its
state to ``Deleted`` (its runs and alerts stay explained) and frees its name. Each detector run is
a pipeline run recorded in ``drift_runs`` with the target date (the period's start) it covers:
:meth:`DriftQueries.record_drift_run` inserts the row *before* the submit, and a scheduled period
(``occurrence`` set) is recorded at most once per detector, whatever the number of schedulers.
``drift_alerts`` holds one alert per run whose magnitude crossed the threshold, with the state of
its webhook delivery (a durable outbox: pending rows are retried after a restart).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from headwater.errors import AlreadyExistsError, NotFoundError
from headwater.status import DetectorState, FireStatus, WebhookState
from headwater.store.records import utcnow
from headwater.store.repo_base import RepoBase, dumps, loads

__all__ = ["DetectorRecord", "DriftAlertRecord", "DriftQueries", "DriftRunRecord"]


@dataclass(frozen=True)
class DetectorRecord:
    """A data drift detector. ``baseline_dataset`` / ``target_dataset`` are references
    ``{"id": ..., "name": ..., "version": ...}``; ``feature_list`` None means every common feature;
    ``drift_threshold`` is 0-1 and ``latency`` in hours, as SDK v1 has them."""

    id: str
    name: str
    baseline_dataset: dict[str, Any]
    target_dataset: dict[str, Any]
    experiment_name: str = ""
    compute_target: str | None = None
    frequency: str = "Day"
    feature_list: list[str] | None = None
    drift_threshold: float = 0.2
    latency: int = 0
    alert_emails: list[str] = field(default_factory=list)
    state: str = DetectorState.Disabled
    schedule_start: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    updated_at: str | None = None


@dataclass(frozen=True)
class DriftRunRecord:
    """One detector run: the period it covers (``target_date``, ISO), how it was started
    (``run`` | ``backfill`` | ``schedule``), its submit status (Pending | Submitted | Failed) and run."""

    id: int
    detector_id: str
    target_date: str
    trigger: str
    occurrence: str | None
    status: str
    run_id: str | None
    detail: str | None
    holder: str | None
    created_at: str


@dataclass(frozen=True)
class DriftAlertRecord:
    """An alert: a run whose magnitude (0-100) crossed the detector's threshold (0-1), and where
    its webhook delivery is (:class:`~headwater.status.WebhookState`)."""

    id: int
    detector_id: str
    detector_name: str
    run_id: str
    target_date: str
    magnitude: float
    threshold: float
    created_at: str
    webhook_state: str
    attempts: int
    last_error: str | None
    next_attempt_at: str | None
    delivered_at: str | None


_DETECTOR_COLUMNS = (
    "id, name, baseline_dataset, target_dataset, experiment_name, compute_target, frequency, feature_list, "
    "drift_threshold, latency, alert_emails, state, schedule_start, properties, created_at, updated_at"
)
_RUN_COLUMNS = "id, detector_id, target_date, trigger, occurrence, status, run_id, detail, holder, created_at"
_ALERT_COLUMNS = (
    "id, detector_id, detector_name, run_id, target_date, magnitude, threshold, created_at, webhook_state, "
    "attempts, last_error, next_attempt_at, delivered_at"
)
_JSON = frozenset({"baseline_dataset", "target_dataset", "feature_list", "alert_emails", "properties"})
_UPDATABLE = frozenset(
    {
        "compute_target",
        "frequency",
        "feature_list",
        "drift_threshold",
        "latency",
        "alert_emails",
        "state",
        "schedule_start",
        "properties",
    }
)
#: ``update_detector`` writes these even when the new value is None (None means "every feature",
#: "no compute target", "no schedule start").
_NULLABLE = frozenset({"compute_target", "feature_list", "schedule_start"})


def _detector(row: tuple[Any, ...]) -> DetectorRecord:
    return DetectorRecord(
        id=row[0],
        name=row[1],
        baseline_dataset=loads(row[2]) or {},
        target_dataset=loads(row[3]) or {},
        experiment_name=row[4],
        compute_target=row[5],
        frequency=row[6],
        feature_list=loads(row[7]),
        drift_threshold=float(row[8]),
        latency=int(row[9]),
        alert_emails=loads(row[10]) or [],
        state=row[11],
        schedule_start=row[12],
        properties=loads(row[13]) or {},
        created_at=row[14],
        updated_at=row[15],
    )


def _run(row: tuple[Any, ...]) -> DriftRunRecord:
    return DriftRunRecord(
        id=int(row[0]),
        detector_id=row[1],
        target_date=row[2],
        trigger=row[3],
        occurrence=row[4],
        status=row[5],
        run_id=row[6],
        detail=row[7],
        holder=row[8],
        created_at=row[9],
    )


def _alert(row: tuple[Any, ...]) -> DriftAlertRecord:
    return DriftAlertRecord(
        id=int(row[0]),
        detector_id=row[1],
        detector_name=row[2],
        run_id=row[3],
        target_date=row[4],
        magnitude=float(row[5]),
        threshold=float(row[6]),
        created_at=row[7],
        webhook_state=row[8],
        attempts=int(row[9]),
        last_error=row[10],
        next_attempt_at=row[11],
        delivered_at=row[12],
    )


def _value(name: str, value: Any) -> Any:
    return (None if value is None else dumps(value)) if name in _JSON else value


class DriftQueries(RepoBase):
    """Drift detectors, their runs and alerts (a part of :class:`MetadataStore`)."""

    # -- detectors -----------------------------------------------------------------------------

    def create_detector(self, record: DetectorRecord) -> DetectorRecord:
        """Store a new detector (a fresh id when ``record.id`` is empty); AlreadyExistsError when a
        live (not deleted) detector has its name."""
        record = replace(record, id=record.id or str(uuid.uuid4()), created_at=record.created_at or utcnow())
        columns = _DETECTOR_COLUMNS.split(", ")
        values = [_value(c, getattr(record, c)) for c in columns]
        with self._transaction():
            if self.get_detector(record.name) is not None:
                raise AlreadyExistsError("data drift detector", record.name)
            self._exec(
                f"INSERT INTO drift_detectors ({_DETECTOR_COLUMNS}) VALUES ({', '.join('?' * len(values))})", values
            )
        return record

    def get_detector(self, name: str) -> DetectorRecord | None:
        """The live (not deleted) detector of this name, or None."""
        row = self._one(
            f"SELECT {_DETECTOR_COLUMNS} FROM drift_detectors WHERE name = ? AND state != ?",
            (name, DetectorState.Deleted),
        )
        return None if row is None else _detector(row)

    def get_detector_by_id(self, detector_id: str) -> DetectorRecord | None:
        """The detector with this id (deleted ones too), or None."""
        row = self._one(f"SELECT {_DETECTOR_COLUMNS} FROM drift_detectors WHERE id = ?", (detector_id,))
        return None if row is None else _detector(row)

    def list_detectors(self, *, state: str | None = None, include_deleted: bool = False) -> list[DetectorRecord]:
        """Detectors by name; only those in ``state`` when given; deleted ones only on request."""
        where, params = [], []
        if state is not None:
            where.append("state = ?")
            params.append(state)
        elif not include_deleted:
            where.append("state != ?")
            params.append(DetectorState.Deleted)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self._all(f"SELECT {_DETECTOR_COLUMNS} FROM drift_detectors{clause}", params)
        # sorted here, in code-point order: a PostgreSQL collation would order names differently
        return sorted((_detector(r) for r in rows), key=lambda d: (d.name, d.created_at))

    def update_detector(self, detector_id: str, **changes: Any) -> DetectorRecord:
        """Change the given fields; None leaves a field as it is, except ``compute_target``,
        ``feature_list`` and ``schedule_start``, which None clears. NotFoundError for an unknown id."""
        unknown = set(changes) - _UPDATABLE
        if unknown:
            raise TypeError(f"update_detector() cannot change {sorted(unknown)}")
        sets = {k: _value(k, v) for k, v in changes.items() if v is not None or k in _NULLABLE}
        sets["updated_at"] = utcnow()
        assignments = ", ".join(f"{k} = ?" for k in sets)
        if not self._exec(f"UPDATE drift_detectors SET {assignments} WHERE id = ?", [*sets.values(), detector_id]):
            raise NotFoundError("data drift detector", detector_id)
        found = self.get_detector_by_id(detector_id)
        assert found is not None
        return found

    def delete_detector(self, detector_id: str) -> None:
        """Mark the detector Deleted (its runs and alerts stay); its name is free again."""
        self.update_detector(detector_id, state=DetectorState.Deleted)

    # -- runs ----------------------------------------------------------------------------------

    def record_drift_run(
        self,
        detector_id: str,
        target_date: str,
        *,
        trigger: str = "run",
        occurrence: str | None = None,
        holder: str | None = None,
    ) -> DriftRunRecord | None:
        """Record (status Pending) that a run of ``target_date`` is about to be submitted. With an
        ``occurrence`` (the scheduler's key of a period), None when that occurrence was recorded
        already, by this or another scheduler: the caller then must not submit it."""
        self._check_writable()
        with self._transaction():
            row = self._one(
                "INSERT INTO drift_runs (detector_id, target_date, trigger, occurrence, status, holder, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (detector_id, occurrence) DO NOTHING RETURNING id",
                (detector_id, target_date, trigger, occurrence, FireStatus.Pending, holder, utcnow()),
            )
            if row is None:
                return None
            row = self._one(f"SELECT {_RUN_COLUMNS} FROM drift_runs WHERE id = ?", (row[0],))
        assert row is not None
        return _run(row)

    def finish_drift_run(self, drift_run_id: int, *, run_id: str | None = None, error: str | None = None) -> None:
        """Record how a detector run's submit ended: its pipeline run (Submitted) or the error (Failed)."""
        status = FireStatus.Failed if error is not None else FireStatus.Submitted
        self._exec(
            "UPDATE drift_runs SET status = ?, run_id = ?, detail = ? WHERE id = ?",
            (status, run_id, error, drift_run_id),
        )

    def list_drift_runs(
        self, detector_id: str, *, start: str | None = None, end: str | None = None
    ) -> list[DriftRunRecord]:
        """A detector's runs, by target date then in the order recorded; ``start`` / ``end`` (ISO,
        inclusive) bound the target dates."""
        sql = f"SELECT {_RUN_COLUMNS} FROM drift_runs WHERE detector_id = ?"
        params: list[Any] = [detector_id]
        if start is not None:
            sql += " AND target_date >= ?"
            params.append(start)
        if end is not None:
            sql += " AND target_date <= ?"
            params.append(end)
        return [_run(r) for r in self._all(sql + " ORDER BY target_date, id", params)]

    def drift_run_of(self, run_id: str) -> DriftRunRecord | None:
        """The detector run record of a pipeline run, or None when the run is no detector run."""
        row = self._one(f"SELECT {_RUN_COLUMNS} FROM drift_runs WHERE run_id = ? ORDER BY id DESC LIMIT 1", (run_id,))
        return None if row is None else _run(row)

    # -- alerts --------------------------------------------------------------------------------

    def record_drift_alert(
        self,
        detector: DetectorRecord,
        run_id: str,
        target_date: str,
        magnitude: float,
        *,
        webhook: bool,
        now: str | None = None,
    ) -> DriftAlertRecord | None:
        """Record an alert for ``run_id`` (webhook state ``pending`` when a webhook is configured,
        else ``none``), created and first due at ``now`` (ISO text; default: the current time);
        None when the run has an alert already."""
        state = WebhookState.pending if webhook else WebhookState.none
        now = now or utcnow()
        with self._transaction():
            inserted = self._exec(
                "INSERT INTO drift_alerts (detector_id, detector_name, run_id, target_date, magnitude, threshold, "
                "created_at, webhook_state, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (run_id) DO NOTHING",
                (
                    detector.id,
                    detector.name,
                    run_id,
                    target_date,
                    float(magnitude),
                    float(detector.drift_threshold),
                    now,
                    state,
                    now if webhook else None,
                ),
            )
            if not inserted:
                return None
            return self.drift_alert_of(run_id)

    def drift_alert_of(self, run_id: str) -> DriftAlertRecord | None:
        """The alert of a run, or None."""
        row = self._one(f"SELECT {_ALERT_COLUMNS} FROM drift_alerts WHERE run_id = ?", (run_id,))
        return None if row is None else _alert(row)

    def list_drift_alerts(self, detector_id: str | None = None, *, limit: int | None = None) -> list[DriftAlertRecord]:
        """Alerts, newest first; of one detector when given."""
        sql = f"SELECT {_ALERT_COLUMNS} FROM drift_alerts"
        params: list[Any] = []
        if detector_id is not None:
            sql += " WHERE detector_id = ?"
            params.append(detector_id)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [_alert(r) for r in self._all(sql, params)]

    def pending_drift_alerts(self, now: str) -> list[DriftAlertRecord]:
        """Alerts whose webhook delivery is pending and due (``next_attempt_at`` ≤ ``now``), oldest first."""
        rows = self._all(
            f"SELECT {_ALERT_COLUMNS} FROM drift_alerts WHERE webhook_state = ? AND next_attempt_at <= ? ORDER BY id",
            (WebhookState.pending, now),
        )
        return [_alert(r) for r in rows]

    def update_drift_alert_delivery(
        self,
        alert_id: int,
        *,
        state: str,
        error: str | None = None,
        next_attempt_at: str | None = None,
    ) -> None:
        """Record one delivery attempt: the new state (pending to retry at ``next_attempt_at``,
        delivered, failed) and the error, if any; counts the attempt."""
        delivered = utcnow() if state == WebhookState.delivered else None
        self._exec(
            "UPDATE drift_alerts SET webhook_state = ?, attempts = attempts + 1, last_error = ?, "
            "next_attempt_at = ?, delivered_at = ? WHERE id = ?",
            (state, error, next_attempt_at, delivered, alert_id),
        )
