"""Registered-model queries of :class:`~headwater.store.metadata.MetadataStore`.

A model version is a row of ``models``: id ``"<name>:<version>"`` (SDK v1's model id), versions
1, 2, ... per name, numbered inside a write transaction and retried when another writer took the
number (as dataset versions are). ``files`` maps each file's path (relative to the folder the model
was registered from, so it starts with the model's file or folder name) to the sha256 of its
content; the content itself is stored once per digest in the workspace folder
(:mod:`headwater.ops.model_files`), never in the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from headwater.store.records import utcnow
from headwater.store.repo_base import as_stored, dumps, loads
from headwater.store.versioning import VersionedQueries

__all__ = ["ModelQueries", "ModelRecord", "matches_filters"]

_COLUMNS = (
    "id, name, version, description, tags, properties, framework, framework_version, digest, files, "
    "run_id, experiment_name, datasets, extra, created_at"
)


@dataclass(frozen=True)
class ModelRecord:
    """One registered model version as stored."""

    id: str
    name: str
    version: int
    digest: str
    files: dict[str, str]
    description: str | None = None
    tags: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    framework: str | None = None
    framework_version: str | None = None
    run_id: str | None = None
    experiment_name: str | None = None
    #: ``[{"name": "<scenario>", "id": "<dataset id>"}, ...]`` (SDK v1's dataset references).
    datasets: list[dict[str, str]] = field(default_factory=list)
    #: Other SDK v1 fields: ``sample_input_dataset_id``, ``sample_output_dataset_id``, ``resource_configuration``.
    extra: dict[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=utcnow)

    @property
    def root(self) -> str:
        """The model's top-level file or folder name (what ``get_model_path`` returns the path of)."""
        first = sorted(self.files)[0] if self.files else ""
        return first.split("/", 1)[0]


def _pairs(filters: list[Any] | None) -> list[tuple[str, Any]]:
    """SDK v1's tag/property filters, ``['key', ['key2', 'value']]``, as (key, value or None) pairs."""
    out: list[tuple[str, Any]] = []
    for item in filters or []:
        if isinstance(item, (list, tuple)):
            out.append((str(item[0]), item[1] if len(item) > 1 else None))
        else:
            out.append((str(item), None))
    return out


def _match(mapping: dict[str, Any], filters: list[Any] | None) -> bool:
    return all(k in mapping and (v is None or str(mapping[k]) == str(v)) for k, v in _pairs(filters))


def matches_filters(
    record: ModelRecord,
    *,
    tags: list[Any] | None = None,
    properties: list[Any] | None = None,
    dataset_id: str | None = None,
) -> bool:
    """Whether ``record`` has every tag/property filter (a key, or a ``[key, value]`` pair) and the dataset."""
    if dataset_id is not None and not any(d.get("id") == dataset_id for d in record.datasets):
        return False
    return _match(record.tags, tags) and _match(record.properties, properties)


