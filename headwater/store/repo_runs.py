"""Experiment and run queries of :class:`~headwater.store.metadata.MetadataStore`.

Experiments, runs, and what belongs to a run: its properties, tags, metrics and outputs, and the
code snapshots runs point to.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from headwater.errors import AlreadyExistsError
from headwater.status import StepRunStatus
from headwater.store.records import (
    TERMINAL_STATUSES,
    ExperimentRecord,
    MetricRecord,
    RunOutputRecord,
    RunRecord,
    utcnow,
)
from headwater.store.repo_base import RepoBase, dumps, loads

__all__ = ["RunQueries"]

_RUN_COLUMNS = (
    "id, experiment_id, kind, status, name, parent_id, pipeline_id, created_at, started_at, ended_at, "
    "heartbeat_at, fingerprint, reused_run_id, reason, snapshot_id, compute_target, definition, error"
)


class RunQueries(RepoBase):
    """Experiments, runs, their properties, tags, metrics and outputs, and snapshots
    (a part of :class:`MetadataStore`)."""

    # -- experiments ---------------------------------------------------------------------------

    def get_or_create_experiment(self, name: str) -> ExperimentRecord:
        """The experiment called ``name``, created on first use (safe under concurrency)."""
        row = self._one("SELECT id, name, created_at FROM experiments WHERE name = ?", (name,))
        if row is not None:
            return ExperimentRecord(row[0], row[1], row[2])
        record = ExperimentRecord(str(uuid.uuid4()), name)
        try:
            self._exec(
                "INSERT INTO experiments (id, name, created_at) VALUES (?, ?, ?)",
                (record.id, record.name, record.created_at),
            )
        except Exception as exc:
            if not self._db.is_unique_violation(exc):
                raise
            row = self._one("SELECT id, name, created_at FROM experiments WHERE name = ?", (name,))
            assert row is not None
            return ExperimentRecord(row[0], row[1], row[2])
        return record

    def get_experiment(self, name: str) -> ExperimentRecord | None:
        row = self._one("SELECT id, name, created_at FROM experiments WHERE name = ?", (name,))
        return None if row is None else ExperimentRecord(row[0], row[1], row[2])

    def list_experiments(self) -> list[ExperimentRecord]:
        rows = self._all("SELECT id, name, created_at FROM experiments")
        return sorted((ExperimentRecord(*r) for r in rows), key=lambda r: r.name)

    # -- runs ----------------------------------------------------------------------------------

    @staticmethod
    def _run(row: tuple[Any, ...]) -> RunRecord:
        return RunRecord(
            id=row[0],
            experiment_id=row[1],
            kind=row[2],
            status=row[3],
            name=row[4],
            parent_id=row[5],
            pipeline_id=row[6],
            created_at=row[7],
            started_at=row[8],
            ended_at=row[9],
            heartbeat_at=row[10],
            fingerprint=row[11],
            reused_run_id=row[12],
            reason=row[13],
            snapshot_id=row[14],
            compute_target=row[15],
            definition=loads(row[16]) or {},
            error=loads(row[17]),
        )

    def create_run(self, r: RunRecord) -> RunRecord:
        self._exec(
            f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES ({', '.join('?' * 18)})",
            (
                r.id,
                r.experiment_id,
                r.kind,
                r.status,
                r.name,
                r.parent_id,
                r.pipeline_id,
                r.created_at,
                r.started_at,
                r.ended_at,
                r.heartbeat_at,
                r.fingerprint,
                r.reused_run_id,
                r.reason,
                r.snapshot_id,
                r.compute_target,
                dumps(r.definition),
                None if r.error is None else dumps(r.error),
            ),
        )
        return r

    _RUN_UPDATABLE = frozenset(
        {
            "status",
            "started_at",
            "ended_at",
            "heartbeat_at",
            "fingerprint",
            "reused_run_id",
            "reason",
            "snapshot_id",
            "compute_target",
            "definition",
            "error",
            "name",
        }
    )

    def update_run(self, run_id: str, *, reopen: bool = False, **fields: Any) -> bool:
        """Set columns of a run (``definition`` and ``error`` are JSON-encoded here); returns
        whether the run was changed.

        A final status is final: an update that sets ``status`` on a run that is Finished, Failed,
        Canceled or Completed changes nothing (no column of it) and returns False, unless
        ``reopen=True`` (what resuming a run does). The check and the write are one statement, so
        a late writer can never overwrite how a run ended.
        """
        unknown = set(fields) - self._RUN_UPDATABLE
        if unknown:
            raise ValueError(f"Cannot update run columns {sorted(unknown)}")
        if not fields:
            return False
        for key in ("definition", "error"):
            if key in fields and fields[key] is not None:
                fields[key] = dumps(fields[key])
        assignments = ", ".join(f"{k} = ?" for k in fields)
        sql = f"UPDATE runs SET {assignments} WHERE id = ?"
        if "status" in fields and not reopen:
            sql += f" AND status NOT IN ({', '.join('?' * len(TERMINAL_STATUSES))})"
            return self._exec(sql, (*fields.values(), run_id, *sorted(TERMINAL_STATUSES))) > 0
        return self._exec(sql, (*fields.values(), run_id)) > 0

    def forget_attempt(self, run_id: str, *, properties: Sequence[str] = ()) -> None:
        """Forget what an unfinished attempt of a run recorded, before the run is resumed: its metrics,
        its output records and the named ``properties`` (those its steps' start wrote), in one transaction."""
        with self._transaction(write=True):
            self._exec("DELETE FROM metrics WHERE run_id = ?", (run_id,))
            self._exec("DELETE FROM run_outputs WHERE run_id = ?", (run_id,))
            for key in properties:
                self._exec("DELETE FROM run_properties WHERE run_id = ? AND key = ?", (run_id, key))

    def merge_run_definition(self, run_id: str, changes: dict[str, Any]) -> None:
        """Add ``changes`` to a run's JSON ``definition`` (the keys it names are replaced), atomically.

        More than one process writes the definition of some runs (a script run's submitter records
        its orchestrator there while that orchestrator records the step): the read and the write
        happen in one write transaction with the row locked, so neither loses the other's keys.
        A run that does not exist is left alone.
        """
        lock = " FOR UPDATE" if self._db.is_postgres else ""  # SQLite's BEGIN IMMEDIATE already serializes
        with self._transaction(write=True):
            row = self._one(f"SELECT definition FROM runs WHERE id = ?{lock}", (run_id,))
            if row is None:
                return
            merged = {**(loads(row[0]) or {}), **changes}
            self._exec("UPDATE runs SET definition = ? WHERE id = ?", (dumps(merged), run_id))

    def get_run(self, run_id: str) -> RunRecord | None:
        row = self._one(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))
        return None if row is None else self._run(row)

    def list_runs(
        self,
        *,
        experiment_id: str | None = None,
        parent_id: str | None = None,
        kind: str | None = None,
        top_level: bool = False,
        limit: int | None = None,
    ) -> list[RunRecord]:
        """Runs, newest first, filtered by experiment, parent or kind."""
        where, params = [], []
        if experiment_id is not None:
            where.append("experiment_id = ?")
            params.append(experiment_id)
        if parent_id is not None:
            where.append("parent_id = ?")
            params.append(parent_id)
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        if top_level:
            where.append("parent_id IS NULL")
        sql = f"SELECT {_RUN_COLUMNS} FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [self._run(r) for r in self._all(sql, params)]

    def list_runs_definition_mentions(self, text: str, *, limit: int = 1000) -> list[RunRecord]:
        """Runs whose JSON ``definition`` contains ``text`` (e.g. a dataset id: the runs that read it),
        newest first; a candidate list for the caller to check in the parsed definition."""
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self._all(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE definition LIKE ? ESCAPE '\\' "
            f"ORDER BY created_at DESC, id LIMIT {int(limit)}",
            (pattern,),
        )
        return [self._run(r) for r in rows]

    def find_reusable_run(self, fingerprint: str, *, status: str = StepRunStatus.Finished) -> RunRecord | None:
        """The newest run with ``fingerprint`` and ``status`` that ran itself (not a reuse).

        Newest by ``ended_at``; a run without one comes last (PostgreSQL would sort NULL first).
        """
        row = self._one(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE fingerprint = ? AND status = ? AND reused_run_id IS NULL "
            "ORDER BY ended_at IS NULL, ended_at DESC, created_at DESC, id LIMIT 1",
            (fingerprint, status),
        )
        return None if row is None else self._run(row)

    def find_latest_step_run(self, name: str, *, experiment_id: str | None = None) -> RunRecord | None:
        """The newest step run called ``name`` that got past planning (it ran or was reused),
        preferring ``experiment_id``, else anywhere in the workspace."""
        sql = f"SELECT {_RUN_COLUMNS} FROM runs WHERE kind = 'step' AND name = ? AND fingerprint IS NOT NULL"
        if experiment_id is not None:
            row = self._one(sql + " AND experiment_id = ? ORDER BY created_at DESC LIMIT 1", (name, experiment_id))
            if row is not None:
                return self._run(row)
        row = self._one(sql + " ORDER BY created_at DESC LIMIT 1", (name,))
        return None if row is None else self._run(row)

    # -- properties, tags, metrics, outputs ----------------------------------------------------

    def add_properties(self, run_id: str, properties: dict[str, str]) -> None:
        """Add immutable properties; setting an existing key to another value is an error.

        All or nothing: when one key is refused, none of the others is added.
        """
        with self._transaction(write=True):
            for key, value in properties.items():
                text = str(value)
                # Insert-or-keep, then compare: safe when two writers add the same key at once.
                self._exec(
                    "INSERT INTO run_properties (run_id, key, value) VALUES (?, ?, ?) "
                    "ON CONFLICT (run_id, key) DO NOTHING",
                    (run_id, key, text),
                )
                row = self._one("SELECT value FROM run_properties WHERE run_id = ? AND key = ?", (run_id, key))
                if row is None or row[0] != text:
                    raise AlreadyExistsError(
                        "Run property",
                        key,
                        hint=f"It is {None if row is None else row[0]!r} on run {run_id}; properties are "
                        "immutable, use tags for values that change.",
                    )

    def get_properties(self, run_id: str) -> dict[str, str]:
        return dict(sorted(self._all("SELECT key, value FROM run_properties WHERE run_id = ?", (run_id,))))

    def set_tags(self, run_id: str, tags: dict[str, str | None]) -> None:
        with self._transaction(write=True):
            for key, value in tags.items():
                self._exec(
                    "INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?) "
                    "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                    (run_id, key, None if value is None else str(value)),
                )

    def remove_tags(self, run_id: str, keys: Sequence[str]) -> None:
        """Remove tags (missing keys are ignored)."""
        with self._transaction(write=True):
            for key in keys:
                self._exec("DELETE FROM run_tags WHERE run_id = ? AND key = ?", (run_id, key))

    def get_tags(self, run_id: str) -> dict[str, str | None]:
        return dict(sorted(self._all("SELECT key, value FROM run_tags WHERE run_id = ?", (run_id,))))

    def add_metrics(self, metrics: Sequence[MetricRecord]) -> None:
        """Append metrics in one transaction (what the orchestrator does when it ingests events)."""
        if not metrics:
            return
        with self._transaction(write=True):
            for m in metrics:
                self._exec(
                    "INSERT INTO metrics (run_id, name, kind, value, description, logged_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (m.run_id, m.name, m.kind, dumps(m.value), m.description, m.logged_at),
                )

    def get_metrics(self, run_id: str, name: str | None = None) -> list[MetricRecord]:
        """Metrics of a run in the order they were logged."""
        sql = "SELECT run_id, name, kind, value, description, logged_at FROM metrics WHERE run_id = ?"
        params: list[Any] = [run_id]
        if name is not None:
            sql += " AND name = ?"
            params.append(name)
        rows = self._all(sql + " ORDER BY id", params)
        return [MetricRecord(r[0], r[1], r[2], loads(r[3]), r[4], r[5]) for r in rows]

    def get_metrics_of_runs(self, run_ids: Sequence[str]) -> list[MetricRecord]:
        """Metrics of several runs at once (each run's in the order they were logged)."""
        out: list[MetricRecord] = []
        ids = list(dict.fromkeys(run_ids))
        for i in range(0, len(ids), 500):  # under SQLite's limit of bound parameters
            part = ids[i : i + 500]
            rows = self._all(
                "SELECT run_id, name, kind, value, description, logged_at FROM metrics "
                f"WHERE run_id IN ({', '.join('?' * len(part))}) ORDER BY id",
                part,
            )
            out += [MetricRecord(r[0], r[1], r[2], loads(r[3]), r[4], r[5]) for r in rows]
        return out

    def put_run_output(self, record: RunOutputRecord) -> None:
        self._exec(
            "INSERT INTO run_outputs (run_id, name, datastore, path, digest) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (run_id, name) DO UPDATE SET datastore = excluded.datastore, "
            "path = excluded.path, digest = excluded.digest",
            (record.run_id, record.name, record.datastore, record.path, record.digest),
        )

    def supersede_run_outputs(self, datastore: str, path: str, *, keep_run_id: str) -> int:
        """Forget the digest of other runs' outputs at ``datastore``/``path`` (it was overwritten),
        so they are no longer reusable; returns how many records were affected."""
        return self._exec(
            "UPDATE run_outputs SET digest = NULL WHERE datastore = ? AND path = ? AND run_id <> ? "
            "AND digest IS NOT NULL",
            (datastore, path, keep_run_id),
        )

    def get_run_outputs(self, run_id: str) -> list[RunOutputRecord]:
        rows = self._all("SELECT run_id, name, datastore, path, digest FROM run_outputs WHERE run_id = ?", (run_id,))
        return sorted((RunOutputRecord(*r) for r in rows), key=lambda r: r.name)

    # -- snapshots -----------------------------------------------------------------------------

    def put_snapshot(self, snapshot_id: str, *, file_count: int, size: int) -> None:
        self._exec(
            "INSERT INTO snapshots (id, file_count, size, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (snapshot_id, file_count, size, utcnow()),
        )

    def has_snapshot(self, snapshot_id: str) -> bool:
        return self._one("SELECT 1 FROM snapshots WHERE id = ?", (snapshot_id,)) is not None
