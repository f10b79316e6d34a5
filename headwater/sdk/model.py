"""SDK v1's ``Model``: a workspace's registry of model files, by name and version.

``Model.register(ws, "model.pkl", "name")`` stores the file (or every file of a folder) once per
content in the workspace folder and records it as version 1, 2, ... of ``name``, with its tags,
properties, framework, the run and the datasets it came from. ``Model(ws, name, version=)``,
``Model.list``, ``model.download`` and ``Model.get_model_path`` read it back; the last one also works
inside a step and a ParallelRunStep entry script (:mod:`headwater.sdk.model_paths`).
``Run.register_model`` registers a run's files (:mod:`headwater.sdk.runs`; inside a step: when the
step's outputs are committed). Deployment (``deploy``, ``package``, ``profile``) is not Headwater's.
"""

from __future__ import annotations

import builtins
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater.errors import ConfigurationError, HeadwaterError
from headwater.layout import WorkspaceLayout
from headwater.runtime.model_lookups import note_listing, note_lookup
from headwater.runtime.model_requests import check_model_name as validate_model_name
from headwater.sdk.model_deploy import ModelDeployment
from headwater.sdk.model_fields import check_dict, dataset_references, extra_fields
from headwater.sdk.model_paths import ModelNotFoundError, resolve_model_path
from headwater.store.repo_models import ModelRecord, matches_filters

if TYPE_CHECKING:
    from headwater.sdk.workspace import Workspace

__all__ = ["Model", "ModelNotFoundError", "validate_model_name"]


