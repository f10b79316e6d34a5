"""Compute targets (SDK v1: ``azureml.core.compute``): named places where steps run.

Nothing is provisioned: a compute target is a record in the workspace's metadata store, and
every operation returns at once with SDK v1's "Succeeded". What a target means here:

- ``AmlCompute`` (``type`` ``'AmlCompute'``): a local process pool whose concurrency is
  ``max_nodes`` (this machine's CPU count when ``max_nodes`` is None);
- ``ComputeInstance`` (``'ComputeInstance'``): a local process pool as wide as the CPU count;
- ``LocalCompute`` (``'Local'``): the built-in ``'local'`` target, always there, never stored
  and not listed (as in SDK v1).

``vm_size``, ``vm_priority``, ``min_nodes`` and the Azure-only settings are recorded (shown by
:meth:`ComputeTarget.serialize`); passwords and SSH keys are never stored.
"""

from __future__ import annotations

import builtins
import os
import sys
from typing import TYPE_CHECKING, Any, ClassVar, Self

from headwater.config import validate_name
from headwater.errors import AlreadyExistsError, ComputeTargetException, ConfigurationError, NotSupportedError
from headwater.sdk.compute_config import (
    AmlComputeProvisioningConfiguration,
    ComputeInstanceProvisioningConfiguration,
    ComputeStatus,
    ProvisioningConfiguration,
    ScaleSettings,
)
from headwater.store.records import ComputeTargetRecord

if TYPE_CHECKING:
    from headwater.sdk.workspace import Workspace

__all__ = [
    "LOCAL",
    "AmlCompute",
    "AmlComputeProvisioningConfiguration",
    "ComputeInstance",
    "ComputeInstanceProvisioningConfiguration",
    "ComputeStatus",
    "ComputeTarget",
    "LocalCompute",
    "ScaleSettings",
]

#: The built-in target every workspace has.
LOCAL = "local"
_SUCCEEDED = "Succeeded"


def _cpu_count() -> int:
    return os.cpu_count() or 1


