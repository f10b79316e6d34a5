"""Compute targets (SDK v1: ``azureml.core.compute``): named places where steps run.

Nothing is provisioned: a compute target is a record in the workspace's metadata store, and
every operation returns at once with SDK v1's "Succeeded". What a target means here:

- ``AmlCompute`` (``type`` ``'AmlCompute'``): a local process pool whose concurrency is
  ``max_nodes`` (this machine's CPU count when ``max_nodes`` is None);
- ``ComputeInstance`` (``'ComputeInstance'``): a local process pool as wide as the CPU count;
- ``LocalCompute`` (``'Local'``): the built-in ``'local'`` target, always there, never stored
  and not listed (as in SDK v1);
- ``RayCompute`` (``'Ray'``, record kind ``'ray'``; Headwater addition): a Ray cluster, see
  :meth:`ComputeTarget.attach`.

``vm_size`` becomes a request (:mod:`headwater.sdk.vm_sizes`, :attr:`ComputeTarget.resources`),
stored as ``config["resources"]``: lowered to fit this machine on a local pool; the full size on
Ray, where the executor lowers it to the cluster's biggest node when it submits.

``vm_size``, ``vm_priority``, ``min_nodes`` and the Azure-only settings are recorded (shown by
:meth:`ComputeTarget.serialize`); passwords and SSH keys are never stored.
"""

from __future__ import annotations

import builtins
import os
import sys
import warnings
from typing import TYPE_CHECKING, Any, ClassVar, Self

from headwater.config import validate_name
from headwater.errors import AlreadyExistsError, ComputeTargetException, ConfigurationError, NotSupportedError
from headwater.ops.ray_targets import SHARED_FILESYSTEM, STAGING_DATASTORE
from headwater.sdk import compute_v1 as _v1
from headwater.sdk import vm_sizes
from headwater.sdk.compute_config import (
    ADDRESS,
    ATTACHED_OVER,
    RAY_KIND,
    RESOURCES,
    AmlComputeProvisioningConfiguration,
    ComputeInstanceProvisioningConfiguration,
    ComputeStatus,
    ProvisioningConfiguration,
    RayAttachConfiguration,
    ScaleSettings,
    as_created,
    difference,
    ray_config,
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
    "RayAttachConfiguration",
    "RayCompute",
    "ScaleSettings",
]

#: The built-in target every workspace has.
LOCAL = "local"
_SUCCEEDED = "Succeeded"


