"""Data drift detectors, their runs and alerts in the store (0003_drift), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater.errors import AlreadyExistsError, NotFoundError
from headwater.status import DetectorState, FireStatus, WebhookState
from headwater.store.metadata import MetadataStore
from headwater.store.records import utcnow
from headwater.store.repo_drift import DetectorRecord
from headwater.store.schema import HEAD, MIGRATIONS_DIR

from .test_schema import TABLES, execute_raw, table_names


def _detector(name: str = "monitor", **kw: object) -> DetectorRecord:
    return DetectorRecord(
        id="",
        name=name,
        baseline_dataset={"id": "b1", "name": "train", "version": 1},
        target_dataset={"id": "t1", "name": "scoring", "version": 2},
        experiment_name=f"datadrift-{name}",
        **kw,  # type: ignore[arg-type]
    )


def test_detectors_are_created_listed_updated_and_deleted(store: MetadataStore) -> None:
    a = store.create_detector(_detector("b-monitor", feature_list=["x", "y"], alert_emails=["a@example.com"]))
    b = store.create_detector(_detector("a-monitor", frequency="Week", drift_threshold=0.3, latency=24))
    assert store.get_detector("b-monitor") == a
    assert a.feature_list == ["x", "y"] and a.state == DetectorState.Disabled and a.created_at
    assert [d.name for d in store.list_detectors()] == ["a-monitor", "b-monitor"]
    with pytest.raises(AlreadyExistsError, match="'a-monitor' already exists"):
        store.create_detector(_detector("a-monitor"))

    start = "2026-01-01T00:00:00+00:00"
    up = store.update_detector(b.id, state=DetectorState.Enabled, schedule_start=start, drift_threshold=0.5)
    assert (up.state, up.schedule_start, up.drift_threshold, up.latency) == ("Enabled", start, 0.5, 24)
    assert [d.name for d in store.list_detectors(state=DetectorState.Enabled)] == ["a-monitor"]
    cleared = store.update_detector(a.id, feature_list=None, compute_target=None)
    assert cleared.feature_list is None and cleared.alert_emails == ["a@example.com"]
    with pytest.raises(NotFoundError):
        store.update_detector("nope", latency=1)
    with pytest.raises(TypeError, match="name"):
        store.update_detector(a.id, name="renamed")

    store.delete_detector(a.id)
    assert store.get_detector("b-monitor") is None
    assert [d.name for d in store.list_detectors()] == ["a-monitor"]
    deleted = store.get_detector_by_id(a.id)
    assert deleted is not None and deleted.state == DetectorState.Deleted
    assert {d.name for d in store.list_detectors(include_deleted=True)} == {"a-monitor", "b-monitor"}
    # a deleted detector's name may be used again
    again = store.create_detector(_detector("b-monitor"))
    assert again.id != a.id and store.get_detector("b-monitor") == again


def test_a_scheduled_period_is_recorded_once_manual_runs_repeat(store: MetadataStore) -> None:
    d = store.create_detector(_detector())
    day = "2026-03-01T00:00:00+00:00"
    first = store.record_drift_run(d.id, day, trigger="schedule", occurrence=day, holder="server-1")
    assert first is not None and first.status == FireStatus.Pending and first.holder == "server-1"
    assert store.record_drift_run(d.id, day, trigger="schedule", occurrence=day) is None
    manual = [store.record_drift_run(d.id, day) for _ in range(2)]
    assert all(m is not None and m.trigger == "run" and m.occurrence is None for m in manual)
    store.finish_drift_run(first.id, run_id="run-1")
    assert manual[0] is not None
    store.finish_drift_run(manual[0].id, error="boom")
    runs = store.list_drift_runs(d.id)
    assert [(r.status, r.run_id) for r in runs] == [
        (FireStatus.Submitted, "run-1"),
        (FireStatus.Failed, None),
        (FireStatus.Pending, None),
    ]
    later = store.record_drift_run(d.id, "2026-03-02T00:00:00+00:00", trigger="backfill")
    assert later is not None
    assert [r.target_date for r in store.list_drift_runs(d.id, start="2026-03-02")] == [later.target_date]
    assert len(store.list_drift_runs(d.id, end="2026-03-01T23:59:59+00:00")) == 3
    found = store.drift_run_of("run-1")
    assert found is not None and found.id == first.id
    assert store.drift_run_of("other") is None


def test_an_alert_is_recorded_once_per_run_and_its_webhook_delivery_is_tracked(store: MetadataStore) -> None:
    d = store.create_detector(_detector(drift_threshold=0.25))
    quiet = store.record_drift_alert(d, "run-0", "2026-03-01T00:00:00+00:00", 40.0, webhook=False)
    assert quiet is not None and quiet.webhook_state == WebhookState.none and quiet.threshold == 0.25
    alert = store.record_drift_alert(d, "run-1", "2026-03-02T00:00:00+00:00", 55.5, webhook=True)
    assert alert is not None and alert.webhook_state == WebhookState.pending and alert.attempts == 0
    assert store.record_drift_alert(d, "run-1", "2026-03-02T00:00:00+00:00", 55.5, webhook=True) is None
    assert [a.run_id for a in store.pending_drift_alerts(utcnow())] == ["run-1"]
    store.update_drift_alert_delivery(alert.id, state=WebhookState.pending, error="HTTP 500", next_attempt_at="9999")
    assert store.pending_drift_alerts(utcnow()) == []
    retried = store.drift_alert_of("run-1")
    assert retried is not None and (retried.attempts, retried.last_error) == (1, "HTTP 500")
    store.update_drift_alert_delivery(alert.id, state=WebhookState.delivered)
    done = store.drift_alert_of("run-1")
    assert done is not None and done.webhook_state == WebhookState.delivered and done.delivered_at
    assert done.attempts == 2 and done.last_error is None
    assert [a.run_id for a in store.list_drift_alerts(d.id)] == ["run-1", "run-0"]
    assert [a.run_id for a in store.list_drift_alerts(limit=1)] == ["run-1"]


def test_a_0002_workspace_is_migrated_to_0003_and_keeps_its_rows(store_url: str) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from headwater.store.schema import sqlalchemy_url

    if store_url.startswith("sqlite:///"):
        Path(store_url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(sqlalchemy_url(store_url))
    try:
        with engine.begin() as conn:
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0002_sharing")
    finally:
        engine.dispose()
    assert "drift_detectors" not in table_names(store_url)
    execute_raw(
        store_url,
        "INSERT INTO api_tokens (id, name, scope, hash, created_at) VALUES ('t1', 'ci', 'read', 'h', '2026-01-01')",
    )
    with MetadataStore.open(store_url) as store:
        assert store.schema_revision() == HEAD == "0003_drift"
        assert store.create_detector(_detector()).name == "monitor"
    assert table_names(store_url) == TABLES
    assert execute_raw(store_url, "SELECT id, name FROM api_tokens") == [("t1", "ci")]
