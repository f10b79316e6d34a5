"""Drift alerts on a real SQLite store: raised once above the threshold and never below it; the
webhook outbox retries a failing receiver with back-off, gives up after its attempts, and keeps
what is pending across a restart (a new store on the same file); the URL stays secret."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from headwater import Workspace
from headwater.ops import drift_alerts
from headwater.ops.drift_alerts import ALERT_PROPERTY, sweep, webhook_key
from headwater.status import DetectorState
from headwater.store.records import RunRecord
from headwater.store.repo_drift import DetectorRecord
from headwater.store.secrets import SecretStore
from tests.ops.drift_receiver import SECRET, Receiver

T0 = datetime(2026, 3, 10, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_sweeps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drift_alerts, "_CHECKED", set())  # each test is a fresh server process
    monkeypatch.setenv("HEADWATER_DRIFT_WEBHOOK_BACKOFF", "10")
    monkeypatch.setenv("HEADWATER_DRIFT_WEBHOOK_ATTEMPTS", "3")


def detector(ws: Workspace, name: str = "d", threshold: float = 0.3, emails: list[str] | None = None) -> Any:
    record = DetectorRecord(
        id="",
        name=name,
        baseline_dataset={"id": "b", "name": "base"},
        target_dataset={"id": "t", "name": "target"},
        experiment_name=f"{name}-Monitor-Runs",
        drift_threshold=threshold,
        alert_emails=emails if emails is not None else ["ops@example.org"],
        state=DetectorState.Enabled,
        schedule_start=T0.isoformat(),
    )
    return ws.metadata_store.create_detector(record)


def detector_run(ws: Workspace, det: Any, run_id: str, day: int, status: str = "Finished") -> str:
    store = ws.metadata_store
    exp = store.get_or_create_experiment(det.experiment_name)
    store.create_run(RunRecord(id=run_id, experiment_id=exp.id, kind="pipeline", status=status))
    target = (T0 + timedelta(days=day)).isoformat(timespec="microseconds")
    drift_run = store.record_drift_run(det.id, target, trigger="run")
    assert drift_run is not None
    store.finish_drift_run(drift_run.id, run_id=run_id)
    return target


def magnitudes(values: dict[str, float]) -> Any:
    """A magnitudes function: each run's period with the magnitude given for the run."""

    def periods(store: Any, ws_folder: Any, det: Any, run_id: str) -> list[tuple[str, float]]:
        drift_run = store.drift_run_of(run_id)
        return [] if run_id not in values else [(drift_run.target_date, values[run_id])]

    return periods


def test_an_alert_is_raised_above_the_threshold_only_and_once(ws: Workspace, caplog: pytest.LogCaptureFixture) -> None:
    det = detector(ws, threshold=0.3)
    detector_run(ws, det, "low", 0)
    high_date = detector_run(ws, det, "high", 1)
    detector_run(ws, det, "running", 2, status="Running")
    detector_run(ws, det, "failed", 3, status="Failed")
    values = magnitudes({"low": 30.0, "high": 71.5, "running": 99.0})  # the failed run measured nothing

    with caplog.at_level(logging.WARNING, logger="headwater.ops.drift_alerts"):
        report = sweep(ws.metadata_store, ws.folder, T0, magnitude=values)
    [alert] = ws.metadata_store.list_drift_alerts(det.id)
    assert report.raised == [alert.id]
    assert (alert.run_id, alert.target_date, alert.magnitude, alert.threshold) == ("high", high_date, 71.5, 0.3)
    assert alert.webhook_state == "none"  # no webhook configured
    assert ws.metadata_store.get_properties("high")[ALERT_PROPERTY] == "magnitude 71.5 % crossed the threshold 30 %"
    assert ALERT_PROPERTY not in ws.metadata_store.get_properties("low")  # 30 % is not above 30 %
    [line] = [r.getMessage() for r in caplog.records if "Data drift alert" in r.getMessage()]
    assert "detector 'd'" in line and "71.5 %" in line and "ops@example.org" in line

    # the running run finishes high; the others are not raised again, also by a restarted server
    ws.metadata_store.update_run("running", status="Finished")
    drift_alerts._CHECKED.clear()
    assert len(sweep(ws.metadata_store, ws.folder, T0, magnitude=values).raised) == 1
    assert {a.run_id for a in ws.metadata_store.list_drift_alerts(det.id)} == {"high", "running"}


def test_a_backfill_run_gets_one_alert_for_its_largest_period(ws: Workspace) -> None:
    det = detector(ws, threshold=0.2)
    store = ws.metadata_store
    exp = store.get_or_create_experiment(det.experiment_name)
    store.create_run(RunRecord(id="bf", experiment_id=exp.id, kind="pipeline", status="Finished"))
    dates = [(T0 + timedelta(days=i)).isoformat() for i in range(3)]
    for date in dates:
        rec = store.record_drift_run(det.id, date, trigger="backfill")
        assert rec is not None
        store.finish_drift_run(rec.id, run_id="bf")

    def periods(store: Any, ws_folder: Any, det: Any, run_id: str) -> list[tuple[str, float]]:
        return list(zip(dates, [25.0, 80.0, 10.0], strict=True))

    sweep(store, ws.folder, T0, magnitude=periods)
    [alert] = store.list_drift_alerts(det.id)
    assert (alert.run_id, alert.target_date, alert.magnitude) == ("bf", dates[1], 80.0)


