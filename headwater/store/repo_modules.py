"""Module queries of :class:`~headwater.store.metadata.MetadataStore` (SDK v1's ``Module``/``ModuleVersion``).

A module is a named, versioned script. Each version's ``definition`` holds its frozen interface:
the script, the workspace snapshot folder of its source directory, its input and output ports, its
parameters' defaults and its arguments. Versions are numbered inside a write transaction when the
caller gives none (a clash on (module, version) is retried).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from headwater.errors import AlreadyExistsError
from headwater.store.records import utcnow
from headwater.store.repo_base import as_stored, dumps, loads
from headwater.store.versioning import VersionedQueries

__all__ = ["ModuleQueries", "ModuleRecord", "ModuleVersionRecord"]

_MODULE_COLUMNS = "id, name, description, status, default_version, created_at, updated_at"
_VERSION_COLUMNS = "id, module_id, version, description, status, category, definition, created_at"


@dataclass(frozen=True)
class ModuleRecord:
    name: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    description: str | None = None
    status: str = "Active"  # Active | Disabled | Deprecated
    default_version: str | None = None
    created_at: str = field(default_factory=utcnow)
    updated_at: str | None = None


@dataclass(frozen=True)
class ModuleVersionRecord:
    module_id: str
    version: str
    definition: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    description: str | None = None
    status: str = "Active"
    category: str | None = None
    created_at: str = field(default_factory=utcnow)


class ModuleQueries(VersionedQueries):
    """Modules and their versions (a part of :class:`MetadataStore`)."""

    @staticmethod
    def _module(row: tuple[Any, ...]) -> ModuleRecord:
        return ModuleRecord(
            id=row[0],
            name=row[1],
            description=row[2],
            status=row[3],
            default_version=row[4],
            created_at=row[5],
            updated_at=row[6],
        )

    @staticmethod
    def _module_version(row: tuple[Any, ...]) -> ModuleVersionRecord:
        return ModuleVersionRecord(
            id=row[0],
            module_id=row[1],
            version=row[2],
            description=row[3],
            status=row[4],
            category=row[5],
            definition=loads(row[6]),
            created_at=row[7],
        )

    def create_module(self, name: str, description: str | None = None) -> ModuleRecord:
        """A new module; AlreadyExistsError when the name is taken."""
        record = ModuleRecord(name=name, description=description)
        try:
            self._exec(
                f"INSERT INTO modules ({_MODULE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (record.id, name, description, record.status, None, record.created_at, None),
            )
        except Exception as exc:
            if self._db.is_unique_violation(exc):
                raise AlreadyExistsError(
                    "Module", name, hint=f"Get it with Module.get(ws, name={name!r}) and publish a new version."
                ) from exc
            raise
        return record

    def get_module(self, module_id: str | None = None, name: str | None = None) -> ModuleRecord | None:
        if module_id is not None:
            row = self._one(f"SELECT {_MODULE_COLUMNS} FROM modules WHERE id = ?", (module_id,))
        else:
            row = self._one(f"SELECT {_MODULE_COLUMNS} FROM modules WHERE name = ?", (name,))
        return None if row is None else self._module(row)

    def list_modules(self) -> list[ModuleRecord]:
        return sorted(
            (self._module(r) for r in self._all(f"SELECT {_MODULE_COLUMNS} FROM modules")), key=lambda m: m.name
        )

    def update_module(self, module_id: str, **changes: Any) -> ModuleRecord | None:
        """Change ``name``, ``description``, ``status`` or ``default_version``; None when there is no such module."""
        unknown = set(changes) - {"name", "description", "status", "default_version"}
        if unknown:
            raise ValueError(f"update_module: unknown fields {sorted(unknown)}")
        if changes:
            sets = ", ".join(f"{key} = ?" for key in changes)
            try:
                self._exec(
                    f"UPDATE modules SET {sets}, updated_at = ? WHERE id = ?", (*changes.values(), utcnow(), module_id)
                )
            except Exception as exc:
                if self._db.is_unique_violation(exc):
                    raise AlreadyExistsError("Module", str(changes.get("name")), hint="Choose another name.") from exc
                raise
        return self.get_module(module_id)

    def add_module_version(
        self,
        module_id: str,
        definition: dict[str, Any],
        *,
        version: str | None = None,
        description: str | None = None,
        category: str | None = None,
        is_default: bool = False,
    ) -> ModuleVersionRecord:
        """A new version of the module: ``version`` as given (AlreadyExistsError when taken), else the
        next integer; ``is_default`` (or being the first version) makes it the module's default."""
        definition = as_stored(definition)

        def attempt() -> ModuleVersionRecord:
            existing = self.list_module_versions(module_id)
            number = version
            if number is None:
                numbers = [int(v.version) for v in existing if v.version.isdigit()]
                number = str(max(numbers, default=0) + 1)
            record = ModuleVersionRecord(
                module_id=module_id,
                version=number,
                definition=definition,
                description=description,
                category=category,
            )
            self._exec(
                f"INSERT INTO module_versions ({_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.id,
                    module_id,
                    number,
                    description,
                    record.status,
                    category,
                    dumps(definition),
                    record.created_at,
                ),
            )
            if is_default or not existing:
                self.update_module(module_id, default_version=number)
            return record

        def taken() -> Exception | None:
            if version is None:
                return None  # another writer took the next number: take the one after
            return AlreadyExistsError(
                "Module version", version, hint="Publish it under another version, or leave version=None."
            )

        return self._insert_version(attempt, what="publish a module version", on_clash=taken)

    def list_module_versions(self, module_id: str) -> list[ModuleVersionRecord]:
        rows = self._all(
            f"SELECT {_VERSION_COLUMNS} FROM module_versions WHERE module_id = ? ORDER BY created_at, id", (module_id,)
        )
        return [self._module_version(r) for r in rows]

    def list_all_module_versions(self) -> list[ModuleVersionRecord]:
        return [self._module_version(r) for r in self._all(f"SELECT {_VERSION_COLUMNS} FROM module_versions")]

    def get_module_version(self, version_id: str) -> ModuleVersionRecord | None:
        row = self._one(f"SELECT {_VERSION_COLUMNS} FROM module_versions WHERE id = ?", (version_id,))
        return None if row is None else self._module_version(row)

    def update_module_version(self, version_id: str, **changes: Any) -> ModuleVersionRecord | None:
        """Change ``status`` or ``description``; None when there is no such version."""
        unknown = set(changes) - {"status", "description"}
        if unknown:
            raise ValueError(f"update_module_version: unknown fields {sorted(unknown)}")
        if changes:
            sets = ", ".join(f"{key} = ?" for key in changes)
            self._exec(f"UPDATE module_versions SET {sets} WHERE id = ?", (*changes.values(), version_id))
        return self.get_module_version(version_id)