class ModelQueries(VersionedQueries):
    """Registered models (a part of :class:`MetadataStore`)."""

    @staticmethod
    def _model(row: tuple[Any, ...]) -> ModelRecord:
        return ModelRecord(
            id=row[0],
            name=row[1],
            version=int(row[2]),
            description=row[3],
            tags=loads(row[4]) or {},
            properties=loads(row[5]) or {},
            framework=row[6],
            framework_version=row[7],
            digest=row[8],
            files=loads(row[9]) or {},
            run_id=row[10],
            experiment_name=row[11],
            datasets=loads(row[12]) or [],
            extra=loads(row[13]) or {},
            created_at=row[14],
        )

    def register_model_version(
        self,
        name: str,
        *,
        files: dict[str, str],
        digest: str,
        description: str | None = None,
        tags: dict[str, Any] | None = None,
        properties: dict[str, Any] | None = None,
        framework: str | None = None,
        framework_version: str | None = None,
        run_id: str | None = None,
        experiment_name: str | None = None,
        datasets: list[dict[str, str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> ModelRecord:
        """Record ``files`` as the next version of model ``name`` (every registration is a new version,
        as in SDK v1). Concurrent registrations never lose a version: the number is taken inside a
        write transaction and a clash on (name, version) is retried."""

        def attempt() -> ModelRecord:
            row = self._one("SELECT MAX(version) FROM models WHERE name = ?", (name,))
            version = int(row[0]) + 1 if row is not None and row[0] is not None else 1
            record = ModelRecord(
                id=f"{name}:{version}",
                name=name,
                version=version,
                digest=digest,
                files=as_stored(dict(files)),
                description=description,
                tags=as_stored(dict(tags or {})),
                properties=as_stored(dict(properties or {})),
                framework=framework,
                framework_version=framework_version,
                run_id=run_id,
                experiment_name=experiment_name,
                datasets=as_stored(list(datasets or [])),
                extra=as_stored(dict(extra or {})),
            )
            self._exec(
                f"INSERT INTO models ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.id,
                    record.name,
                    record.version,
                    record.description,
                    dumps(record.tags),
                    dumps(record.properties),
                    record.framework,
                    record.framework_version,
                    record.digest,
                    dumps(record.files),
                    record.run_id,
                    record.experiment_name,
                    dumps(record.datasets),
                    dumps(record.extra),
                    record.created_at,
                ),
            )
            return record

        return self._insert_version(attempt, what=f"register a new version of model {name!r}")

    def get_model(self, name: str, version: int | None = None) -> ModelRecord | None:
        """A registered version of ``name`` (``None``: the latest), or None."""
        if version is None:
            row = self._one(f"SELECT {_COLUMNS} FROM models WHERE name = ? ORDER BY version DESC LIMIT 1", (name,))
        else:
            row = self._one(f"SELECT {_COLUMNS} FROM models WHERE name = ? AND version = ?", (name, int(version)))
        return None if row is None else self._model(row)

    def get_model_by_id(self, model_id: str) -> ModelRecord | None:
        row = self._one(f"SELECT {_COLUMNS} FROM models WHERE id = ?", (model_id,))
        return None if row is None else self._model(row)

    def list_models(
        self,
        *,
        name: str | None = None,
        run_id: str | None = None,
        framework: str | None = None,
        latest: bool = False,
    ) -> list[ModelRecord]:
        """Registered versions, by name then version (newest first within a name, as SDK v1 lists them);
        ``latest``: only each name's newest version. Tag/property filters: :func:`matches_filters`."""
        where, params = [], []
        for column, value in (("name", name), ("run_id", run_id), ("framework", framework)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if latest:
            where.append("version = (SELECT MAX(version) FROM models m2 WHERE m2.name = models.name)")
        sql = f"SELECT {_COLUMNS} FROM models" + (" WHERE " + " AND ".join(where) if where else "")
        records = [self._model(r) for r in self._all(sql, params)]
        return sorted(records, key=lambda r: (r.name, -r.version))

    def model_names(self) -> list[str]:
        return sorted(r[0] for r in self._all("SELECT DISTINCT name FROM models"))

    def update_model(
        self,
        model_id: str,
        *,
        description: str | None = None,
        tags: dict[str, Any] | None = None,
        properties: dict[str, Any] | None = None,
        datasets: list[dict[str, str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> ModelRecord | None:
        """Replace the given fields of version ``model_id`` (``None`` leaves a field alone); the new record."""
        sets, params = [], []
        for column, value in (
            ("description", description),
            ("tags", None if tags is None else dumps(as_stored(dict(tags)))),
            ("properties", None if properties is None else dumps(as_stored(dict(properties)))),
            ("datasets", None if datasets is None else dumps(as_stored(list(datasets)))),
            ("extra", None if extra is None else dumps(as_stored(dict(extra)))),
        ):
            if value is not None:
                sets.append(f"{column} = ?")
                params.append(value)
        if sets:
            self._exec(f"UPDATE models SET {', '.join(sets)} WHERE id = ?", (*params, model_id))
        return self.get_model_by_id(model_id)

    def delete_model(self, model_id: str) -> bool:
        """Delete one version (its files stay until ``headwater gc`` finds no version using them)."""
        return self._exec("DELETE FROM models WHERE id = ?", (model_id,)) > 0

    def model_file_digests(self) -> set[str]:
        """The content digests every registered version uses (what gc must keep)."""
        digests: set[str] = set()
        for (files,) in self._all("SELECT files FROM models"):
            digests.update((loads(files) or {}).values())
        return digests