def _local_resources(config: dict[str, Any]) -> dict[str, Any]:
    """The request of ``config``'s vm_size on this machine; what was lowered is warned about at the caller's caller."""
    request = vm_sizes.local_request(str(config.get("vm_size") or ""))
    for text in request.warnings:
        warnings.warn(vm_sizes.ResourceRequestWarning(text), stacklevel=3)
    return request.to_config()


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
        # A name rebound to Ray stands in for its former kind: AmlCompute(ws, "aml-compute") still works.
        if not isinstance(found, cls) and not (isinstance(found, RayCompute) and found.attached_over == cls._type):
            raise ComputeTargetException(
                cls.__name__,
                name,
                where=f"workspace {workspace.name!r}",
                hint=f"{name!r} is a {found.type}; use ComputeTarget(ws, {name!r}) to get it as it is.",
            )
        return found  # type: ignore[return-value]  # or a RayCompute standing in for cls

    def __init__(self, workspace: Workspace, name: str) -> None:
        """Nothing to do: :meth:`__new__` returned a fully built target."""

    @staticmethod
    def _lookup(workspace: Workspace, name: str) -> ComputeTarget:
        if name == LOCAL:
            return ComputeTarget._from_record(workspace, ComputeTargetRecord(LOCAL, LocalCompute._type, {}))
        record = workspace.metadata_store.get_compute_target(name)
        if record is None:
            raise ComputeTargetException(
                "Compute target",
                name,
                where=f"workspace {workspace.name!r}",
                candidates=[LOCAL, *(r.name for r in workspace.metadata_store.list_compute_targets())],
                hint="Create it with ComputeTarget.create(ws, name, "
                "AmlCompute.provisioning_configuration(max_nodes=4)).",
            )
        return ComputeTarget._from_record(workspace, record)

    @staticmethod
    def _from_record(workspace: Workspace, record: ComputeTargetRecord) -> ComputeTarget:
        """The target object for a record (an unknown kind gets the plain base class)."""
        obj = object.__new__(_kind_class(record.kind))
        obj._workspace = workspace
        obj._record = record
        obj._operation_pending = False
        return obj

    # -- create, list --------------------------------------------------------------------------

    @staticmethod
    def create(workspace: Workspace, name: str, provisioning_configuration: ProvisioningConfiguration) -> ComputeTarget:
        """Record a compute target; returns it at once (``wait_for_completion`` has nothing to wait for).

        Creating again with an identical configuration returns the existing target (a Ray
        cluster if the name was rebound to one); a different configuration under an existing name
        raises AlreadyExistsError naming what differs. A new target's ``vm_size`` becomes
        ``config["resources"]``, lowered to fit this machine with a ResourceRequestWarning (an
        error when ``HEADWATER_STRICT_RESOURCES=1``); an unknown ``vm_size`` raises ConfigurationError.
        """
        if not isinstance(provisioning_configuration, ProvisioningConfiguration):
            attach = isinstance(provisioning_configuration, RayAttachConfiguration)
            raise ConfigurationError(
                f"ComputeTarget.create needs a provisioning configuration, not {provisioning_configuration!r}",
                hint="Attach a Ray cluster with ComputeTarget.attach(ws, name, config)."
                if attach
                else "Use AmlCompute.provisioning_configuration(vm_size=..., max_nodes=...).",
            )
        validate_name("compute target", name)
        if name == LOCAL:
            raise ConfigurationError(f"{LOCAL!r} is the built-in compute target", hint="Choose another name.")
        provisioning_configuration.validate_configuration()
        config = provisioning_configuration._config()
        if config.get("vm_size"):
            vm_sizes.lookup(str(config["vm_size"]))  # an unknown size is refused even when the name exists
        store = workspace.metadata_store
        existing = store.get_compute_target(name)
        record = ComputeTargetRecord(name, provisioning_configuration.type, config)
        if existing is None:  # the request is computed for a new target only: it warns or, strict, raises
            record = ComputeTargetRecord(name, record.kind, {**config, RESOURCES: _local_resources(config)})
            try:
                store.put_compute_target(record)
            except AlreadyExistsError:  # created concurrently: compare with that one
                existing = store.get_compute_target(name)
        if existing is not None:
            if as_created(existing) != as_created(record):
                raise AlreadyExistsError(
                    "Compute target",
                    name,
                    hint=f"It exists with a different configuration ({difference(existing, record)}). "
                    f"Use ComputeTarget(ws, {name!r}) as it is, delete it first, or choose another name.",
                )
            return ComputeTarget._from_record(workspace, existing)
        created = ComputeTarget._from_record(workspace, record)
        created._operation_pending = True
        return created

    @staticmethod
    def attach(workspace: Workspace, name: str, attach_configuration: RayAttachConfiguration) -> ComputeTarget:
        """Bind ``name`` to a Ray cluster (``RayCompute.attach_configuration(address=...)``); returns a RayCompute.

        A new name becomes a Ray target; an existing one (say an AmlCompute) is rebound to Ray
        and keeps its settings (``max_nodes``, ``vm_size`` ...), so code that names it now runs on
        Ray; attaching again changes the address. Only the address's syntax is checked: the
        cluster is contacted when a run is submitted.
        """
        attach_other = getattr(attach_configuration, "_attach", None)
        if attach_other is not None:  # another kind's attach configuration (DataFactoryCompute's)
            return attach_other(workspace, name)
        if not isinstance(attach_configuration, RayAttachConfiguration):
            raise ConfigurationError(
                f"ComputeTarget.attach needs an attach configuration, not {attach_configuration!r}",
                hint="Use RayCompute.attach_configuration(address='auto'|'host:port'|'ray://host:port').",
            )
        validate_name("compute target", name)
        if name == LOCAL:
            raise ConfigurationError(f"{LOCAL!r} is the built-in compute target", hint="Choose another name.")
        attach_configuration.validate_configuration()
        store = workspace.metadata_store
        config = ray_config(store.get_compute_target(name), attach_configuration.address)
        for key in (SHARED_FILESYSTEM, STAGING_DATASTORE):  # attaching again sets them anew
            config.pop(key, None)
            value = getattr(attach_configuration, key, None)
            if value is not None:
                config[key] = value
        config[RESOURCES] = vm_sizes.requested(str(config.get("vm_size") or "")).to_config()
        store.put_compute_target(ComputeTargetRecord(name, RAY_KIND, config), overwrite=True)
        record = store.get_compute_target(name)
        assert record is not None  # just written
        return ComputeTarget._from_record(workspace, record)

    @staticmethod
    def list(workspace: Workspace) -> builtins.list[ComputeTarget]:
        """The stored compute targets, by name (``'local'`` is not listed, as in SDK v1)."""
        return [ComputeTarget._from_record(workspace, r) for r in workspace.metadata_store.list_compute_targets()]

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
    def resources(self) -> vm_sizes.ResourceRequest:
        """What a step on this target asks for: CPUs, GPUs, memory in GiB (a Headwater addition).

        Computed from ``vm_size`` when the target was created (see :mod:`headwater.sdk.vm_sizes`);
        without a ``vm_size``, one CPU.
        """
        stored = self._record.config.get(RESOURCES)
        if isinstance(stored, dict):
            return vm_sizes.ResourceRequest.from_config(stored)
        return vm_sizes.DEFAULT_REQUEST  # 'local', or a record written before requests were stored

    @property
    def location(self) -> str:
        return "local"

    @property
    def cluster_resource_id(self) -> str | None:
        """SDK v1's Azure resource id of an attached cluster: None, as for an AmlCompute (no Azure resource)."""
        return None

    @property
    def cluster_location(self) -> str | None:
        """SDK v1's location of an attached cluster: None (nothing is attached from Azure)."""
        return None

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

    deserialize = staticmethod(_v1.deserialize)

    def delete(self) -> None:
        """Remove the target from the workspace; its name can then be created again."""
        if not self._workspace.metadata_store.delete_compute_target(self.name):
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


