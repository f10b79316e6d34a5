"""Sharing: published pipelines, pipeline endpoints, drafts, schedules and their fires, API tokens,
database leases, registered models.

Revision ID: 0002_sharing
Revises: 0001_initial

A published pipeline is a row of ``pipelines`` with ``published = 1``: its ``graph`` is the frozen
pipeline (each step's source directory replaced by the workspace snapshot it was published with),
so any process submits it the same way. Endpoints group published pipelines as numbered versions.
A schedule fires a published pipeline or an endpoint on a recurrence or when files under a
datastore path change; each fire is recorded (unique per schedule and occurrence) before it
submits, so two servers never fire one occurrence twice. Tokens are stored as hashes only.
A registered model version (``models``, id ``name:version``) lists its files by content digest; the
files themselves live once per content in the workspace folder (``models/``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_sharing"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column:
    # ISO-8601 UTC text with microseconds, as in 0001_initial.
    return sa.Column(name, sa.Text, nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("pipelines") as batch:
        batch.add_column(sa.Column("continue_on_step_failure", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("source_run_id", sa.Text, nullable=True))  # PipelineRun.publish_pipeline
        batch.add_column(sa.Column("properties", sa.Text, nullable=False, server_default="{}"))  # JSON
        batch.add_column(_ts("updated_at"))
    op.create_index("ix_pipelines_published", "pipelines", ["published", "name"])
    op.create_table(
        "pipeline_endpoints",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("status", sa.Text, nullable=False, server_default="Active"),  # Active | Disabled | Deprecated
        sa.Column("default_version", sa.Text, nullable=True),
        _ts("created_at", nullable=False),
        _ts("updated_at"),
    )
    op.create_table(
        "pipeline_endpoint_versions",
        sa.Column("endpoint_id", sa.Text, sa.ForeignKey("pipeline_endpoints.id"), primary_key=True),
        sa.Column("version", sa.Text, primary_key=True),  # "0", "1", ... as SDK v1 numbers them
        sa.Column("pipeline_id", sa.Text, sa.ForeignKey("pipelines.id"), nullable=False),
        _ts("created_at", nullable=False),
    )
    op.create_table(
        "pipeline_drafts",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("experiment_name", sa.Text, nullable=True),
        sa.Column("graph", sa.Text, nullable=False),  # JSON of the frozen pipeline graph
        sa.Column("pipeline_parameters", sa.Text, nullable=False, server_default="{}"),  # JSON
        sa.Column("continue_on_step_failure", sa.Integer, nullable=True),
        sa.Column("tags", sa.Text, nullable=False, server_default="{}"),  # JSON
        sa.Column("properties", sa.Text, nullable=False, server_default="{}"),  # JSON
        sa.Column("last_submitted_run_id", sa.Text, nullable=True),
        _ts("created_at", nullable=False),
        _ts("updated_at"),
    )
    op.create_table(
        "schedules",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("status", sa.Text, nullable=False, server_default="Active"),  # Active | Disabled
        sa.Column("pipeline_id", sa.Text, sa.ForeignKey("pipelines.id"), nullable=True),
        sa.Column("pipeline_endpoint_id", sa.Text, sa.ForeignKey("pipeline_endpoints.id"), nullable=True),
        sa.Column("experiment_name", sa.Text, nullable=False),
        sa.Column("pipeline_parameters", sa.Text, nullable=False, server_default="{}"),  # JSON
        sa.Column("continue_on_step_failure", sa.Integer, nullable=True),
        sa.Column("recurrence", sa.Text, nullable=True),  # JSON of ScheduleRecurrence; NULL for a datastore trigger
        sa.Column("datastore", sa.Text, nullable=True),
        sa.Column("path_on_datastore", sa.Text, nullable=True),
        sa.Column("polling_interval", sa.Integer, nullable=True),  # minutes
        sa.Column("data_path_parameter_name", sa.Text, nullable=True),
        sa.Column("state", sa.Text, nullable=False, server_default="{}"),  # JSON: digests seen by a trigger ...
        _ts("created_at", nullable=False),
        _ts("updated_at"),
    )
    op.create_table(
        "schedule_fires",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("schedule_id", sa.Text, sa.ForeignKey("schedules.id"), nullable=False),
        # The occurrence: its due time (ISO UTC) for a recurrence, a change key for a trigger.
        sa.Column("occurrence", sa.Text, nullable=False),
        _ts("due_at"),
        _ts("recorded_at", nullable=False),
        sa.Column("late", sa.Integer, nullable=False, server_default="0"),  # fired after downtime
        sa.Column("status", sa.Text, nullable=False),  # Pending | Submitted | Failed
        sa.Column("run_id", sa.Text, nullable=True),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("holder", sa.Text, nullable=True),  # the server that recorded it
        sa.UniqueConstraint("schedule_id", "occurrence", name="uq_schedule_fires_occurrence"),
    )
    op.create_index("ix_schedule_fires_schedule", "schedule_fires", ["schedule_id", "id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("scope", sa.Text, nullable=False),  # read | submit | admin
        sa.Column("hash", sa.Text, nullable=False, unique=True),  # sha256 of the token; never the token
        _ts("created_at", nullable=False),
        _ts("last_used_at"),
        _ts("revoked_at"),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.Text, primary_key=True),  # what is leased ("scheduler", ...)
        sa.Column("holder", sa.Text, nullable=False),
        _ts("expires_at", nullable=False),
    )
    op.create_table(
        "models",
        sa.Column("id", sa.Text, primary_key=True),  # "<name>:<version>", as SDK v1 names a model version
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),  # 1, 2, ... per name
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("tags", sa.Text, nullable=False, server_default="{}"),  # JSON
        sa.Column("properties", sa.Text, nullable=False, server_default="{}"),  # JSON
        sa.Column("framework", sa.Text, nullable=True),
        sa.Column("framework_version", sa.Text, nullable=True),
        sa.Column("digest", sa.Text, nullable=False),  # sha256 over the file list (paths and contents)
        sa.Column("files", sa.Text, nullable=False),  # JSON {relative path: sha256 of the content}
        sa.Column("run_id", sa.Text, nullable=True),  # the run the files came from
        sa.Column("experiment_name", sa.Text, nullable=True),
        sa.Column("datasets", sa.Text, nullable=False, server_default="[]"),  # JSON [{"name": scenario, "id": ...}]
        sa.Column("extra", sa.Text, nullable=False, server_default="{}"),  # JSON: sample datasets, resources ...
        _ts("created_at", nullable=False),
        sa.UniqueConstraint("name", "version", name="uq_models_name_version"),
    )


def downgrade() -> None:
    for table in (
        "models",
        "leases",
        "api_tokens",
        "schedule_fires",
        "schedules",
        "pipeline_drafts",
        "pipeline_endpoint_versions",
        "pipeline_endpoints",
    ):
        op.drop_table(table)
    op.drop_index("ix_pipelines_published", table_name="pipelines")
    with op.batch_alter_table("pipelines") as batch:
        for column in ("updated_at", "properties", "source_run_id", "continue_on_step_failure"):
            batch.drop_column(column)