class Model(ModelDeployment):
    """A registered model version (SDK v1's ``azureml.core.Model``).

    ``Model(ws, name)`` is the latest version of ``name``; ``version=``, ``id="name:version"``,
    ``tags``/``properties`` (``['key', ['key2', 'value']]``), ``run_id`` and ``model_framework``
    narrow the choice. ModelNotFoundError when none matches.
    """

    class Framework:
        """SDK v1's framework constants (recorded; Headwater deploys nothing)."""

        CUSTOM = "Custom"
        TENSORFLOW = "TensorFlow"
        SCIKITLEARN = "ScikitLearn"
        ONNX = "Onnx"
        TFKERAS = "TfKeras"
        PYTORCH = "PyTorch"
        MULTI = "Multi"

    def __init__(
        self,
        workspace: Workspace | None,
        name: str | None = None,
        id: str | None = None,
        tags: list[Any] | None = None,
        properties: list[Any] | None = None,
        version: int | None = None,
        run_id: str | None = None,
        model_framework: str | None = None,
        expand: bool = True,
        sub_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.created_by: dict[str, Any] | None = None
        self.created_time: datetime | None = None
        self.description: str | None = None
        self.id: str | None = None
        self.mime_type: str | None = None
        self.name: str | None = None
        self.model_framework: str | None = None
        self.model_framework_version: str | None = None
        self.tags: dict[str, Any] | None = None
        self.properties: dict[str, Any] | None = None
        self.unpack: bool | None = None
        self.url: str | None = None
        self.version: int | None = None
        self.workspace: Workspace | None = None
        self.experiment_name: str | None = None
        self.run_id: str | None = None
        self.datasets: dict[str, list[Any]] = {}
        self.sample_input_dataset: Any = None
        self.sample_output_dataset: Any = None
        self.resource_configuration: Any = None
        self.parent_id: str | None = None
        self.derived_model_ids: list[str] | None = None
        self.sub_path = sub_path
        self._record: ModelRecord | None = None
        record = kwargs.get("_record")
        if record is None and workspace is not None:
            record = self._find(workspace, name, id, tags, properties, version, run_id, model_framework)
        if record is not None and workspace is not None:
            self._initialize(workspace, record, expand)

    # -- finding -------------------------------------------------------------------------------

    @staticmethod
    def _find(
        workspace: Workspace,
        name: str | None,
        id: str | None,
        tags: list[Any] | None,
        properties: list[Any] | None,
        version: int | None,
        run_id: str | None,
        framework: str | None,
    ) -> ModelRecord:
        store = workspace.metadata_store
        if not id and not name:
            raise ConfigurationError("Model(ws, ...) needs a name or an id", key="name", hint="Model(ws, 'my-model').")
        if id:
            record = store.get_model_by_id(id)
        elif version is not None:
            record = store.get_model(str(name), int(version))
        else:
            record = next(
                (
                    r
                    for r in store.list_models(name=name, run_id=run_id, framework=framework)
                    if matches_filters(r, tags=tags, properties=properties)
                ),
                None,
            )
        if record is None:
            wanted = id or (f"{name}:{version}" if version is not None else str(name))
            raise ModelNotFoundError(
                "Model",
                wanted,
                where=f"workspace {workspace.name!r}",
                candidates=store.model_names(),
                hint="List the registered models with Model.list(ws) or `headwater model list`.",
            )
        if not id:  # inside a step: recorded with its run, so that reuse asks the registry again
            query = {"name": name, "version": version, "tags": tags, "properties": properties}
            note_lookup({**query, "run_id": run_id, "framework": framework}, record.version, record.digest)
        return record

    def _initialize(self, workspace: Workspace, record: ModelRecord, expand: bool = True) -> None:
        self._record = record
        self.workspace = workspace
        self.id = record.id
        self.name = record.name
        self.version = record.version
        self.description = record.description
        self.tags = dict(record.tags)
        self.properties = dict(record.properties)
        self.model_framework = record.framework
        self.model_framework_version = record.framework_version
        self.run_id = record.run_id
        self.experiment_name = record.experiment_name
        self.created_time = datetime.fromisoformat(record.created_at)
        self.created_by = {}
        self.mime_type = "application/octet-stream"
        self.unpack = False
        self.url = f"aml://asset/{record.id}"
        # As stored ({"cpu", "memoryInGB", "gpu"}): the ResourceConfiguration class lives in the opt-in compat layer.
        self.resource_configuration = record.extra.get("resource_configuration")
        self.datasets = {}
        if expand:
            for ref in record.datasets:
                dataset = self._dataset(ref["id"])
                if dataset is not None:  # a dataset that is gone is left out (the record keeps its id)
                    self.datasets.setdefault(ref["name"], []).append(dataset)
            for attr in ("sample_input_dataset", "sample_output_dataset"):
                dataset_id = record.extra.get(f"{attr}_id")
                setattr(self, attr, None if dataset_id is None else self._dataset(dataset_id))

    def _dataset(self, dataset_id: str) -> Any:
        from headwater.sdk.dataset import AbstractDataset

        assert self.workspace is not None
        try:
            return AbstractDataset.get_by_id(self.workspace, dataset_id)
        except HeadwaterError:
            return None  # the dataset is gone; the reference stays in the record

    def _require(self) -> tuple[Workspace, ModelRecord]:
        if self.workspace is None or self._record is None:
            raise HeadwaterError(
                "This Model object is not bound to a registered model.", hint="Use Model(ws, name) or Model.register."
            )
        return self.workspace, self._record

    def __repr__(self) -> str:
        return (
            f"Model(workspace={self.workspace!r}, name={self.name}, id={self.id}, version={self.version}, "
            f"tags={self.tags}, properties={self.properties})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and other.id == self.id and other.workspace == self.workspace

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def run(self) -> Any:
        """The run the model came from (``Run.register_model``), or None."""
        if self.run_id is None or self.workspace is None:
            return None
        try:
            return self.workspace.get_run(self.run_id)
        except HeadwaterError:
            return None

    # -- registering ---------------------------------------------------------------------------

    @staticmethod
    def register(
        workspace: Workspace,
        model_path: str | os.PathLike[str],
        model_name: str,
        tags: dict[str, Any] | None = None,
        properties: dict[str, Any] | None = None,
        description: str | None = None,
        datasets: list[tuple[str, Any]] | None = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        child_paths: list[str] | None = None,
        sample_input_dataset: Any = None,
        sample_output_dataset: Any = None,
        resource_configuration: Any = None,
    ) -> Model:
        """Register the file or folder ``model_path`` as the next version of ``model_name``.

        With a folder, ``child_paths`` takes only those files or sub-folders of it. The files are
        stored once per content in the workspace: registering identical bytes again adds a version
        but no bytes.
        """
        from headwater.store.model_files import collect_model_files

        Model._check_registration(model_name, model_framework, model_framework_version)
        sources = collect_model_files(model_path, child_paths)
        print(f"Registering model {model_name}")
        return Model._register_files(
            workspace,
            model_name,
            sources,
            tags=tags,
            properties=properties,
            description=description,
            datasets=datasets,
            model_framework=model_framework,
            model_framework_version=model_framework_version,
            extra=extra_fields(workspace, sample_input_dataset, sample_output_dataset, resource_configuration),
        )

    @staticmethod
    def _check_registration(name: str, framework: str | None, framework_version: str | None) -> None:
        validate_model_name(name)
        if framework is None and framework_version is not None:
            raise ConfigurationError(
                "Model framework version cannot be provided without a valid framework",
                key="model_framework_version",
                hint="Pass model_framework too (e.g. Model.Framework.SCIKITLEARN).",
            )

    @staticmethod
    def _register_files(
        workspace: Workspace,
        name: str,
        sources: dict[str, Path],
        *,
        tags: dict[str, Any] | None,
        properties: dict[str, Any] | None,
        description: str | None,
        datasets: Any,
        model_framework: str | None,
        model_framework_version: str | None,
        extra: dict[str, Any],
        run_id: str | None = None,
        experiment_name: str | None = None,
    ) -> Model:
        from headwater.store.model_files import register_model_files

        record = register_model_files(
            workspace.metadata_store,
            WorkspaceLayout(workspace.folder),
            name,
            sources,
            description=description,
            tags=check_dict(tags, "tags"),
            properties=check_dict(properties, "properties"),
            framework=model_framework,
            framework_version=model_framework_version,
            run_id=run_id,
            experiment_name=experiment_name,
            datasets=dataset_references(workspace, datasets),
            extra=extra,
        )
        return Model(workspace, _record=record)

    # -- listing and reading -------------------------------------------------------------------

    @staticmethod
    def list(
        workspace: Workspace,
        name: str | None = None,
        tags: list[Any] | None = None,
        properties: list[Any] | None = None,
        run_id: str | None = None,
        latest: bool = False,
        dataset_id: str | None = None,
        expand: bool = True,
        page_count: int = 255,
        model_framework: str | None = None,
    ) -> list[Model]:
        """The registered versions matching every filter given, by name, newest version first."""
        if page_count and not 20 <= page_count <= 255:
            raise ConfigurationError(
                f"Expected page_count value is between 20 and 255. Provided: {page_count}", key="page_count"
            )
        for what, value in (("tags", tags), ("properties", properties)):
            if value is not None and not isinstance(value, list):
                raise ConfigurationError(
                    f'Expected {what} must be list type. Ex. ["key", ["key2", "key2 value"]]: provided {type(value)}',
                    key=what,
                )
        from headwater.engine.model_check import list_models

        query = {
            "name": name,
            "tags": tags,
            "properties": properties,
            "run_id": run_id,
            "latest": latest,
            "dataset_id": dataset_id,
            "model_framework": model_framework,
        }
        records = list_models(workspace.metadata_store, query)
        note_listing(query, [(r.name, r.version, r.digest) for r in records])  # inside a step: for reuse
        return [Model(workspace, _record=r, expand=expand) for r in records]

    def download(
        self, target_dir: str | os.PathLike[str] = ".", exist_ok: bool = False, exists_ok: bool | None = None
    ) -> str:
        """Copy the model's files into ``target_dir``; the path of the model's file or folder there."""
        from headwater.store.model_files import materialize

        workspace, record = self._require()
        if exists_ok is not None:
            exist_ok = exists_ok  # SDK v1's deprecated spelling
        materialize(WorkspaceLayout(workspace.folder), record.files, Path(target_dir), exist_ok=exist_ok)
        # The model's file or folder (SDK v1 returns the files' common path, which is a file for a
        # folder holding one file; the folder is what a loader expects).
        return str(Path(target_dir) / record.root)

    @staticmethod
    def get_model_path(model_name: str, version: int | None = None, _workspace: Workspace | None = None) -> str:
        """The local path of a model's file or folder (see :mod:`headwater.sdk.model_paths` for where
        it is looked for: the local cache, the workspace given, or the step's own workspace)."""
        return resolve_model_path(model_name, version, _workspace)

    def get_sas_urls(self) -> dict[str, str]:
        """SDK v1's download URLs: here ``file://`` URLs of the stored files, by their names in the model."""
        workspace, record = self._require()
        layout = WorkspaceLayout(workspace.folder)
        return {name: layout.model_file(digest).as_uri() for name, digest in record.files.items()}

    # -- changing ------------------------------------------------------------------------------

    def _save(self, **fields: Any) -> None:
        workspace, record = self._require()
        updated = workspace.metadata_store.update_model(record.id, **fields)
        if updated is None:
            raise ModelNotFoundError("Model", record.id, where=f"workspace {workspace.name!r} (it was deleted)")
        self._record = updated

    def update(
        self,
        tags: dict[str, Any] | None = None,
        description: str | None = None,
        sample_input_dataset: Any = None,
        sample_output_dataset: Any = None,
        resource_configuration: Any = None,
    ) -> None:
        """Replace the given fields (``tags`` replaces all tags)."""
        workspace, record = self._require()
        extra = {
            **record.extra,
            **extra_fields(workspace, sample_input_dataset, sample_output_dataset, resource_configuration),
        }
        self._save(tags=check_dict(tags, "tags") if tags else None, description=description or None, extra=extra)
        if tags:
            self.tags = dict(tags)
        if description:
            self.description = description
        for attr, value in (
            ("sample_input_dataset", sample_input_dataset),
            ("sample_output_dataset", sample_output_dataset),
            ("resource_configuration", resource_configuration),
        ):
            if value is not None:
                setattr(self, attr, value)

    def update_tags_properties(
        self,
        add_tags: dict[str, Any] | None = None,
        remove_tags: builtins.list[str] | str | None = None,
        add_properties: dict[str, Any] | None = None,
    ) -> None:
        """Add and remove tags, and add properties (an existing property cannot change)."""
        _, record = self._require()
        tags, properties = dict(record.tags), dict(record.properties)
        for key, value in check_dict(add_properties, "properties").items():
            if key in properties and properties[key] != value:
                raise ConfigurationError(
                    f"Model property {key!r} is {properties[key]!r} already; properties cannot be changed",
                    key="properties",
                    hint="Use a tag for a value that changes.",
                )
            properties[key] = value
        tags.update(check_dict(add_tags, "tags"))
        for key in [remove_tags] if isinstance(remove_tags, str) else remove_tags or []:
            if tags.pop(key, None) is None and key not in record.tags:
                print(f"Tag with key {key} not found.")
        self._save(tags=tags, properties=properties)
        self.tags, self.properties = tags, properties

    def add_tags(self, tags: dict[str, Any]) -> None:
        """Add (or replace) tags."""
        self.update_tags_properties(add_tags=tags)
        print("Model tag add operation complete.")

    def remove_tags(self, tags: builtins.list[str] | str) -> None:
        """Remove the tags with these keys."""
        self.update_tags_properties(remove_tags=tags)
        print("Model tag remove operation complete.")

    def add_properties(self, properties: dict[str, Any]) -> None:
        """Add properties (new keys only: a property never changes)."""
        self.update_tags_properties(add_properties=properties)
        print("Model properties add operation complete.")

    def add_dataset_references(self, datasets: builtins.list[tuple[str, Any]]) -> None:
        """Record more (scenario, dataset) pairs the model came from."""
        workspace, record = self._require()
        self._save(datasets=[*record.datasets, *dataset_references(workspace, datasets)])
        for scenario, dataset in datasets:
            self.datasets.setdefault(scenario, []).append(dataset)

    def delete(self) -> None:
        """Delete this version (its files are removed by ``headwater gc`` when no version uses them)."""
        workspace, record = self._require()
        if not workspace.metadata_store.delete_model(record.id):
            raise ModelNotFoundError("Model", record.id, where=f"workspace {workspace.name!r}")

    # -- serialising ---------------------------------------------------------------------------

    def serialize(self) -> dict[str, Any]:
        """SDK v1's JSON form of the model."""
        _, record = self._require()
        return {
            "createdTime": record.created_at,
            "createdBy": self.created_by,
            "description": self.description,
            "id": self.id,
            "mimeType": self.mime_type,
            "name": self.name,
            "framework": self.model_framework,
            "frameworkVersion": self.model_framework_version,
            "tags": self.tags,
            "properties": self.properties,
            "unpack": self.unpack,
            "url": self.url,
            "version": self.version,
            "experimentName": self.experiment_name,
            "runId": self.run_id,
            "datasets": list(record.datasets),
            "resourceConfiguration": record.extra.get("resource_configuration"),
            "sampleInputDatasetId": record.extra.get("sample_input_dataset_id"),
            "sampleOutputDatasetId": record.extra.get("sample_output_dataset_id"),
        }

    @staticmethod
    def deserialize(workspace: Workspace, model_payload: dict[str, Any]) -> Model:
        """The registered model a :meth:`serialize` payload names (read back from the workspace)."""
        return Model(workspace, id=model_payload["id"])