class AmlCompute(ComputeTarget):
    """A cluster (SDK v1: ``AmlCompute``): here a local process pool of ``max_nodes`` workers."""

    _type: ClassVar[str] = "AmlCompute"

    get = _v1.get
    get_active_runs = _v1.get_active_runs
    list_nodes = _v1.list_local_node
    update = _v1.update
    supported_vmsizes = staticmethod(_v1.supported_vmsizes)
    add_identity = _v1.add_identity
    remove_identity = _v1.remove_identity
    list_quotas = staticmethod(_v1.list_quotas)
    list_usages = staticmethod(_v1.list_usages)
    update_quotas = staticmethod(_v1.update_quotas)

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
        settings = dict(locals())
        settings["compute_location"] = settings.pop("location")
        return AmlComputeProvisioningConfiguration(**settings)

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

    def delete(self, wait_for_completion: bool = False, show_output: bool = False) -> None:
        """Remove the target from the workspace (nothing to wait for)."""
        super().delete()

    get = _v1.get
    get_active_runs = _v1.get_active_runs
    supported_vmsizes = staticmethod(_v1.supported_vmsizes)
    get_docs_url: classmethod[Any, [], str] = classmethod(_v1.get_docs_url)
    update_sso_settings = _v1.update_sso_settings


class LocalCompute(ComputeTarget):
    """The built-in ``'local'`` target: this machine, as wide as its CPU count."""

    _type: ClassVar[str] = "Local"

    def delete(self) -> None:
        """The built-in target cannot be deleted."""
        raise NotSupportedError(f"{LOCAL!r} is built in and cannot be deleted.")


