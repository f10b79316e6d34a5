"""Plain records read from and written to the metadata store.

These are what everything below the SDK works with: frozen dataclasses, no behaviour, no I/O.
JSON columns arrive here already decoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from headwater.status import TERMINAL
from headwater.store.values import utcnow

__all__ = [
    "ComputeTargetRecord",
    "DatasetRecord",
    "DatastoreRecord",
    "EnvironmentRecord",
    "ExperimentRecord",
    "MetricRecord",
    "RunOutputRecord",
    "RunRecord",
    "TERMINAL_STATUSES",
    "utcnow",
]

#: How runs end (SDK v1's final statuses of pipeline, step and script runs). The store refuses to
#: move a run out of one unless it is reopened on purpose (``update_run(..., reopen=True)``).
TERMINAL_STATUSES = TERMINAL


@dataclass(frozen=True)
class DatastoreRecord:
    name: str
    kind: str  # 'local' (the built-in stores and register_local_folder), later 'azure_blob', 's3'
    config: dict[str, Any]
    created_at: str = field(default_factory=utcnow)


@dataclass(frozen=True)
class DatasetRecord:
    id: str
    kind: str  # 'file' | 'tabular'
    definition: dict[str, Any]
    name: str | None = None
    version: int | None = None
    digest: str | None = None
    file_digests: dict[str, str] | None = None
    description: str | None = None
    tags: dict[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=utcnow)


@dataclass(frozen=True)
class EnvironmentRecord:
    name: str
    version: int
    definition: dict[str, Any]
    digest: str
    created_at: str = field(default_factory=utcnow)


@dataclass(frozen=True)
class ComputeTargetRecord:
    name: str
    kind: str
    config: dict[str, Any]
    created_at: str = field(default_factory=utcnow)


@dataclass(frozen=True)
class ExperimentRecord:
    id: str
    name: str
    created_at: str = field(default_factory=utcnow)


@dataclass(frozen=True)
class RunRecord:
    id: str
    experiment_id: str
    kind: str  # 'pipeline' | 'step' | 'script'
    status: str
    name: str | None = None
    parent_id: str | None = None
    pipeline_id: str | None = None
    created_at: str = field(default_factory=utcnow)
    started_at: str | None = None
    ended_at: str | None = None
    heartbeat_at: str | None = None
    fingerprint: str | None = None
    reused_run_id: str | None = None
    reason: str | None = None
    snapshot_id: str | None = None
    compute_target: str | None = None
    definition: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None


@dataclass(frozen=True)
class MetricRecord:
    run_id: str
    name: str
    kind: str  # 'scalar' | 'list' | 'row' | 'table' | 'image'
    value: Any
    description: str | None = None
    logged_at: str = field(default_factory=utcnow)


@dataclass(frozen=True)
class RunOutputRecord:
    run_id: str
    name: str
    datastore: str
    path: str
    digest: str | None = None
