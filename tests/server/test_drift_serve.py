"""Data drift through a real ``headwater serve``: the scheduler runs each due period of an enabled
detector once, raises an alert for the drifted period only (a run property, a server log line, a
webhook POST), retries the webhook while the receiver fails, and delivers what was pending after
a restart. The webhook URL (with a secret in its path) never reaches the server's log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from headwater import Workspace
from headwater.ops.drift_alerts import ALERT_PROPERTY
from tests.ops.drift_receiver import SECRET, Receiver
from tests.server.conftest import start_serve, stop_process, wait_until
from tests.server.drift_data import make_monitor


@pytest.mark.slow
def test_the_schedule_runs_each_period_once_and_alerts_on_drift_through_a_webhook(
    headwater_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEADWATER_DRIFT_WEBHOOK_BACKOFF", "0.2")  # the servers inherit these
    monkeypatch.setenv("HEADWATER_DRIFT_WEBHOOK_ATTEMPTS", "1000")
    today = datetime.now(UTC).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    days = [today - timedelta(days=2), today - timedelta(days=1)]  # both complete: due now (latency 0)
    ws = Workspace.create("drift-ws")
    procs = []
    try:
        with Receiver(fail_first=10**6) as receiver:
            monitor = make_monitor(ws, tmp_path, "weather", days, shifted=[days[1]], webhook_url=receiver.url)
            monitor.update(schedule_start=days[0])
            ws.metadata_store.update_detector(monitor._record.id, state="Enabled")  # enable_schedule minus autostart
            procs.append(start_serve(ws.folder, "--port", "0", log=tmp_path / "first.log"))

            store = ws.metadata_store
            det = store.get_detector("weather")
            assert det is not None
            runs = wait_until(
                lambda: len(r := [x for x in store.list_drift_runs(det.id) if x.run_id]) == 2 and r,
                timeout=120,
                what="the scheduler to submit both periods",
            )
            assert [(r.target_date, r.trigger) for r in runs] == [(d.isoformat(), "schedule") for d in days]
            alert = wait_until(
                lambda: (a := store.list_drift_alerts(det.id)) and a[0].attempts >= 2 and a[0],
                timeout=300,
                what="the alert and two failed webhook attempts",
            )
            assert alert.target_date == days[1].isoformat() and alert.run_id == runs[1].run_id
            assert alert.webhook_state == "pending" and "HTTP 500" in (alert.last_error or "")
            assert store.get_properties(runs[1].run_id)[ALERT_PROPERTY].startswith("magnitude ")
            assert ALERT_PROPERTY not in store.get_properties(runs[0].run_id)  # no drift on the first day

            stop_process(*procs.pop())  # the server stops with the webhook pending ...
            receiver.fail_first = 0  # ... the receiver recovers ...
            procs.append(start_serve(ws.folder, "--port", "0", log=tmp_path / "second.log"))
            delivered = wait_until(  # ... and the restarted server delivers it
                lambda: (a := store.drift_alert_of(alert.run_id)) and a.webhook_state == "delivered" and a,
                timeout=120,
                what="the webhook to be delivered after the restart",
            )
        assert delivered.attempts >= 3
        [body] = receiver.bodies
        assert (body["detector"], body["run_id"], body["target_date"]) == ("weather", alert.run_id, alert.target_date)
        assert body["magnitude"] > 30 and body["email_addresses"] == ["mlops@example.org"]
        assert len(store.list_drift_runs(det.id)) == 2  # each period once, across both servers
        assert len(store.list_drift_alerts(det.id)) == 1

        first_log = (tmp_path / "first.log").read_text(errors="replace")
        assert "Data drift alert: detector 'weather'" in first_log and days[1].isoformat() in first_log
        for log in ("first.log", "second.log"):
            assert SECRET not in (tmp_path / log).read_text(errors="replace")
    finally:
        for proc, out in procs:
            stop_process(proc, out)
        ws.close()


@pytest.mark.slow
@pytest.mark.postgres
def test_two_servers_on_one_postgres_workspace_run_each_period_and_alert_once(
    headwater_home: Path, tmp_path: Path, postgres_url: str
) -> None:
    import shutil

    today = datetime.now(UTC).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    days = [today - timedelta(days=3 - i) for i in range(3)]
    ws = Workspace.create("shared-drift", folder=tmp_path / "a", metadata_url=postgres_url)
    procs = []
    try:
        with Receiver() as receiver:
            monitor = make_monitor(ws, tmp_path / "src", "weather", days, shifted=[days[2]], webhook_url=receiver.url)
            monitor.update(schedule_start=days[0])
            ws.metadata_store.update_detector(monitor._record.id, state="Enabled")
            shutil.copytree(tmp_path / "a", tmp_path / "b")  # a second machine's folder (data, secrets)
            for folder in ("a", "b"):
                procs.append(start_serve(tmp_path / folder, "--port", "0", log=tmp_path / f"{folder}.log"))
            store = ws.metadata_store
            det = store.get_detector("weather")
            assert det is not None
            wait_until(
                lambda: (a := store.list_drift_alerts(det.id)) and a[0].webhook_state == "delivered",
                timeout=300,
                what="the alert to be delivered",
            )
        runs = store.list_drift_runs(det.id)
        assert [r.target_date for r in runs] == [d.isoformat() for d in days]  # each period once
        assert len({r.run_id for r in runs}) == 3
        [alert] = store.list_drift_alerts(det.id)
        assert alert.target_date == days[2].isoformat()
        assert [b["run_id"] for b in receiver.bodies] == [alert.run_id]  # delivered once
    finally:
        for proc, out in procs:
            stop_process(proc, out)
        ws.close()
