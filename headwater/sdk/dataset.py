"""Datasets (SDK v1: ``azureml.core.Dataset``, ``azureml.data.FileDataset``, ``TabularDataset``).

A dataset is a lazy, immutable *definition* (plain JSON, see :mod:`headwater.data.definition`):
where the files are, how to read them, which transformations follow. Nothing is read until a
method asks for data. Every transformation returns a new dataset.

Identity: a registered dataset has the id of its registered version. An unsaved dataset's id is
derived from its definition (uuid5 of the canonical JSON), so the same definition always has the
same id and the same auto-generated input name (SDK v1's random ids defeated step reuse).

Registration records the BLAKE3 digest of every file and of the whole set. A registered version
whose files changed afterwards says so: :meth:`AbstractDataset.data_changed` lists the changed
files, and reading the data emits :class:`DatasetDataChangedWarning`. The check is a stat walk
through the workspace's digest cache; files are only re-read when their stat changed.

Dataset objects hold no open handles: each operation opens what it needs and closes it.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from headwater.data.definition import (
    DatasetArgumentError,
    check_count,
    check_fraction,
    check_seed,
    definition_id,
    partition_keys,
)
from headwater.data.files import (
    DataAccess,
    Resolution,
    apply_file_transformations,
    compare_digests,
    describe_source,
    resolve,
)
from headwater.errors import DataAccessError, NotFoundError
from headwater.plan.digests import tree_digest
from headwater.sdk.consumption import DatasetConsumptionConfig
from headwater.sdk.dataset_changes import _Baseline, _columns, _empty_definition, not_found
from headwater.sdk.dataset_expr import ColumnReference, Expression
from headwater.sdk.dataset_factory import FileDatasetFactory, TabularDatasetFactory
from headwater.sdk.dataset_file_more import FileMembers
from headwater.sdk.dataset_legacy import LegacyDatasetMembers
from headwater.sdk.dataset_mount import MountContext, download_files, report_missing
from headwater.sdk.dataset_registry import RegistryMembers
from headwater.sdk.dataset_tabular_more import TabularMembers
from headwater.store.records import DatasetRecord

if TYPE_CHECKING:
    import pandas as pd

    from headwater.sdk.workspace import Workspace

__all__ = ["AbstractDataset", "Dataset", "DatasetDataChangedWarning", "FileDataset", "TabularDataset"]

_D = TypeVar("_D", bound="AbstractDataset")


class DatasetDataChangedWarning(UserWarning):
    """The files under a registered dataset version changed since it was registered."""

    def __init__(self, name: str | None, version: int | None, changes: dict[str, list[str]]) -> None:
        self.name = name
        self.version = version
        self.changes = changes
        self.files = sorted({f for group in changes.values() for f in group})
        parts = [
            f"{kind} {', '.join(files[:5])}{' ...' if len(files) > 5 else ''}"
            for kind, files in changes.items()
            if files
        ]
        super().__init__(
            f"Dataset {name!r} version {version}: the data changed since it was registered "
            f"({'; '.join(parts)}). Register the current data as a new version "
            "(register(ws, name, create_new_version=True)) or restore the files."
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.name, self.version, self.changes))


class AbstractDataset(RegistryMembers):
    """What File and Tabular datasets share: identity, registration, lookup, sampling, inputs."""

    _KIND: ClassVar[str] = ""
    File = FileDatasetFactory
    Tabular = TabularDatasetFactory

    def __init__(
        self,
        definition: dict[str, Any] | None = None,
        workspace: Workspace | None = None,
        name: str | None = None,
        id: str | None = None,
        *,
        record: DatasetRecord | None = None,
        baseline: _Baseline | None = None,
    ) -> None:
        """SDK v1's ``Dataset(definition, workspace, name, id)``: with only a workspace and a name or id, that
        registered dataset (the factories ``Dataset.File``/``Dataset.Tabular`` are the usual way)."""
        if definition is None and record is None and workspace is not None and (name or id):
            found = (
                AbstractDataset.get_by_id(workspace, id) if id else AbstractDataset.get_by_name(workspace, str(name))
            )
            definition, record, baseline = found._definition, found._record, found._baseline
        if isinstance(definition, AbstractDataset):
            definition = copy.deepcopy(definition._definition)
        self._definition: dict[str, Any] = definition if definition is not None else _empty_definition()
        self._workspace = workspace
        self._record = record
        self._baseline = baseline

    # -- identity ------------------------------------------------------------------------------

    @property
    def id(self) -> str:
        """The registered (or saved) record's id, else a uuid5 derived from the definition."""
        return self._record.id if self._record is not None else definition_id(self._KIND, self._definition)

    @property
    def name(self) -> str | None:
        """The registered name, or None."""
        return None if self._record is None else self._record.name

    @property
    def version(self) -> int | None:
        """The registered version (1, 2, ...), or None."""
        return None if self._record is None else self._record.version

    @property
    def description(self) -> str | None:
        """The description given at registration, or None."""
        return None if self._record is None else self._record.description

    @property
    def tags(self) -> dict[str, Any]:
        """The tags given at registration (a copy)."""
        return {} if self._record is None else dict(self._record.tags)

    @property
    def partition_keys(self) -> list[str]:
        """The columns ``partition_format`` defines."""
        return partition_keys(self._definition.get("partition_format"))

    @property
    def _registration(self) -> dict[str, Any] | None:
        r = self._record
        return None if r is None else {"id": r.id, "name": r.name, "version": r.version}

    def _to_spec(self) -> dict[str, Any]:
        """Everything a step process needs to rebuild this dataset (:meth:`_from_spec`), as JSON values."""
        return {
            "id": self.id,
            "kind": self._KIND,
            "definition": copy.deepcopy(self._definition),
            "name": self.name,
            "version": self.version,
            "digest": None if self._record is None else self._record.digest,
            "file_digests": None if self._record is None else self._record.file_digests,
            "baseline": None if self._baseline is None else asdict(self._baseline),
        }

    @staticmethod
    def _from_spec(spec: dict[str, Any], workspace: Workspace | None = None) -> AbstractDataset:
        """The dataset a :meth:`_to_spec` dict describes, without reading the metadata store."""
        cls: type[AbstractDataset] = FileDataset if spec["kind"] == "file" else TabularDataset
        base = spec.get("baseline")
        record = DatasetRecord(
            id=spec["id"],
            kind=spec["kind"],
            definition=spec["definition"],
            name=spec.get("name"),
            version=spec.get("version"),
            digest=spec.get("digest"),
            file_digests=spec.get("file_digests"),
        )
        baseline = None if base is None else _Baseline(**base)
        return cls(spec["definition"], workspace=workspace, record=record, baseline=baseline)

    def __repr__(self) -> str:
        body = {
            "source": [describe_source(s) for s in self._definition["sources"]],
            "transformations": self._definition.get("transformations", []),
            "registration": self._registration,
        }
        return f"{type(self).__name__}({json.dumps(body, indent=2, default=str)})"

    # -- lookup and registration ---------------------------------------------------------------

    @staticmethod
    def _from_record(workspace: Workspace, record: DatasetRecord) -> AbstractDataset:
        """The dataset a metadata record describes (File or Tabular by its kind)."""
        cls: type[AbstractDataset] = FileDataset if record.kind == "file" else TabularDataset
        baseline = None
        if record.name is not None and record.file_digests is not None:
            baseline = _Baseline(record.name, record.version, record.kind, record.definition, record.file_digests)
        return cls(record.definition, workspace=workspace, record=record, baseline=baseline)

    @staticmethod
    def get_by_name(workspace: Workspace, name: str, version: int | str = "latest", **kwargs: Any) -> Any:
        """A registered dataset by name; ``version`` is an integer or ``'latest'``."""
        store = workspace.metadata_store
        if version in ("latest", None):
            record = store.get_dataset(name)
        else:
            try:
                number = int(version)
            except (TypeError, ValueError):
                raise DatasetArgumentError(
                    f"Dataset version {version!r} is not a number.", hint="Use an integer or 'latest'."
                ) from None
            record = store.get_dataset(name, number)
        if record is not None:
            return AbstractDataset._from_record(workspace, record)
        raise not_found(workspace, name, version)

    @staticmethod
    def get_by_id(workspace: Workspace, id: str, **kwargs: Any) -> Any:
        """A registered (or saved) dataset by id."""
        record = workspace.metadata_store.get_dataset_by_id(id)
        if record is None:
            raise NotFoundError(
                "Dataset",
                id,
                where=f"workspace {workspace.name!r}",
                hint="Ids are those of registered versions (dataset.id) or of datasets a pipeline run used.",
            )
        return AbstractDataset._from_record(workspace, record)

    def register(
        self: _D,
        workspace: Workspace,
        name: str,
        description: str | None = None,
        tags: dict[str, Any] | None = None,
        create_new_version: bool = False,
        visible: bool = True,
        exist_ok: bool = False,
        update_if_exist: bool = False,
    ) -> _D:
        """Register under ``name``: version 1, then 2, ... with ``create_new_version=True``.
        SDK v1's ``Dataset.register`` options: ``exist_ok=True`` returns a taken name's latest version,
        ``update_if_exist=True`` means ``create_new_version=True``, ``visible`` is ignored (no studio).

        The per-file digests and their tree digest are recorded. Registering the definition that
        the latest version has returns that version (with ``create_new_version=True`` only when
        the data is also unchanged); another definition under a taken name needs
        ``create_new_version=True``.
        """
        if not isinstance(name, str) or not name.strip():
            raise DatasetArgumentError(f"Invalid dataset name {name!r}.", hint="Use a non-empty string.")
        create_new_version = create_new_version or update_if_exist
        existing = workspace.metadata_store.get_dataset(name) if exist_ok and not create_new_version else None
        if existing is not None:
            return AbstractDataset._from_record(workspace, existing)  # type: ignore[return-value]
        with DataAccess(workspace) as access:
            digests = access.digests(self._resolve(access).files)
        digest = tree_digest(digests)
        store = workspace.metadata_store
        if create_new_version:
            latest = store.get_dataset(name)
            if (
                latest is not None
                and latest.kind == self._KIND
                and latest.definition == self._definition
                and latest.digest == digest
            ):
                return AbstractDataset._from_record(workspace, latest)  # type: ignore[return-value]
        record = store.register_dataset_version(
            name,
            kind=self._KIND,
            definition=self._definition,
            digest=digest,
            file_digests=digests,
            description=description,
            tags=tags,
            create_new_version=create_new_version,
        )
        return AbstractDataset._from_record(workspace, record)  # type: ignore[return-value]

    def _ensure_saved(self: _D, workspace: Workspace) -> _D:
        """Store an unregistered definition so ``get_by_id`` finds it (done when a pipeline uses it)."""
        if self._record is not None:
            return self
        record = workspace.metadata_store.save_dataset(
            DatasetRecord(id=self.id, kind=self._KIND, definition=self._definition)
        )
        return type(self)(self._definition, workspace=workspace, record=record, baseline=self._baseline)

    # -- derived datasets ----------------------------------------------------------------------

    def _derive(self: _D, transformation: dict[str, Any]) -> _D:
        definition = copy.deepcopy(self._definition)
        definition["transformations"] = [*definition.get("transformations", []), transformation]
        return type(self)(definition, workspace=self._workspace, baseline=self._baseline)

    def take(self: _D, count: int) -> _D:
        """The first ``count`` records (files of a FileDataset, rows of a TabularDataset)."""
        return self._derive({"op": "take", "count": check_count(count, "take")})

    def skip(self: _D, count: int) -> _D:
        """All but the first ``count`` records."""
        return self._derive({"op": "skip", "count": check_count(count, "skip")})

    def take_sample(self: _D, probability: float, seed: int | None = None) -> _D:
        """Each record kept with ``probability``; the same ``seed`` keeps the same records."""
        p = check_fraction(probability, "take_sample: probability", open_interval=False)
        return self._derive({"op": "take_sample", "probability": p, "seed": check_seed(seed)})

    def random_split(self: _D, percentage: float, seed: int | None = None) -> tuple[_D, _D]:
        """Two datasets that partition the records: about ``percentage`` of them, and the rest."""
        p = check_fraction(percentage, "random_split: percentage", open_interval=True)
        s = check_seed(seed)
        return (
            self._derive({"op": "random_split", "percentage": p, "seed": s, "part": 0}),
            self._derive({"op": "random_split", "percentage": p, "seed": s, "part": 1}),
        )

    # -- consumption ---------------------------------------------------------------------------

    def as_named_input(self, name: str) -> DatasetConsumptionConfig:
        """This dataset as the step input ``name`` (mode ``direct``; then ``.as_mount()`` ...)."""
        return DatasetConsumptionConfig(name, self)

    def _auto_input_name(self) -> str:
        return f"input__{self.id[:8]}"

    # -- files and change detection ------------------------------------------------------------

    def _resolve(self, access: DataAccess) -> Resolution:
        return _resolve_definition(self._KIND, self._definition, access)

    def _changes(self, access: DataAccess) -> dict[str, list[str]]:
        base = self._baseline
        if base is None:
            raise DatasetArgumentError(
                "data_changed() compares with a registered version, and this dataset is not one.",
                hint="Register it (dataset.register(ws, name)) or get it with Dataset.get_by_name(ws, name).",
            )
        files = _resolve_definition(base.kind, base.definition, access).files
        return compare_digests(base.file_digests, access.digests(files))

    def data_changed(self) -> list[str]:
        """Files added, removed or modified since this version was registered (empty when unchanged).

        Paths are datastore-relative (``'<datastore>:<path>'`` when the dataset spans datastores)
        or URLs. Unchanged local files cost one ``stat`` each.
        """
        with DataAccess(self._workspace) as access:
            changes = self._changes(access)
        return sorted({f for group in changes.values() for f in group})

    def _warn_if_changed(self, access: DataAccess) -> None:
        if self._baseline is None:
            return
        changes = self._changes(access)
        if any(changes.values()):
            warnings.warn(DatasetDataChangedWarning(self._baseline.name, self._baseline.version, changes), stacklevel=3)


