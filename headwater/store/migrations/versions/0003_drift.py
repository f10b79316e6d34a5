"""Data drift: dataset monitors (SDK v1's ``DataDriftDetector``), their runs and their alerts.

Revision ID: 0003_drift
Revises: 0002_sharing

A detector compares a baseline tabular dataset with a time-stamped target dataset period by
period. ``drift_detectors`` holds its settings; a deleted detector keeps its row (state
``Deleted``) so its runs stay explained, and only a live detector's name is unique.
``drift_runs`` ties each detector run (a pipeline run in the detector's experiment) to the period
it covers, the target date; a scheduled period is recorded once per ``(detector_id, occurrence)``
before it is submitted, so two schedulers never submit one period twice (manual runs leave
``occurrence`` NULL and may repeat). ``drift_alerts`` is the outbox of alerts: one row per run whose
magnitude crossed the threshold, with the webhook delivery's state.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_drift"
down_revision = "0002_sharing"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column:
    # ISO-8601 UTC text with microseconds, as in 0001_initial.
    return sa.Column(name, sa.Text, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "drift_detectors",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("baseline_dataset", sa.Text, nullable=False),  # JSON {"id", "name", "version"}
        sa.Column("target_dataset", sa.Text, nullable=False),  # JSON {"id", "name", "version"}
        sa.Column("compute_target", sa.Text, nullable=True),
        sa.Column("frequency", sa.Text, nullable=False, server_default="Day"),  # Day | Week | Month
        sa.Column("feature_list", sa.Text, nullable=True),  # JSON list; NULL = every common feature
        sa.Column("drift_threshold", sa.Float, nullable=False, server_default="0.2"),
        sa.Column("latency", sa.Integer, nullable=False, server_default="0"),  # hours
        sa.Column("alert_emails", sa.Text, nullable=False, server_default="[]"),  # JSON list
        sa.Column("state", sa.Text, nullable=False, server_default="Disabled"),  # Enabled | Disabled | Deleted
        _ts("schedule_start"),
        sa.Column("experiment_name", sa.Text, nullable=False),
        sa.Column("properties", sa.Text, nullable=False, server_default="{}"),  # JSON
        _ts("created_at", nullable=False),
        _ts("updated_at"),
    )
    op.create_index(
        "uq_drift_detectors_live_name",
        "drift_detectors",
        ["name"],
        unique=True,
        sqlite_where=sa.text("state != 'Deleted'"),
        postgresql_where=sa.text("state != 'Deleted'"),
    )
    op.create_table(
        "drift_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("detector_id", sa.Text, sa.ForeignKey("drift_detectors.id"), nullable=False),
        sa.Column("target_date", sa.Text, nullable=False),  # the period's start, ISO UTC
        sa.Column("trigger", sa.Text, nullable=False),  # run | backfill | schedule
        sa.Column("occurrence", sa.Text, nullable=True),  # set by the scheduler: one submit per period
        sa.Column("status", sa.Text, nullable=False),  # Pending | Submitted | Failed
        sa.Column("run_id", sa.Text, nullable=True),  # the pipeline run
        sa.Column("detail", sa.Text, nullable=True),  # why the submit failed
        sa.Column("holder", sa.Text, nullable=True),  # the server that recorded it
        _ts("created_at", nullable=False),
        sa.UniqueConstraint("detector_id", "occurrence", name="uq_drift_runs_occurrence"),
    )
    op.create_index("ix_drift_runs_detector", "drift_runs", ["detector_id", "target_date", "id"])
    op.create_table(
        "drift_alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("detector_id", sa.Text, sa.ForeignKey("drift_detectors.id"), nullable=False),
        sa.Column("detector_name", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text, nullable=False, unique=True),  # one alert per detector run
        sa.Column("target_date", sa.Text, nullable=False),
        sa.Column("magnitude", sa.Float, nullable=False),  # 0-100
        sa.Column("threshold", sa.Float, nullable=False),  # 0-1, as the detector had it
        _ts("created_at", nullable=False),
        sa.Column("webhook_state", sa.Text, nullable=False, server_default="none"),  # pending|delivered|failed|none
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        _ts("next_attempt_at"),
        _ts("delivered_at"),
    )
    op.create_index("ix_drift_alerts_detector", "drift_alerts", ["detector_id", "id"])
    op.create_index("ix_drift_alerts_webhook", "drift_alerts", ["webhook_state", "next_attempt_at"])


def downgrade() -> None:
    for table in ("drift_alerts", "drift_runs"):
        op.drop_table(table)
    op.drop_index("uq_drift_detectors_live_name", table_name="drift_detectors")
    op.drop_table("drift_detectors")