def test_a_runs_own_threshold_decides_its_alert(ws: Workspace) -> None:
    det = detector(ws, threshold=0.5)
    detector_run(ws, det, "adhoc", 0)
    ws.metadata_store.add_properties("adhoc", {"drift_threshold": "0.2"})  # run(..., drift_threshold=0.2)
    detector_run(ws, det, "scheduled", 1)
    sweep(ws.metadata_store, ws.folder, T0, magnitude=magnitudes({"adhoc": 30.0, "scheduled": 30.0}))
    [alert] = ws.metadata_store.list_drift_alerts(det.id)
    assert (alert.run_id, alert.threshold) == ("adhoc", 0.2)


def test_a_failing_webhook_is_retried_with_back_off_then_delivered(ws: Workspace) -> None:
    det = detector(ws, threshold=0.1)
    date = detector_run(ws, det, "r1", 0)
    now = datetime.now(UTC) + timedelta(seconds=1)  # the alert's first attempt is due when it is raised
    with Receiver(fail_first=1) as receiver:
        SecretStore(ws.folder).put(webhook_key("d"), receiver.url)
        first = sweep(ws.metadata_store, ws.folder, now, magnitude=magnitudes({"r1": 55.0}))
        [alert] = ws.metadata_store.list_drift_alerts(det.id)
        assert first.delivered == [] and len(receiver.attempts) == 1
        assert (alert.webhook_state, alert.attempts) == ("pending", 1)
        assert "HTTP 500" in (alert.last_error or "") and SECRET not in (alert.last_error or "")

        # not before its back-off (10 s after the failed attempt) ...
        sweep(ws.metadata_store, ws.folder, now + timedelta(seconds=9))
        assert len(receiver.attempts) == 1
        # ... then delivered
        later = sweep(ws.metadata_store, ws.folder, now + timedelta(seconds=10))
        assert later.delivered == [alert.id]
    [alert] = ws.metadata_store.list_drift_alerts(det.id)
    assert (alert.webhook_state, alert.attempts) == ("delivered", 2) and alert.delivered_at
    [body] = receiver.bodies
    assert body["detector"] == "d" and body["run_id"] == "r1" and body["target_date"] == date
    assert (body["magnitude"], body["drift_threshold"], body["email_addresses"]) == (55.0, 0.1, ["ops@example.org"])


def test_the_outbox_survives_a_restart_and_gives_up_after_its_attempts(tmp_path: Path, headwater_home: Path) -> None:
    ws = Workspace.create("outbox")
    try:
        det = detector(ws, threshold=0.1)
        detector_run(ws, det, "r1", 0)
        now = datetime.now(UTC) + timedelta(seconds=1)
        with Receiver(fail_first=100) as receiver:
            SecretStore(ws.folder).put(webhook_key("d"), receiver.url)
            sweep(ws.metadata_store, ws.folder, now, magnitude=magnitudes({"r1": 55.0}))
            folder = ws.folder
            ws.close()  # the server stops with the webhook pending ...
            ws = Workspace.get("outbox")  # ... and a new one opens the same database
            drift_alerts._CHECKED.clear()
            [alert] = ws.metadata_store.list_drift_alerts(det.id)
            assert (alert.webhook_state, alert.attempts) == ("pending", 1)
            sweep(ws.metadata_store, folder, now + timedelta(seconds=10))  # attempt 2 (back-off 10 s)
            sweep(ws.metadata_store, folder, now + timedelta(seconds=30))  # attempt 3 (back-off 20 s): the last
            sweep(ws.metadata_store, folder, now + timedelta(hours=2))  # nothing more
        [alert] = ws.metadata_store.list_drift_alerts(det.id)
        assert (alert.webhook_state, alert.attempts) == ("failed", 3) and len(receiver.attempts) == 3
    finally:
        ws.close()


def test_an_alert_mail_goes_out_only_with_an_smtp_server(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.ops.smtp_receiver import SmtpReceiver

    det = detector(ws, threshold=0.1, emails=["a@example.org", "b@example.org"])
    detector_run(ws, det, "r1", 0)
    monkeypatch.delenv("HEADWATER_SMTP_HOST", raising=False)
    with SmtpReceiver() as smtp:
        sweep(ws.metadata_store, ws.folder, T0, magnitude=magnitudes({"r1": 55.0}))
        assert smtp.messages == []  # no SMTP server configured: the addresses are only kept
        detector_run(ws, det, "r2", 1)
        monkeypatch.setenv("HEADWATER_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("HEADWATER_SMTP_PORT", str(smtp.port))
        sweep(ws.metadata_store, ws.folder, T0, magnitude=magnitudes({"r2": 65.0}))
    [(recipients, text)] = smtp.messages
    assert recipients == ["a@example.org", "b@example.org"]
    assert "Data drift alert: detector d" in text and "65.0 %" in text
