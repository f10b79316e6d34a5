"""Read-only queries behind the studio's pages (a part of :class:`~headwater.store.metadata.MetadataStore`).

Built for pages that must stay fast at any size: the run listing pages with ``LIMIT``/``OFFSET``
over an index-ordered scan (``ix_runs_experiment``, ``ix_runs_toplevel``), and every per-row detail
(tags, step counts) is one query for the whole page, never one per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from headwater.store.records import RunRecord
from headwater.store.repo_base import RepoBase, loads
from headwater.store.repo_runs import _RUN_COLUMNS, RunQueries

__all__ = ["RunFilter", "StepRow", "StudioQueries"]

#: Sort keys of :meth:`StudioQueries.page_runs` and their columns.
SORT_COLUMNS = {
    "created": "created_at",
    "started": "started_at",
    "ended": "ended_at",
    "name": "name",
    "status": "status",
}


@dataclass(frozen=True)
class RunFilter:
    """What the runs page filters on; None means any."""

    experiment_id: str | None = None
    status: str | None = None
    kind: str | None = None
    tag_key: str | None = None
    tag_value: str | None = None
    created_from: str | None = None  # ISO timestamps, compared as text (UTC, same format)
    created_to: str | None = None


@dataclass(frozen=True)
class StepRow:
    """A step run without its definition: what the graph and the step table show."""

    id: str
    name: str | None
    status: str
    node_id: str | None
    created_at: str
    started_at: str | None
    ended_at: str | None
    reused_run_id: str | None
    reason: str | None
    compute_target: str | None
    error: dict[str, Any] | None


class StudioQueries(RepoBase):
    """The studio's listings (a part of :class:`MetadataStore`)."""

    @staticmethod
    def _where(f: RunFilter) -> tuple[str, list[Any]]:
        where, params = ["parent_id IS NULL"], []
        for column, value in (("experiment_id", f.experiment_id), ("status", f.status), ("kind", f.kind)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if f.created_from is not None:
            where.append("created_at >= ?")
            params.append(f.created_from)
        if f.created_to is not None:
            where.append("created_at < ?")
            params.append(f.created_to)
        if f.tag_key is not None:
            sub = "SELECT 1 FROM run_tags t WHERE t.run_id = runs.id AND t.key = ?"
            params.append(f.tag_key)
            if f.tag_value is not None:
                sub += " AND t.value = ?"
                params.append(f.tag_value)
            where.append(f"EXISTS ({sub})")
        return " AND ".join(where), params

    def page_runs(
        self, f: RunFilter, *, sort: str = "created", descending: bool = True, limit: int = 50, offset: int = 0
    ) -> list[RunRecord]:
        """One page of top-level runs (pipeline and script runs) matching ``f``, sorted by ``sort``."""
        column = SORT_COLUMNS[sort]
        where, params = self._where(f)
        direction = "DESC" if descending else "ASC"
        order = (  # runs without a value (no name, not started yet) last, whichever the direction
            f"{column} {direction}"
            if column == "created_at"
            else f"{column} IS NULL, {column} {direction}, created_at DESC"
        )
        sql = (
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE {where} ORDER BY {order}, id {direction} "
            f"LIMIT {int(limit)} OFFSET {int(offset)}"
        )
        return [RunQueries._run(r) for r in self._all(sql, params)]

    def count_runs(self, f: RunFilter) -> int:
        """How many top-level runs match ``f``."""
        where, params = self._where(f)
        row = self._one(f"SELECT COUNT(*) FROM runs WHERE {where}", params)
        return int(row[0]) if row else 0

    def step_counts(self, parent_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """``{parent id: {status: n, "Reused": n}}`` for the step runs of each of ``parent_ids``."""
        if not parent_ids:
            return {}
        marks = ",".join("?" * len(parent_ids))
        rows = self._all(
            "SELECT parent_id, status, reused_run_id IS NOT NULL, COUNT(*) FROM runs "
            f"WHERE parent_id IN ({marks}) GROUP BY parent_id, status, reused_run_id IS NOT NULL",
            list(parent_ids),
        )
        out: dict[str, dict[str, int]] = {}
        for parent, status, reused, n in rows:
            key = "Reused" if reused else status
            counts = out.setdefault(parent, {})
            counts[key] = counts.get(key, 0) + int(n)
        return out

    def tags_of(self, run_ids: Sequence[str]) -> dict[str, dict[str, str | None]]:
        """The tags of each of ``run_ids`` (one query)."""
        if not run_ids:
            return {}
        marks = ",".join("?" * len(run_ids))
        out: dict[str, dict[str, str | None]] = {}
        for run_id, key, value in self._all(
            f"SELECT run_id, key, value FROM run_tags WHERE run_id IN ({marks}) ORDER BY run_id, key", list(run_ids)
        ):
            out.setdefault(run_id, {})[key] = value
        return out

    def properties_of(self, run_ids: Sequence[str], keys: Sequence[str]) -> dict[str, dict[str, str]]:
        """The properties named ``keys`` of each of ``run_ids`` that has any (a query per 500 runs)."""
        out: dict[str, dict[str, str]] = {}
        ids, names = list(run_ids), list(keys)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            sql = (
                f"SELECT run_id, key, value FROM run_properties WHERE run_id IN ({','.join('?' * len(chunk))}) "
                f"AND key IN ({','.join('?' * len(names))})"
            )
            for run_id, key, value in self._all(sql, chunk + names) if names else ():
                out.setdefault(run_id, {})[key] = value
        return out

    def step_rows(self, parent_id: str) -> list[StepRow]:
        """The step runs of a pipeline run, oldest first, with their node ids (no definitions)."""
        rows = self._all(
            "SELECT r.id, r.name, r.status, t.value, r.created_at, r.started_at, r.ended_at, r.reused_run_id, "
            "r.reason, r.compute_target, r.error FROM runs r "
            "LEFT JOIN run_tags t ON t.run_id = r.id AND t.key = 'azureml.nodeid' "
            "WHERE r.parent_id = ? ORDER BY r.created_at, r.id",
            (parent_id,),
        )
        return [
            StepRow(
                id=r[0],
                name=r[1],
                status=r[2],
                node_id=r[3],
                created_at=r[4],
                started_at=r[5],
                ended_at=r[6],
                reused_run_id=r[7],
                reason=r[8],
                compute_target=r[9],
                error=loads(r[10]),
            )
            for r in rows
        ]

    def step_statuses(self, parent_id: str) -> list[tuple[str, str, str | None, str | None, str | None]]:
        """``(id, status, started_at, ended_at, reused_run_id)`` of each step run (for live updates)."""
        rows = self._all(
            "SELECT id, status, started_at, ended_at, reused_run_id FROM runs WHERE parent_id = ?", (parent_id,)
        )
        return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def previous_step_run(
        self, name: str, experiment_id: str, before: str, *, exclude: str | None = None
    ) -> RunRecord | None:
        """The latest step run named ``name`` in the experiment created before ``before`` that ran
        or was reused (one with a fingerprint), other than ``exclude``."""
        row = self._one(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE experiment_id = ? AND kind = 'step' AND name = ? "
            "AND created_at < ? AND fingerprint IS NOT NULL AND id <> ? ORDER BY created_at DESC LIMIT 1",
            (experiment_id, name, before, exclude or ""),
        )
        return None if row is None else RunQueries._run(row)
