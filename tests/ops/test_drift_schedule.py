"""The drift scheduler's tick on a real SQLite store: each due period (SDK v1's calendar periods,
UTC) of an enabled detector is recorded, then submitted, once (also by two schedulers at once);
disabled detectors, periods run by hand and periods still in their latency are left alone; a
failed submit is recorded; a long downtime catches up on the latest periods only."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from headwater import Workspace
from headwater.errors import DataAccessError
from headwater.ops.drift_schedule import MAX_CATCH_UP, due_periods, next_due, occurrence_key, tick
from headwater.status import DetectorState
from headwater.store.repo_drift import DetectorRecord

T0 = datetime(2026, 3, 1, tzinfo=UTC)  # a Sunday


def day(n: int) -> datetime:
    """Midnight of 1 March + n days, naive UTC (what a period's start is)."""
    return datetime(2026, 3, 1) + timedelta(days=n)


def detector(ws: Workspace, name: str = "d", **fields: Any) -> Any:
    fields.setdefault("state", DetectorState.Enabled)
    fields.setdefault("schedule_start", T0.isoformat())
    record = DetectorRecord(
        id="",
        name=name,
        baseline_dataset={"id": "b"},
        target_dataset={"id": "t"},
        experiment_name=f"{name}-Monitor-Runs",
        **fields,
    )
    return ws.metadata_store.create_detector(record)


class Submits:
    """A submit function with submit_detector_run's contract: record the period, then "submit"."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, datetime]] = []
        self.fail = fail
        self._lock = threading.Lock()

    def __call__(self, ws: Any, det: Any, target_date: datetime, **kw: Any) -> str | None:
        store = ws[0]
        rec = store.record_drift_run(det.id, target_date.isoformat(), **kw)
        if rec is None:
            return None
        with self._lock:
            self.calls.append((det.name, target_date))
        if self.fail:
            store.finish_drift_run(rec.id, error="Target dataset 'target' has no rows in the period")
            raise DataAccessError("Target dataset 'target' has no rows in the period")
        run_id = f"run-{det.name}-{target_date:%m%d}"
        store.finish_drift_run(rec.id, run_id=run_id)
        return run_id


def test_each_due_period_is_submitted_once_oldest_first(ws: Workspace) -> None:
    det = detector(ws, latency=6)
    detector(ws, "off", state=DetectorState.Disabled)
    submit = Submits()
    assert tick(ws.metadata_store, ws.folder, T0 + timedelta(days=1, hours=5), submit=submit) == []
    submitted = tick(ws.metadata_store, ws.folder, T0 + timedelta(days=2, hours=7), submit=submit, holder="me")
    assert submit.calls == [("d", day(0)), ("d", day(1))]
    assert submitted == ["run-d-0301", "run-d-0302"]
    runs = ws.metadata_store.list_drift_runs(det.id)
    assert [(r.target_date, r.occurrence, r.trigger, r.status, r.holder) for r in runs] == [
        ("2026-03-01T00:00:00", "2026-03-01T00:00:00", "schedule", "Submitted", "me"),
        ("2026-03-02T00:00:00", "2026-03-02T00:00:00", "schedule", "Submitted", "me"),
    ]
    assert tick(ws.metadata_store, ws.folder, T0 + timedelta(days=2, hours=8), submit=submit) == []
    assert len(submit.calls) == 2


def test_a_period_run_by_hand_is_not_run_again(ws: Workspace) -> None:
    det = detector(ws)
    ws.metadata_store.record_drift_run(det.id, occurrence_key(T0), trigger="run")
    submit = Submits()
    tick(ws.metadata_store, ws.folder, T0 + timedelta(days=2), submit=submit)
    assert submit.calls == [("d", day(1))]


def test_a_failed_submit_is_recorded_and_not_retried(ws: Workspace) -> None:
    det = detector(ws)
    submit = Submits(fail=True)
    tick(ws.metadata_store, ws.folder, T0 + timedelta(days=1), submit=submit)
    tick(ws.metadata_store, ws.folder, T0 + timedelta(days=1, seconds=1), submit=submit)
    [run] = ws.metadata_store.list_drift_runs(det.id)
    assert run.status == "Failed" and "no rows in the period" in (run.detail or "")
    assert len(submit.calls) == 1


def test_two_schedulers_ticking_at_once_submit_each_period_once(ws: Workspace) -> None:
    from headwater.store.metadata import MetadataStore

    detector(ws)
    detector(ws, "e", frequency="Week")
    submit = Submits()
    now = T0 + timedelta(days=15)
    stores = [MetadataStore.open(ws.metadata_store.url) for _ in range(4)]
    try:
        start = threading.Barrier(len(stores))

        def run(store: Any, holder: str) -> None:
            start.wait()
            tick(store, ws.folder, now, holder=holder, submit=submit)

        threads = [threading.Thread(target=run, args=(s, f"h{i}")) for i, s in enumerate(stores)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        for s in stores:
            s.close()
    # days 1-15 March; the weeks (from Monday) holding 1 March, then 2 and 9 March
    assert sorted(submit.calls) == sorted(
        [("d", day(i)) for i in range(15)] + [("e", day(-6)), ("e", day(1)), ("e", day(8))]
    )


def test_next_due_is_the_earliest_period_end_plus_latency(ws: Workspace) -> None:
    detector(ws, latency=2)
    detector(ws, "m", frequency="Month", schedule_start=(T0 - timedelta(days=90)).isoformat())
    detector(ws, "off", state=DetectorState.Disabled, schedule_start=(T0 - timedelta(days=30)).isoformat())
    assert next_due(ws.metadata_store, T0 + timedelta(hours=1)) == T0 + timedelta(days=1, hours=2)
    assert next_due(ws.metadata_store, T0 - timedelta(days=2)) == T0  # the month's end comes first


def test_a_long_downtime_catches_up_on_the_latest_periods_only() -> None:
    due = due_periods("Day", datetime(2020, 1, 1), 0, T0)
    assert len(due) == MAX_CATCH_UP and due[-1] == day(-1) and due[0] == day(-MAX_CATCH_UP)
    assert due_periods("Month", datetime(2025, 12, 15), 24, datetime(2026, 3, 1, 23)) == [
        datetime(2025, 12, 1),
        datetime(2026, 1, 1),
    ]
