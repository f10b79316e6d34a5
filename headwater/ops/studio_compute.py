"""Queries of the studio's compute pages: compute targets and environments — what exists, what ran where.

Usage is counted over the latest :data:`RECENT_RUNS` step and script runs (portable SQL, no JSON
queries; the pages say so): runs per compute target (a run without one ran on ``local``) and per
environment (by the environment digest in the run's fingerprint parts, the digest a registered
environment records too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headwater.layout import WorkspaceLayout
from headwater.store.metadata import MetadataStore
from headwater.store.records import RunRecord

__all__ = ["RECENT_RUNS", "EnvironmentRow", "TargetRow", "compute_targets", "environments"]

#: How many of the latest step and script runs the usage counts look at.
RECENT_RUNS = 2000


@dataclass
class TargetRow:
    name: str
    kind: str
    config: dict[str, Any]
    registered: bool
    runs: int = 0
    last_run: RunRecord | None = None


@dataclass
class EnvironmentRow:
    digest: str
    names: list[tuple[str, int]] = field(default_factory=list)  # registered (name, version)
    built: bool = False
    runs: int = 0
    last_run: RunRecord | None = None


def _recent(store: MetadataStore, limit: int) -> list[RunRecord]:
    runs = store.list_runs(kind="step", limit=limit) + store.list_runs(kind="script", limit=limit)
    runs.sort(key=lambda r: r.created_at, reverse=True)
    return runs[:limit]


def compute_targets(store: MetadataStore, limit: int = RECENT_RUNS) -> list[TargetRow]:
    """``local`` and every attached target, plus any target a recent run names, with their runs."""
    rows: dict[str, TargetRow] = {"local": TargetRow("local", "local", {}, True)}
    for t in store.list_compute_targets():
        rows[t.name] = TargetRow(t.name, t.kind, dict(t.config), True)
    for run in _recent(store, limit):
        name = run.compute_target or "local"
        row = rows.setdefault(name, TargetRow(name, "unknown", {}, False))
        row.runs += 1
        if row.last_run is None:
            row.last_run = run
    return list(rows.values())


def environments(store: MetadataStore, ws_folder: str | Path, limit: int = RECENT_RUNS) -> list[EnvironmentRow]:
    """Registered environments and the environments recent runs used (by digest), with their runs."""
    root = WorkspaceLayout(Path(ws_folder)).environments
    rows: dict[str, EnvironmentRow] = {}
    for env in store.list_environments():
        rows.setdefault(env.digest, EnvironmentRow(env.digest)).names.append((env.name, env.version))
    for run in _recent(store, limit):
        parts = run.definition.get("fingerprint_parts")
        digest = parts.get("environment") if isinstance(parts, dict) else None
        if not isinstance(digest, str):
            continue
        row = rows.setdefault(digest, EnvironmentRow(digest))
        row.runs += 1
        if row.last_run is None:
            row.last_run = run
    for row in rows.values():
        row.built = (root / row.digest).is_dir()
    return sorted(rows.values(), key=lambda r: (-r.runs, r.names[0] if r.names else ("~", 0)))
