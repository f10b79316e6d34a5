"""Pipeline draft queries of :class:`~headwater.store.metadata.MetadataStore` (SDK v1's ``PipelineDraft``).

A draft is a named, editable pipeline: its ``graph`` is the frozen PipelineSpec (each step's source
directory replaced by its workspace snapshot, :func:`headwater.ops.freeze.freeze_spec`), with the
parameter assignments, experiment and ``continue_on_step_failure`` its runs are submitted with.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from headwater.store.records import utcnow
from headwater.store.repo_base import RepoBase, as_stored, dumps, loads

__all__ = ["DraftQueries", "DraftRecord"]

_COLUMNS = (
    "id, name, description, experiment_name, graph, pipeline_parameters, continue_on_step_failure, "
    "tags, properties, last_submitted_run_id, created_at, updated_at"
)


@dataclass(frozen=True)
class DraftRecord:
    """One pipeline draft (a row of ``pipeline_drafts``)."""

    name: str
    graph: dict[str, Any]  # PipelineSpec.to_dict() of the frozen pipeline
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    description: str | None = None
    experiment_name: str | None = None
    pipeline_parameters: dict[str, Any] = field(default_factory=dict)
    continue_on_step_failure: bool | None = None
    tags: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    last_submitted_run_id: str | None = None
    created_at: str = field(default_factory=utcnow)
    updated_at: str | None = None


#: The fields :meth:`DraftQueries.update_draft` may change.
_UPDATABLE = (
    "name",
    "description",
    "experiment_name",
    "graph",
    "pipeline_parameters",
    "continue_on_step_failure",
    "tags",
    "last_submitted_run_id",
)


class DraftQueries(RepoBase):
    """Pipeline drafts (a part of :class:`MetadataStore`)."""

    @staticmethod
    def _draft(row: tuple[Any, ...]) -> DraftRecord:
        return DraftRecord(
            id=row[0],
            name=row[1],
            description=row[2],
            experiment_name=row[3],
            graph=loads(row[4]),
            pipeline_parameters=loads(row[5]) or {},
            continue_on_step_failure=None if row[6] is None else bool(row[6]),
            tags=loads(row[7]) or {},
            properties=loads(row[8]) or {},
            last_submitted_run_id=row[9],
            created_at=row[10],
            updated_at=row[11],
        )

    def create_draft(self, record: DraftRecord) -> DraftRecord:
        """Record a new draft; returns it as it reads back."""
        self._exec(
            f"INSERT INTO pipeline_drafts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.name,
                record.description,
                record.experiment_name,
                dumps(record.graph),
                dumps(record.pipeline_parameters),
                None if record.continue_on_step_failure is None else int(record.continue_on_step_failure),
                dumps(record.tags),
                dumps(record.properties),
                record.last_submitted_run_id,
                record.created_at,
                record.updated_at,
            ),
        )
        return replace(
            record,
            graph=as_stored(record.graph),
            pipeline_parameters=as_stored(record.pipeline_parameters),
            tags=as_stored(record.tags),
            properties=as_stored(record.properties),
        )

    def get_draft(self, draft_id: str) -> DraftRecord | None:
        row = self._one(f"SELECT {_COLUMNS} FROM pipeline_drafts WHERE id = ?", (draft_id,))
        return None if row is None else self._draft(row)

    def list_drafts(self, tags: dict[str, Any] | None = None) -> list[DraftRecord]:
        """Every draft (oldest first); with ``tags``, those whose tags include every pair given
        (a tag given with the value None matches any value)."""
        drafts = [self._draft(r) for r in self._all(f"SELECT {_COLUMNS} FROM pipeline_drafts ORDER BY created_at, id")]
        if not tags:
            return drafts
        return [
            d for d in drafts if all(k in d.tags and (v is None or str(d.tags[k]) == str(v)) for k, v in tags.items())
        ]

    def update_draft(self, draft_id: str, **changes: Any) -> DraftRecord | None:
        """Change the given fields (see ``_UPDATABLE``); None when there is no such draft."""
        unknown = set(changes) - set(_UPDATABLE)
        if unknown:
            raise ValueError(f"update_draft: unknown fields {sorted(unknown)}")
        sets: list[str] = []
        params: list[Any] = []
        for key, value in changes.items():
            sets.append(f"{key} = ?")
            if key in ("graph", "pipeline_parameters", "tags"):
                params.append(dumps(value))
            elif key == "continue_on_step_failure":
                params.append(None if value is None else int(value))
            else:
                params.append(value)
        with self._transaction(write=True):
            if sets:
                self._exec(
                    f"UPDATE pipeline_drafts SET {', '.join(sets)}, updated_at = ? WHERE id = ?",
                    (*params, utcnow(), draft_id),
                )
            return self.get_draft(draft_id)

    def delete_draft(self, draft_id: str) -> bool:
        return self._exec("DELETE FROM pipeline_drafts WHERE id = ?", (draft_id,)) > 0
