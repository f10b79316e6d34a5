"""``DataFactoryCompute`` (SDK v1: ``azureml.core.compute.DataFactoryCompute``): accepted, runs locally.

In SDK v1 a DataTransferStep needs an Azure Data Factory attached (or created) as a compute
target. Headwater's DataTransferStep copies with its own process on this machine, so a Data
Factory target is only a named record (kind ``'DataFactory'``) that lets SDK v1 code run as
written: ``DataFactoryCompute(ws, name)``, ``ComputeTarget.create(ws, name,
DataFactoryCompute.provisioning_configuration())`` and ``ComputeTarget.attach(ws, name,
DataFactoryCompute.attach_configuration(resource_group=..., factory_name=...))``. Nothing Azure is
contacted; the settings are recorded and shown by ``serialize()``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

from headwater.config import validate_name
from headwater.errors import ComputeTargetException, ConfigurationError
from headwater.sdk.compute import LOCAL, ComputeTarget
from headwater.sdk.compute_config import ProvisioningConfiguration
from headwater.store.records import ComputeTargetRecord

if TYPE_CHECKING:
    from headwater.sdk.workspace import Workspace

__all__ = [
    "DATA_FACTORY_KIND",
    "DataFactoryAttachConfiguration",
    "DataFactoryCompute",
    "DataFactoryProvisioningConfiguration",
    "attach_data_factory",
]

#: The record kind (and ``type``) of a Data Factory target.
DATA_FACTORY_KIND = "DataFactory"


@dataclass
class DataFactoryProvisioningConfiguration(ProvisioningConfiguration):
    """What ``DataFactoryCompute.provisioning_configuration`` returns (``location`` is recorded only)."""

    type: ClassVar[str] = DATA_FACTORY_KIND

    location: str | None = None


@dataclass(frozen=True)
class DataFactoryAttachConfiguration:
    """What ``DataFactoryCompute.attach_configuration`` returns: which factory SDK v1 would attach.

    Give ``resource_id`` or both ``resource_group`` and ``factory_name`` (as SDK v1 requires);
    they are recorded only.
    """

    resource_group: str | None = None
    factory_name: str | None = None
    resource_id: str | None = None

    def validate_configuration(self) -> None:
        """Raise ComputeTargetException-free ConfigurationError when neither form is complete."""
        if self.resource_id:
            return
        if not (self.resource_group and self.factory_name):
            raise ConfigurationError(
                "A Data Factory attach configuration needs resource_id, or resource_group and factory_name",
                hint="DataFactoryCompute.attach_configuration(resource_group='rg', factory_name='adf').",
            )

    def _attach(self, workspace: Workspace, name: str) -> DataFactoryCompute:
        """What ``ComputeTarget.attach`` does with this configuration."""
        return attach_data_factory(workspace, name, self)


def attach_data_factory(workspace: Workspace, name: str, config: DataFactoryAttachConfiguration) -> DataFactoryCompute:
    """Record ``name`` as an attached Data Factory (replacing an earlier Data Factory of that name)."""
    validate_name("compute target", name)
    if name == LOCAL:
        raise ConfigurationError(f"{LOCAL!r} is the built-in compute target", hint="Choose another name.")
    config.validate_configuration()
    store = workspace.metadata_store
    existing = store.get_compute_target(name)
    if existing is not None and existing.kind != DATA_FACTORY_KIND:
        raise ConfigurationError(
            f"Compute target {name!r} exists as a {existing.kind}; a Data Factory cannot be attached under its name",
            hint="Choose another name, or delete the existing target first.",
        )
    settings = {k: v for k, v in asdict(config).items() if v is not None}
    record = ComputeTargetRecord(name, DATA_FACTORY_KIND, {**settings, "attached": True})
    store.put_compute_target(record, overwrite=True)
    return DataFactoryCompute._from_data_factory_record(workspace, record)


class DataFactoryCompute(ComputeTarget):
    """A Data Factory target (``type`` ``'DataFactory'``): DataTransferSteps that name it copy on this machine."""

    _type: ClassVar[str] = DATA_FACTORY_KIND

    def __new__(cls, workspace: Workspace, name: str) -> Self:
        record = workspace.metadata_store.get_compute_target(name)
        if record is None or record.kind != DATA_FACTORY_KIND:
            # SDK v1 code tests for 'ComputeTargetNotFound' in e.message before it creates the factory.
            kind = "ComputeTargetNotFound: Data Factory compute target"
            other = "" if record is None else f"{name!r} is a {record.kind}. "
            raise ComputeTargetException(
                kind,
                name,
                where=f"workspace {workspace.name!r}",
                hint=f"{other}Create it with ComputeTarget.create(ws, {name!r}, "
                "DataFactoryCompute.provisioning_configuration()) or attach one with ComputeTarget.attach(...).",
            )
        return cls._from_data_factory_record(workspace, record)

    @classmethod
    def _from_data_factory_record(cls, workspace: Workspace, record: ComputeTargetRecord) -> Self:
        obj = object.__new__(cls)
        obj._workspace = workspace
        obj._record = record
        obj._operation_pending = False
        return obj

    @staticmethod
    def provisioning_configuration(location: str | None = None) -> DataFactoryProvisioningConfiguration:
        """The configuration for ``ComputeTarget.create`` (``location`` is recorded only)."""
        return DataFactoryProvisioningConfiguration(location=location)

    @staticmethod
    def attach_configuration(
        resource_group: str | None = None, factory_name: str | None = None, resource_id: str | None = None
    ) -> DataFactoryAttachConfiguration:
        """The configuration for ``ComputeTarget.attach``."""
        return DataFactoryAttachConfiguration(resource_group, factory_name, resource_id)

    @staticmethod
    def attach(workspace: Workspace, name: str, resource_id: str) -> ComputeTarget:  # type: ignore[override]
        """SDK v1's deprecated form of ``ComputeTarget.attach(ws, name, attach_configuration(resource_id=...))``."""
        return DataFactoryCompute.attach_configuration(resource_id=resource_id)._attach(workspace, name)

    @property
    def type(self) -> str:
        """``'DataFactory'``."""
        return self._type

    def detach(self) -> None:
        """Remove the target (attached or created: there is nothing else to release)."""
        self._workspace.metadata_store.delete_compute_target(self.name)

    def delete(self) -> None:
        """Remove the target."""
        self.detach()

    def serialize(self) -> dict[str, Any]:
        """SDK v1's JSON shape, with the recorded settings."""
        return {"name": self.name, "type": self.type, "properties": dict(self._record.config)}