class ComputeTarget:
    """A compute target in a workspace (SDK v1: ``ComputeTarget``).

    ``ComputeTarget(ws, name)`` returns the stored target as its concrete class (``AmlCompute``,
    ``ComputeInstance``, or ``LocalCompute`` for ``'local'``); a missing name raises
    :class:`~headwater.errors.ComputeTargetException` suggesting close names, so SDK v1's
    ``try: ComputeTarget(ws, n) except ComputeTargetException: ComputeTarget.create(...)`` works.
    """

    _type: ClassVar[str] = ""
    _workspace: Workspace
    _record: ComputeTargetRecord
    _operation_pending: bool

    def __new__(cls, workspace: Workspace, name: str) -> Self:
        found = ComputeTarget._lookup(workspace, name)
        if not isinstance(found, cls):
            raise ComputeTargetException(
                cls.__name__,
                name,
                where=f"workspace {workspace.name!r}",
                hint=f"{name!r} is a {found.type}; use ComputeTarget(ws, {name!r}) to get it as it is.",
            )
        return found

    def __init__(self, workspace: Workspace, name: str) -> None:
        """Nothing to do: :meth:`__new__` returned a fully built target."""

    @staticmethod
    def _lookup(workspace: Workspace, name: str) -> ComputeTarget:
        if name == LOCAL:
            return ComputeTarget._from_record(workspace, ComputeTargetRecord(LOCAL, LocalCompute._type, {}))
        record = workspace._metadata.get_compute_target(name)
        if record is None:
            raise ComputeTargetException(
                "Compute target",
                name,
                where=f"workspace {workspace.name!r}",
                candidates=[LOCAL, *(r.name for r in workspace._metadata.list_compute_targets())],
                hint="Create it with ComputeTarget.create(ws, name, "
                "AmlCompute.provisioning_configuration(max_nodes=4)).",
            )
        return ComputeTarget._from_record(workspace, record)

    @staticmethod
    def _from_record(workspace: Workspace, record: ComputeTargetRecord) -> ComputeTarget:
        """The target object for a record (an unknown kind gets the plain base class)."""
        obj = object.__new__(_KINDS.get(record.kind, ComputeTarget))
        obj._workspace = workspace
        obj._record = record
        obj._operation_pending = False
        return obj

    # -- create, list --------------------------------------------------------------------------

    @staticmethod
    def create(workspace: Workspace, name: str, provisioning_configuration: ProvisioningConfiguration) -> ComputeTarget:
        """Record a compute target; returns it at once (``wait_for_completion`` has nothing to wait for).

        Creating again with an identical configuration returns the existing target; a different
        configuration under an existing name raises AlreadyExistsError naming what differs.
        """
        if not isinstance(provisioning_configuration, ProvisioningConfiguration):
            raise ConfigurationError(
                f"ComputeTarget.create needs a provisioning configuration, not {provisioning_configuration!r}",
                hint="Use AmlCompute.provisioning_configuration(vm_size=..., max_nodes=...).",
            )
        validate_name("compute target", name)
        if name == LOCAL:
            raise ConfigurationError(f"{LOCAL!r} is the built-in compute target", hint="Choose another name.")
        provisioning_configuration.validate_configuration()
        record = ComputeTargetRecord(name, provisioning_configuration.type, provisioning_configuration._config())
        store = workspace._metadata
        existing = store.get_compute_target(name)
        if existing is None:
            try:
                store.put_compute_target(record)
            except AlreadyExistsError:  # created concurrently: compare with that one
                existing = store.get_compute_target(name)
        if existing is not None:
            if (existing.kind, existing.config) != (record.kind, record.config):
                raise AlreadyExistsError(
                    "Compute target",
                    name,
                    hint=f"It exists with a different configuration ({_difference(existing, record)}). "
                    f"Use ComputeTarget(ws, {name!r}) as it is, delete it first, or choose another name.",
                )
            return ComputeTarget._from_record(workspace, existing)
        created = ComputeTarget._from_record(workspace, record)
        created._operation_pending = True
        return created

    @staticmethod
    def list(workspace: Workspace) -> builtins.list[ComputeTarget]:
        """The stored compute targets, by name (``'local'`` is not listed, as in SDK v1)."""
        return [ComputeTarget._from_record(workspace, r) for r in workspace._metadata.list_compute_targets()]

    # -- properties ----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def type(self) -> str:
        """SDK v1's compute type: ``'AmlCompute'``, ``'ComputeInstance'``, ``'Local'``."""
        return self._record.kind

    @property
    def workspace(self) -> Workspace:
        return self._workspace

    @property
    def location(self) -> str:
        return "local"

    @property
    def vm_size(self) -> str | None:
        return self._record.config.get("vm_size") or None

    @property
    def vm_priority(self) -> str | None:
        return self._record.config.get("vm_priority")

    @property
    def min_nodes(self) -> int:
        return int(self._record.config.get("min_nodes") or 0)

    @property
    def max_nodes(self) -> int | None:
        value = self._record.config.get("max_nodes")
        return None if value is None else int(value)

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._record.config.get("tags") or {})

    @property
    def description(self) -> str | None:
        return self._record.config.get("description")

    @property
    def provisioning_state(self) -> str:
        return _SUCCEEDED

    @property
    def provisioning_errors(self) -> None:
        return None

    @property
    def max_concurrency(self) -> int:
        """How many steps may run at once on this target (a Headwater addition).

        An AmlCompute maps to a local process pool whose concurrency is ``max_nodes``; without
        ``max_nodes`` (and for the other kinds) it is this machine's CPU count.
        """
        return self.max_nodes if self.max_nodes else _cpu_count()

    @property
    def status(self) -> ComputeStatus:
        """The current status (SDK v1: ``AmlComputeStatus``), always "Succeeded"."""
        return ComputeStatus(
            provisioning_state=_SUCCEEDED,
            current_node_count=self.min_nodes,
            target_node_count=self.min_nodes,
            vm_size=self.vm_size,
            vm_priority=self.vm_priority,
            scale_settings=ScaleSettings(
                self.min_nodes, self.max_nodes, self._record.config.get("idle_seconds_before_scaledown")
            ),
        )

    # -- operations ----------------------------------------------------------------------------

    def wait_for_completion(self, show_output: bool = False, is_delete_operation: bool = False) -> None:
        """Return at once: nothing is provisioned. ``show_output`` prints SDK v1's closing line."""
        if show_output and self._operation_pending:
            operation = "Deleting" if is_delete_operation else "Provisioning"
            print(f'{operation} operation finished, operation "{_SUCCEEDED}"', file=sys.stdout, flush=True)
        self._operation_pending = False

    def get_status(self) -> ComputeStatus:
        """The refreshed status (see :attr:`status`)."""
        self.refresh_state()
        return self.status

    def refresh_state(self) -> None:
        """Re-read the target from the store; raises ComputeTargetException if it was deleted."""
        if self.type != LocalCompute._type:
            self._record = ComputeTarget._lookup(self._workspace, self.name)._record

    def delete(self) -> None:
        """Remove the target from the workspace; its name can then be created again."""
        if not self._workspace._metadata.delete_compute_target(self.name):
            raise ComputeTargetException("Compute target", self.name, where=f"workspace {self._workspace.name!r}")

    def detach(self) -> None:
        """SDK v1 detaches only attached targets; created ones are deleted (:meth:`delete`)."""
        raise NotSupportedError(f"Detach is not supported for {self.type} {self.name!r}.", hint="Use delete() instead.")

    def serialize(self) -> dict[str, Any]:
        """A JSON dict of the target (name, type, its recorded configuration)."""
        return {
            "id": f"{self._workspace.name}/computes/{self.name}",
            "name": self.name,
            "location": self.location,
            "tags": self.tags,
            "properties": {
                "computeType": self.type,
                "provisioningState": self.provisioning_state,
                "description": self.description,
                "properties": dict(self._record.config),
                "status": self.status.serialize(),
            },
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(workspace={self._workspace.name!r}, name={self.name!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ComputeTarget)
            and other._workspace == self._workspace
            and other._record.name == self._record.name
            and other._record.kind == self._record.kind
            and other._record.config == self._record.config
        )

    def __hash__(self) -> int:
        return hash((self._workspace, self._record.name))


def _difference(old: ComputeTargetRecord, new: ComputeTargetRecord) -> str:
    if old.kind != new.kind:
        return f"type {old.kind} → {new.kind}"
    keys = sorted(set(old.config) | set(new.config))
    changed = [k for k in keys if old.config.get(k) != new.config.get(k)]
    return ", ".join(f"{k} {old.config.get(k)!r} → {new.config.get(k)!r}" for k in changed)


class AmlCompute(ComputeTarget):
    """A cluster (SDK v1: ``AmlCompute``): here a local process pool of ``max_nodes`` workers."""

    _type: ClassVar[str] = "AmlCompute"

    @staticmethod
    def provisioning_configuration(
        vm_size: str = "",
        vm_priority: str = "dedicated",
        min_nodes: int = 0,
        max_nodes: int | None = None,
        idle_seconds_before_scaledown: int | None = 1800,
        admin_username: str | None = None,
        admin_user_password: str | None = None,
        admin_user_ssh_key: str | None = None,
        vnet_resourcegroup_name: str | None = None,
        vnet_name: str | None = None,
        subnet_name: str | None = None,
        tags: dict[str, str] | None = None,
        description: str | None = None,
        remote_login_port_public_access: str = "NotSpecified",
        identity_type: str | None = None,
        identity_id: builtins.list[str] | None = None,
        location: str | None = None,
        enable_node_public_ip: bool = True,
    ) -> AmlComputeProvisioningConfiguration:
        """SDK v1's configuration for :meth:`ComputeTarget.create`; ``max_nodes`` is the concurrency."""
        return AmlComputeProvisioningConfiguration(**{k: v for k, v in locals().items()})

    def wait_for_completion(  # type: ignore[override]  # SDK v1's AmlCompute signature
        self,
        show_output: bool = False,
        min_node_count: int | None = None,
        timeout_in_minutes: int = 25,
        is_delete_operation: bool = False,
    ) -> None:
        """Return at once; with ``show_output``, print SDK v1's lines for a ready cluster."""
        super().wait_for_completion(show_output=show_output, is_delete_operation=is_delete_operation)
        if show_output and not is_delete_operation:
            print(_SUCCEEDED, file=sys.stdout)
            print("AmlCompute wait for completion finished\n", file=sys.stdout)
            print("Minimum number of nodes requested have been provisioned", file=sys.stdout, flush=True)


class ComputeInstance(ComputeTarget):
    """A single development machine (SDK v1: ``ComputeInstance``): here this machine."""

    _type: ClassVar[str] = "ComputeInstance"

    @staticmethod
    def provisioning_configuration(
        vm_size: str = "",
        ssh_public_access: bool = False,
        admin_user_ssh_public_key: str | None = None,
        vnet_resourcegroup_name: str | None = None,
        vnet_name: str | None = None,
        subnet_name: str | None = None,
        tags: dict[str, str] | None = None,
        description: str | None = None,
        assigned_user_object_id: str | None = None,
        assigned_user_tenant_id: str | None = None,
    ) -> ComputeInstanceProvisioningConfiguration:
        """SDK v1's configuration for :meth:`ComputeTarget.create`."""
        return ComputeInstanceProvisioningConfiguration(**{k: v for k, v in locals().items()})

    def start(self, wait_for_completion: bool = False, show_output: bool = False) -> None:
        """Nothing to start: this machine is running."""

    def stop(self, wait_for_completion: bool = False, show_output: bool = False) -> None:
        """Nothing to stop."""

    def restart(self, wait_for_completion: bool = False, show_output: bool = False) -> None:
        """Nothing to restart."""


class LocalCompute(ComputeTarget):
    """The built-in ``'local'`` target: this machine, as wide as its CPU count."""

    _type: ClassVar[str] = "Local"

    def delete(self) -> None:
        """The built-in target cannot be deleted."""
        raise NotSupportedError(f"{LOCAL!r} is built in and cannot be deleted.")


_KINDS: dict[str, builtins.type[ComputeTarget]] = {
    cls._type: cls for cls in (AmlCompute, ComputeInstance, LocalCompute)
}
