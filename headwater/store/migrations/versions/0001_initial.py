"""The initial metadata schema: everything later issues need, designed up front.

Revision ID: 0001_initial
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column:
    # ISO-8601 UTC text with microseconds: sortable, readable, the same on SQLite and PostgreSQL.
    return sa.Column(name, sa.Text, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "datastores",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("config", sa.Text, nullable=False),  # JSON; secrets live apart from it
        _ts("created_at", nullable=False),
    )
    op.create_table(
        "datasets",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=True),  # NULL for a saved, unregistered definition
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("kind", sa.Text, nullable=False),  # 'file' | 'tabular'
        sa.Column("definition", sa.Text, nullable=False),  # JSON
        sa.Column("digest", sa.Text, nullable=True),  # content digest of the files at registration
        sa.Column("file_digests", sa.Text, nullable=True),  # JSON {relative path: digest}
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("tags", sa.Text, nullable=False, server_default="{}"),
        _ts("created_at", nullable=False),
        sa.UniqueConstraint("name", "version", name="uq_datasets_name_version"),
    )
    op.create_table(
        "environments",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("digest", sa.Text, nullable=False),
        _ts("created_at", nullable=False),
    )
    op.create_table(
        "compute_targets",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        _ts("created_at", nullable=False),
    )
    op.create_table(
        "experiments",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        _ts("created_at", nullable=False),
    )
    op.create_table(
        "pipelines",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("version", sa.Text, nullable=True),
        sa.Column("graph", sa.Text, nullable=False),  # JSON of the pipeline graph
        sa.Column("status", sa.Text, nullable=False, server_default="Active"),
        sa.Column("published", sa.Integer, nullable=False, server_default="0"),
        _ts("created_at", nullable=False),
    )
    op.create_table(
        "snapshots",
        sa.Column("id", sa.Text, primary_key=True),  # the content digest
        sa.Column("file_count", sa.Integer, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        _ts("created_at", nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("experiment_id", sa.Text, sa.ForeignKey("experiments.id"), nullable=False),
        sa.Column("parent_id", sa.Text, sa.ForeignKey("runs.id"), nullable=True),
        sa.Column("pipeline_id", sa.Text, sa.ForeignKey("pipelines.id"), nullable=True),
        sa.Column("kind", sa.Text, nullable=False),  # 'pipeline' | 'step' | 'script'
        sa.Column("name", sa.Text, nullable=True),
        sa.Column("status", sa.Text, nullable=False),
        _ts("created_at", nullable=False),
        _ts("started_at"),
        _ts("ended_at"),
        _ts("heartbeat_at"),
        sa.Column("fingerprint", sa.Text, nullable=True),
        sa.Column("reused_run_id", sa.Text, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),  # why it ran or was reused
        sa.Column("snapshot_id", sa.Text, nullable=True),
        sa.Column("compute_target", sa.Text, nullable=True),
        sa.Column("definition", sa.Text, nullable=False, server_default="{}"),  # JSON task spec
        sa.Column("error", sa.Text, nullable=True),  # JSON
    )
    op.create_index("ix_runs_experiment", "runs", ["experiment_id", "created_at"])
    op.create_index("ix_runs_parent", "runs", ["parent_id"])
    op.create_index("ix_runs_fingerprint", "runs", ["fingerprint", "status"])
    op.create_table(
        "run_properties",
        sa.Column("run_id", sa.Text, sa.ForeignKey("runs.id"), primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "run_tags",
        sa.Column("run_id", sa.Text, sa.ForeignKey("runs.id"), primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=True),
    )
    op.create_table(
        "metrics",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Text, sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),  # scalar | list | row | table | image
        sa.Column("value", sa.Text, nullable=False),  # JSON
        sa.Column("description", sa.Text, nullable=True),
        _ts("logged_at", nullable=False),
    )
    op.create_index("ix_metrics_run", "metrics", ["run_id", "name", "id"])
    op.create_table(
        "run_outputs",
        sa.Column("run_id", sa.Text, sa.ForeignKey("runs.id"), primary_key=True),
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("datastore", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("digest", sa.Text, nullable=True),
    )


def downgrade() -> None:
    for table in (
        "run_outputs",
        "metrics",
        "run_tags",
        "run_properties",
        "runs",
        "snapshots",
        "pipelines",
        "experiments",
        "compute_targets",
        "environments",
        "datasets",
        "datastores",
        "meta",
    ):
        op.drop_table(table)
