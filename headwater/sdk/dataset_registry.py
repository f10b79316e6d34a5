"""What a registered dataset can do to its registration (SDK v1's ``AbstractDataset`` members).

``update``, ``add_tags``, ``remove_tags``, ``unregister_all_versions``, ``get_all``; and what a
dataset can say about its files: ``data_changed_time``, ``get_partition_key_values``. A mixin of
:class:`~headwater.sdk.dataset.AbstractDataset`. Tags and the description are those of the
registered version the object is (each version keeps its own, as ``get_by_name`` returns them).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any

from headwater.data.definition import DatasetArgumentError, partition_keys, partition_values
from headwater.data.file_filter import file_metadata
from headwater.data.files import DataAccess, resolve
from headwater.errors import DataAccessError, did_you_mean

if TYPE_CHECKING:
    from headwater.sdk.workspace import Workspace
    from headwater.store.records import DatasetRecord

__all__ = ["RegistryMembers"]


class RegistryMembers:
    """Registration and file facts of a dataset (mixed into AbstractDataset)."""

    _definition: dict[str, Any]
    _workspace: Workspace | None
    _record: DatasetRecord | None

    if TYPE_CHECKING:

        @staticmethod
        def _from_record(workspace: Workspace, record: DatasetRecord) -> Any: ...

    def _registered(self, what: str) -> tuple[Workspace, DatasetRecord]:
        record, ws = self._record, self._workspace
        if record is None or record.name is None or ws is None:
            raise DatasetArgumentError(
                f"To {what} this dataset it must be registered.",
                hint="Register it first (dataset.register(ws, name)), or get it with Dataset.get_by_name(ws, name).",
            )
        return ws, record

    def _set_metadata(self, what: str, description: str | None, tags: dict[str, Any]) -> Any:
        ws, record = self._registered(what)
        updated = ws.metadata_store.update_dataset_metadata(record.id, description=description, tags=tags)
        if updated is None:
            raise DataAccessError(
                f"Dataset {record.name!r} version {record.version} is no longer registered.",
                hint="Get the current version with Dataset.get_by_name(ws, name).",
            )
        self._record = dataclasses.replace(record, description=updated.description, tags=updated.tags)
        return self._from_record(ws, updated)

    def update(self, description: str | None = None, tags: dict[str, Any] | None = None) -> Any:
        """Set the description and tags of this registered version (None keeps them; ``''``/``{}`` clears)."""
        _ws, record = self._registered("update")
        new_tags = record.tags if tags is None else _tags(tags)
        return self._set_metadata("update", record.description if description is None else description, new_tags)

    def add_tags(self, tags: dict[str, Any] | None = None) -> Any:
        """Add tags; a key that already has another value is an error (as in SDK v1)."""
        _ws, record = self._registered("add tags to")
        new = _tags(tags or {})
        clashes = sorted(k for k in new if k in record.tags and record.tags[k] != new[k])
        if clashes:
            raise DatasetArgumentError(
                f"Dataset already contains different values for tags with the following keys {clashes}.",
                hint="Use update(tags=...) to replace tags, or remove_tags([...]) first.",
            )
        return self._set_metadata("add tags to", record.description, {**record.tags, **new})

    def remove_tags(self, tags: Any = None) -> Any:
        """Remove these tag keys (a list, or a dict whose keys are taken); unknown keys are ignored."""
        _ws, record = self._registered("remove tags from")
        keys = set(tags or [])
        return self._set_metadata(
            "remove tags from", record.description, {k: v for k, v in record.tags.items() if k not in keys}
        )

    def unregister_all_versions(self) -> None:
        """Unregister every version of this dataset's name; the data is not touched. No-op when not registered.

        Runs that used a version still find it by id (``Dataset.get_by_id``).
        """
        record, ws = self._record, self._workspace
        if record is None or record.name is None or ws is None:
            return
        ws.metadata_store.unregister_dataset(record.name)
        self._record = dataclasses.replace(record, name=None, version=None)

    @staticmethod
    def get_all(workspace: Workspace) -> dict[str, Any]:
        """The latest version of every registered dataset, by name (SDK v1's ``_DatasetDict``)."""
        return dict(workspace.datasets)

    # -- facts about the files -----------------------------------------------------------------

    @property
    def data_changed_time(self) -> datetime | None:
        """The latest modification time of the dataset's files (UTC), or None when it cannot be told."""
        latest: datetime | None = None
        with DataAccess(self._workspace) as access:
            for f in resolve(self._definition["sources"], access).files:
                when = file_metadata(access, f).get("LastModifiedTime")
                if when is not None and (latest is None or when > latest):
                    latest = when
        return latest

    def get_partition_key_values(self, partition_keys: list[str] | None = None) -> list[dict[str, Any]]:
        """The distinct values of the partition keys (all of ``partition_format``'s by default), one dict each.

        ``[{'country': 'US', 'date': datetime(2020, 1, 1)}, ...]`` in file order.
        """
        fmt = self._definition.get("partition_format")
        known = _partition_keys(fmt)
        keys = list(partition_keys or known)
        unknown = [k for k in keys if k not in known]
        if unknown:
            raise DatasetArgumentError(
                f"{unknown} are invalid partition keys." + did_you_mean(unknown[0], known),
                hint=f"This dataset's partition keys: {known or 'none (no partition_format)'}.",
            )
        if not keys:
            return []
        seen: dict[tuple[Any, ...], dict[str, Any]] = {}
        with DataAccess(self._workspace) as access:
            for f in resolve(self._definition["sources"], access).files:
                values = partition_values(str(fmt), f.path)
                if all(values.get(k) is not None for k in keys):
                    row = {k: values[k] for k in keys}
                    seen.setdefault(tuple(row.values()), row)
        return list(seen.values())


def _partition_keys(fmt: str | None) -> list[str]:
    return partition_keys(fmt)


def _tags(tags: Any) -> dict[str, Any]:
    if not isinstance(tags, dict):
        raise DatasetArgumentError(f"tags must be a dict, got {tags!r}.")
    return dict(tags)
