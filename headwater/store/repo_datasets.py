"""Dataset, environment and compute-target queries of :class:`~headwater.store.metadata.MetadataStore`.

Registered datasets and environments are versioned by name (a new version is numbered inside a
write transaction and retried when another writer took it); compute targets are plain named rows.
"""

from __future__ import annotations

import uuid
from typing import Any

from headwater.errors import AlreadyExistsError
from headwater.store.records import ComputeTargetRecord, DatasetRecord, EnvironmentRecord
from headwater.store.repo_base import as_stored, dumps, loads
from headwater.store.versioning import VersionedQueries

__all__ = ["DatasetQueries"]

_DATASET_COLUMNS = "id, kind, definition, name, version, digest, file_digests, description, tags, created_at"


class DatasetQueries(VersionedQueries):
    """Datasets, environments and compute targets (a part of :class:`MetadataStore`)."""

    # -- datasets ------------------------------------------------------------------------------

    @staticmethod
    def _dataset(row: tuple[Any, ...]) -> DatasetRecord:
        return DatasetRecord(
            id=row[0],
            kind=row[1],
            definition=loads(row[2]),
            name=row[3],
            version=row[4],
            digest=row[5],
            file_digests=loads(row[6]),
            description=row[7],
            tags=loads(row[8]) or {},
            created_at=row[9],
        )

    def save_dataset(self, record: DatasetRecord) -> DatasetRecord:
        """Store an unregistered dataset definition (kept so ``Dataset.get_by_id`` finds it)."""
        if self._insert_dataset(record, ignore_existing=True):
            return record
        existing = self.get_dataset_by_id(record.id)
        assert existing is not None
        return existing

    def _insert_dataset(self, r: DatasetRecord, *, ignore_existing: bool = False) -> bool:
        """Insert ``r``; with ``ignore_existing`` an existing id is left alone (returns False)."""
        conflict = " ON CONFLICT (id) DO NOTHING" if ignore_existing else ""
        return (
            self._exec(
                f"INSERT INTO datasets ({_DATASET_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?){conflict}",
                (
                    r.id,
                    r.kind,
                    dumps(r.definition),
                    r.name,
                    r.version,
                    r.digest,
                    None if r.file_digests is None else dumps(r.file_digests),
                    r.description,
                    dumps(r.tags),
                    r.created_at,
                ),
            )
            > 0
        )

    def register_dataset_version(
        self,
        name: str,
        *,
        kind: str,
        definition: dict[str, Any],
        digest: str | None,
        file_digests: dict[str, str] | None,
        description: str | None = None,
        tags: dict[str, Any] | None = None,
        create_new_version: bool = False,
    ) -> DatasetRecord:
        """Register ``definition`` under ``name`` as the next integer version.

        Without ``create_new_version`` an existing name is only accepted when its latest version
        has the same definition (that version is returned), as in SDK v1. Concurrent registrations
        never lose a version: the version number is taken inside a write transaction and a clash on
        the (name, version) key is retried.
        """
        definition = as_stored(definition)
        tags = as_stored(dict(tags or {}))

        def attempt() -> DatasetRecord:
            row = self._one(
                f"SELECT {_DATASET_COLUMNS} FROM datasets WHERE name = ? ORDER BY version DESC LIMIT 1",
                (name,),
            )
            latest = None if row is None else self._dataset(row)
            if latest is not None and not create_new_version:
                if latest.kind == kind and latest.definition == definition:
                    return latest
                raise AlreadyExistsError(
                    "Dataset",
                    name,
                    hint=f"Its latest version ({latest.version}) has another definition; "
                    "pass create_new_version=True to register a new version.",
                )
            record = DatasetRecord(
                id=str(uuid.uuid4()),
                kind=kind,
                definition=definition,
                name=name,
                version=1 if latest is None else int(latest.version or 0) + 1,
                digest=digest,
                file_digests=file_digests,
                description=description,
                tags=tags,
            )
            self._insert_dataset(record)
            return record

        return self._insert_version(attempt, what=f"register a new version of dataset {name!r}")

    def get_dataset(self, name: str, version: int | None = None) -> DatasetRecord | None:
        """A registered version (``None`` = the latest), or None."""
        if version is None:
            row = self._one(
                f"SELECT {_DATASET_COLUMNS} FROM datasets WHERE name = ? ORDER BY version DESC LIMIT 1",
                (name,),
            )
        else:
            row = self._one(f"SELECT {_DATASET_COLUMNS} FROM datasets WHERE name = ? AND version = ?", (name, version))
        return None if row is None else self._dataset(row)

    def get_dataset_by_id(self, dataset_id: str) -> DatasetRecord | None:
        row = self._one(f"SELECT {_DATASET_COLUMNS} FROM datasets WHERE id = ?", (dataset_id,))
        return None if row is None else self._dataset(row)

    def list_dataset_versions(self, name: str) -> list[DatasetRecord]:
        rows = self._all(f"SELECT {_DATASET_COLUMNS} FROM datasets WHERE name = ? ORDER BY version", (name,))
        return [self._dataset(r) for r in rows]

    def list_datasets(self) -> list[DatasetRecord]:
        """The latest version of every registered dataset, by name."""
        rows = self._all(
            f"SELECT {_DATASET_COLUMNS} FROM datasets d WHERE name IS NOT NULL AND version = "
            "(SELECT MAX(version) FROM datasets d2 WHERE d2.name = d.name)"
        )
        return sorted((self._dataset(r) for r in rows), key=lambda r: r.name or "")

    def dataset_names(self) -> list[str]:
        return sorted(r[0] for r in self._all("SELECT DISTINCT name FROM datasets WHERE name IS NOT NULL"))

    def update_dataset_metadata(
        self, dataset_id: str, *, description: str | None, tags: dict[str, Any]
    ) -> DatasetRecord | None:
        """Set a registered version's description and tags (SDK v1's ``update``/``add_tags``); the new record."""
        self._exec(
            "UPDATE datasets SET description = ?, tags = ? WHERE id = ?",
            (description, dumps(as_stored(dict(tags))), dataset_id),
        )
        return self.get_dataset_by_id(dataset_id)

    def unregister_dataset(self, name: str) -> int:
        """Unregister every version of ``name``: the rows stay (runs that used them still find them by id)."""
        return self._exec("UPDATE datasets SET name = NULL, version = NULL WHERE name = ?", (name,))

    # -- environments --------------------------------------------------------------------------

    def register_environment(self, name: str, definition: dict[str, Any], digest: str) -> EnvironmentRecord:
        """Register an environment definition; a new version only when the definition changed."""
        definition = as_stored(definition)

        def attempt() -> EnvironmentRecord:
            latest = self.get_environment(name)
            if latest is not None and latest.definition == definition:
                return latest
            record = EnvironmentRecord(name, 1 if latest is None else latest.version + 1, definition, digest)
            self._exec(
                "INSERT INTO environments (name, version, definition, digest, created_at) VALUES (?, ?, ?, ?, ?)",
                (record.name, record.version, dumps(definition), digest, record.created_at),
            )
            return record

        return self._insert_version(attempt, what=f"register environment {name!r}")

    def get_environment(self, name: str, version: int | None = None) -> EnvironmentRecord | None:
        sql = "SELECT name, version, definition, digest, created_at FROM environments WHERE name = ? "
        if version is None:
            row = self._one(sql + "ORDER BY version DESC LIMIT 1", (name,))
        else:
            row = self._one(sql + "AND version = ?", (name, version))
        return None if row is None else EnvironmentRecord(row[0], row[1], loads(row[2]), row[3], row[4])

    def list_environments(self) -> list[EnvironmentRecord]:
        rows = self._all(
            "SELECT name, version, definition, digest, created_at FROM environments e WHERE version = "
            "(SELECT MAX(version) FROM environments e2 WHERE e2.name = e.name)"
        )
        records = (EnvironmentRecord(r[0], r[1], loads(r[2]), r[3], r[4]) for r in rows)
        return sorted(records, key=lambda r: r.name)

    # -- compute targets -----------------------------------------------------------------------

    def put_compute_target(self, record: ComputeTargetRecord, *, overwrite: bool = False) -> None:
        params = (record.name, record.kind, dumps(record.config), record.created_at)
        sql = "INSERT INTO compute_targets (name, kind, config, created_at) VALUES (?, ?, ?, ?)"
        if overwrite:
            sql += " ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, config = excluded.config"
        try:
            self._exec(sql, params)
        except Exception as exc:
            if self._db.is_unique_violation(exc):
                raise AlreadyExistsError(
                    "Compute target", record.name, hint="Pass overwrite=True to replace it."
                ) from exc
            raise

    def get_compute_target(self, name: str) -> ComputeTargetRecord | None:
        row = self._one("SELECT name, kind, config, created_at FROM compute_targets WHERE name = ?", (name,))
        return None if row is None else ComputeTargetRecord(row[0], row[1], loads(row[2]), row[3])

    def list_compute_targets(self) -> list[ComputeTargetRecord]:
        rows = self._all("SELECT name, kind, config, created_at FROM compute_targets")
        records = (ComputeTargetRecord(r[0], r[1], loads(r[2]), r[3]) for r in rows)
        return sorted(records, key=lambda r: r.name)

    def delete_compute_target(self, name: str) -> bool:
        return self._exec("DELETE FROM compute_targets WHERE name = ?", (name,)) > 0