def _resolve_definition(kind: str, definition: dict[str, Any], access: DataAccess) -> Resolution:
    res = resolve(definition["sources"], access)
    if kind != "file":
        return res
    return Resolution(apply_file_transformations(res.files, definition.get("transformations", []), access), res.missing)


class Dataset(LegacyDatasetMembers, AbstractDataset):  # type: ignore[misc]  # SDK v1 overrides register/update
    """SDK v1's ``Dataset``: the factories (``Dataset.File``, ``Dataset.Tabular``), lookups, deprecated members."""

    def __new__(
        cls, definition: Any = None, workspace: Any = None, name: Any = None, id: Any = None, **kwargs: Any
    ) -> Any:
        if cls is not Dataset:
            return super().__new__(cls)
        if definition is None and workspace is not None and (name or id):
            kind = (
                AbstractDataset.get_by_id(workspace, id) if id else AbstractDataset.get_by_name(workspace, name)
            )._KIND
        else:
            data = getattr(definition, "_definition", definition) or _empty_definition()
            kind = "file" if data.get("reader", {}).get("type") == "files" else "tabular"
        return super().__new__(FileDataset if kind == "file" else TabularDataset)


class FileDataset(FileMembers, Dataset):
    """Files on datastores or at URLs, delivered as paths (download, mount) to code that reads them."""

    _KIND = "file"
    register = AbstractDataset.register  # type: ignore[assignment]  # SDK v1: AbstractDataset's, not Dataset's
    update = RegistryMembers.update  # type: ignore[assignment]

    def to_path(self) -> list[str]:
        """The files' paths as they appear under a download or mount folder (``'/sub/a.csv'``)."""
        with DataAccess(self._workspace) as access:
            return [f.display for f in self._resolve(access).files]

    def download(
        self,
        target_path: str | os.PathLike[str] | None = None,
        overwrite: bool = False,
        ignore_not_found: bool = False,
    ) -> list[str]:
        """Copy the files under ``target_path`` (default: a new temporary folder); their local paths.

        A source that matches no file fails the download unless ``ignore_not_found``; a file that
        already exists is an error unless ``overwrite``.
        """
        with DataAccess(self._workspace) as access:
            res = self._resolve(access)
            report_missing(res.missing, ignore=ignore_not_found)
            self._warn_if_changed(access)
            target = Path(target_path) if target_path else Path(tempfile.mkdtemp(prefix="headwater-download-"))
            return download_files(res.files, access, target.absolute(), overwrite=overwrite)

    def mount(self, mount_point: str | os.PathLike[str] | None = None, **kwargs: Any) -> MountContext:
        """A read-only local view of the files; use ``with ds.mount() as ctx: ctx.mount_point``.

        Local files appear as symbolic links (no copy); others are downloaded into the view.
        """
        with DataAccess(self._workspace) as access:
            files = self._resolve(access).files
            self._warn_if_changed(access)
        return MountContext(files, self._workspace, mount_point)

    def as_mount(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        """A mounted step input with the stable name ``input__<first 8 characters of the id>``."""
        return self.as_named_input(self._auto_input_name()).as_mount(path_on_compute)

    def as_download(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        """A downloaded step input with the stable name ``input__<first 8 characters of the id>``."""
        return self.as_named_input(self._auto_input_name()).as_download(path_on_compute)


class TabularDataset(TabularMembers, Dataset):  # type: ignore[misc]  # SDK v1: its own get_profile
    """Rows read from delimited, Parquet or JSON-lines files, delivered as a pandas DataFrame."""

    _KIND = "tabular"
    register = AbstractDataset.register  # type: ignore[assignment]  # SDK v1: AbstractDataset's, not Dataset's
    update = RegistryMembers.update  # type: ignore[assignment]

    def to_pandas_dataframe(self, on_error: str = "null", out_of_range_datetime: str = "null") -> pd.DataFrame:
        """Read every file, concatenate, apply column types and transformations.

        ``on_error='null'`` turns values that cannot be converted to the requested type into nulls
        (``'fail'`` raises); ``out_of_range_datetime`` does the same for dates pandas cannot hold.
        """
        from headwater.sdk.dataset_tabular_io import read_dataframe

        with DataAccess(self._workspace) as access:
            res = self._resolve(access)
            if res.missing:
                text = "; ".join(describe_source(s) for s in res.missing)
                raise DataAccessError(f"No file matches {text}.", hint="Check the dataset's paths.")
            self._warn_if_changed(access)
            return read_dataframe(
                self._definition,
                res.files,
                access,
                on_error=on_error,
                out_of_range_datetime=out_of_range_datetime,
            )

    def __getitem__(self, column: str) -> ColumnReference:
        """``ds['col']``: a column to build :meth:`filter` expressions with (``ds['col'] > 5``)."""
        if not isinstance(column, str):
            raise DatasetArgumentError(f"Column names are strings, got {column!r}.")
        return ColumnReference(column)

    def keep_columns(self, columns: str | list[str], validate: bool = False) -> TabularDataset:
        """Only these columns; with ``validate=True`` the data is read now to check they exist."""
        kept = self._derive({"op": "keep_columns", "columns": _columns(columns)})
        if validate:
            kept.take(1).to_pandas_dataframe()
        return kept

    def drop_columns(self, columns: str | list[str]) -> TabularDataset:
        """Without these columns (names the data does not have are ignored)."""
        return self._derive({"op": "drop_columns", "columns": _columns(columns)})

    def filter(self, expression: Expression) -> TabularDataset:
        """The rows for which ``expression`` holds, e.g. ``ds.filter((ds['a'] > 5) & (ds['b'] == 'x'))``."""
        if not isinstance(expression, Expression):
            raise DatasetArgumentError(f"filter() takes an expression such as ds['col'] > 5, got {expression!r}.")
        return self._derive({"op": "filter", "expression": copy.deepcopy(expression.to_json())})