class RayCompute(ComputeTarget):
    """A Ray cluster (Headwater addition): ``type`` ``'Ray'``, attached with :meth:`ComputeTarget.attach`.

    Steps on it run as Ray tasks on the cluster at :attr:`address`. A name rebound to Ray keeps
    its former settings (:attr:`attached_over` says which kind it was) and :meth:`detach` gives
    them back.
    """

    _type: ClassVar[str] = "Ray"

    @staticmethod
    def attach_configuration(
        address: str = "auto", shared_filesystem: bool | None = None, staging_datastore: str | None = None
    ) -> RayAttachConfiguration:
        """The configuration for :meth:`ComputeTarget.attach`.

        ``address``: ``auto``, ``host:port`` or ``ray://host:port``. ``shared_filesystem``: whether
        the cluster's nodes see this host's files; None (default) decides at each submit (shared
        when every alive node is on this host), True/False force it. Without a shared filesystem
        steps are shipped through ``staging_datastore`` (an Azure Blob or S3 datastore; default:
        the pipeline's default datastore when it is remote). See docs/compute.md.
        """
        return RayAttachConfiguration(address, shared_filesystem, staging_datastore)

    @property
    def shared_filesystem(self) -> bool | None:
        """True/False as attached; None: decided at each submit from where the cluster's nodes are."""
        value = self._record.config.get(SHARED_FILESYSTEM)
        return None if value is None else bool(value)

    @property
    def staging_datastore(self) -> str | None:
        """The datastore steps are shipped through when the cluster has no shared filesystem (None: the default's)."""
        value = self._record.config.get(STAGING_DATASTORE)
        return None if value is None else str(value)

    @property
    def type(self) -> str:
        """``'Ray'``."""
        return self._type

    list_nodes = _v1.list_ray_nodes

    @property
    def address(self) -> str:
        """The cluster's address as attached."""
        return str(self._record.config.get(ADDRESS) or "auto")

    @property
    def attached_over(self) -> str | None:
        """The kind the name had before it was rebound to Ray (``'AmlCompute'``), or None."""
        kind = self._record.config.get(ATTACHED_OVER)
        return None if kind is None else str(kind)

    def detach(self) -> None:
        """Remove the Ray attachment: a rebound name gets its former kind and settings back, a
        name that was only ever Ray is removed. Get the target again with ``ComputeTarget(ws, name)``."""
        store = self._workspace.metadata_store
        record = store.get_compute_target(self.name)
        if record is None or record.kind != RAY_KIND:
            raise ComputeTargetException("Ray compute target", self.name, where=f"workspace {self._workspace.name!r}")
        if record.config.get(ATTACHED_OVER) is None:
            store.delete_compute_target(self.name)
            return
        kind, config = as_created(record)
        for key in (SHARED_FILESYSTEM, STAGING_DATASTORE):
            config.pop(key, None)
        config[RESOURCES] = _local_resources(config)
        store.put_compute_target(ComputeTargetRecord(self.name, kind, config), overwrite=True)


def _kind_class(kind: str) -> builtins.type[ComputeTarget]:
    """The class of a record kind; DataFactoryCompute lives in its own module, which imports this one."""
    if kind == "DataFactory":
        from headwater.sdk.compute_datafactory import DataFactoryCompute

        return DataFactoryCompute
    return _KINDS.get(kind, ComputeTarget)


_KINDS: dict[str, builtins.type[ComputeTarget]] = {
    **{cls._type: cls for cls in (AmlCompute, ComputeInstance, LocalCompute)},
    RAY_KIND: RayCompute,
}
