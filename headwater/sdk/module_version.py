"""``ModuleVersion`` and ``ModuleVersionDescriptor`` (SDK v1: azureml.pipeline.core.module): one
published version of a :class:`~headwater.sdk.module.Module` and its short description.

A version's ``definition`` (in the store) holds the frozen script: ``script``, ``source_directory``
(the workspace snapshot folder), ``snapshot_id``, ``inputs``/``outputs`` (port definitions),
``params`` (name → default), ``arguments`` (tokens) and ``runconfig``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headwater.errors import NotFoundError
from headwater.sdk.module_ports import InputPortDef, OutputPortDef

if TYPE_CHECKING:
    from headwater.sdk.module import Module
    from headwater.sdk.workspace import Workspace
    from headwater.store.repo_modules import ModuleVersionRecord

__all__ = ["ModuleVersion", "ModuleVersionDescriptor"]


class ModuleVersionDescriptor:
    """A version number and the id of that ModuleVersion."""

    def __init__(self, version: str, module_version_id: str) -> None:
        self._version = version
        self._module_version_id = module_version_id

    @property
    def version(self) -> str:
        return self._version

    @property
    def module_version_id(self) -> str:
        return self._module_version_id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModuleVersionDescriptor) and (other.version, other.module_version_id) == (
            self._version,
            self._module_version_id,
        )

    def __hash__(self) -> int:
        return hash((self._version, self._module_version_id))

    def __repr__(self) -> str:
        return f"ModuleVersionDescriptor(Version: {self._version}, ModuleVersionId: {self._module_version_id})"


class ModuleVersion:
    """One published version of a Module: a frozen script and its interface."""

    def __init__(
        self, workspace: Workspace, module_entity: ModuleVersionRecord, version: str, _module_version_provider: Any
    ) -> None:
        self._workspace = workspace
        self._entity = module_entity
        self._version = version

    @staticmethod
    def get(
        workspace: Workspace, module_version_id: str | None = None, _workflow_provider: Any = None
    ) -> ModuleVersion:
        """The ModuleVersion with this id."""
        record = None if module_version_id is None else workspace.metadata_store.get_module_version(module_version_id)
        if record is None:
            raise NotFoundError(
                "Module version",
                str(module_version_id),
                where=f"workspace {workspace.name!r}",
                hint="Module.get(ws, name=...).module_version_list() lists a module's versions.",
            )
        return ModuleVersion(workspace, record, record.version, None)

    @property
    def status(self) -> str:
        return self._entity.status

    @property
    def module_id(self) -> str:
        return self._entity.module_id

    @property
    def description(self) -> str | None:
        return self._entity.description

    @property
    def module_version_id(self) -> str:
        return self._entity.id

    @property
    def version(self) -> str:
        return self._version

    @property
    def category(self) -> str | None:
        return self._entity.category

    @property
    def interface(self) -> dict[str, Any]:
        """The version's interface: ``inputs`` and ``outputs`` (port definitions), ``parameters``
        (name → default), ``arguments`` and ``script``."""
        d = self._entity.definition
        return {
            "inputs": [InputPortDef._from_dict(p) for p in d.get("inputs", [])],
            "outputs": [OutputPortDef._from_dict(p) for p in d.get("outputs", [])],
            "parameters": dict(d.get("params", {})),
            "arguments": list(d.get("arguments", [])),
            "script": d.get("script"),
        }

    @property
    def runconfig(self) -> Any:
        """The RunConfiguration published with the version (None when none was)."""
        data = self._entity.definition.get("runconfig")
        if data is None:
            return None
        from headwater.sdk.environment import Environment, RunConfiguration

        rc = RunConfiguration()
        if data.get("environment") is not None:
            rc.environment = Environment.from_spec(data["environment"])
        if data.get("target"):
            rc.target = data["target"]
        rc.environment_variables = dict(data.get("environment_variables") or {})
        return rc

    @property
    def _definition(self) -> dict[str, Any]:
        return self._entity.definition

    def module(self, _workflow_provider: Any = None) -> Module:
        """The Module this version belongs to."""
        from headwater.sdk.module import Module

        return Module.get(self._workspace, module_id=self.module_id)

    def set_description(self, description: str) -> None:
        self._update(description=description)

    def enable(self) -> None:
        """Set the version 'Active'."""
        self._update(status="Active")

    def disable(self) -> None:
        """Set the version 'Disabled' (Module.resolve() no longer picks it)."""
        self._update(status="Disabled")

    def deprecate(self) -> None:
        self._update(status="Deprecated")

    def _update(self, **changes: Any) -> None:
        record = self._workspace.metadata_store.update_module_version(self._entity.id, **changes)
        if record is not None:
            self._entity = record

    def __repr__(self) -> str:
        return (
            f"ModuleVersion(Version: {self._version}, Status: {self.status}, Module Id: {self.module_id}, "
            f"Id: {self.module_version_id})"
        )
