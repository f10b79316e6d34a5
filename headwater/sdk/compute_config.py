"""The plain records of :mod:`headwater.sdk.compute`: configurations, statuses, stored settings.

SDK v1: ``AmlComputeProvisioningConfiguration``, ``ComputeInstanceProvisioningConfiguration``
(what ``provisioning_configuration(...)`` returns), ``ScaleSettings`` and ``AmlComputeStatus``
(here :class:`ComputeStatus`). What is stored with a compute target
(:meth:`ProvisioningConfiguration._config`) leaves out passwords and private keys.

:class:`RayAttachConfiguration` (a Headwater addition) is what ``RayCompute.attach_configuration``
returns for ``ComputeTarget.attach``: the address of a Ray cluster, checked for syntax only.
:func:`ray_config` builds the settings of a Ray record (keeping those of a name it rebinds) and
:func:`as_created` reads a record back as ``create`` compares it.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from headwater.errors import ConfigurationError
from headwater.store.records import ComputeTargetRecord

__all__ = [
    "ADDRESS",
    "ATTACHED_OVER",
    "RAY_KIND",
    "RESOURCES",
    "AmlComputeProvisioningConfiguration",
    "ComputeInstanceProvisioningConfiguration",
    "ComputeStatus",
    "ProvisioningConfiguration",
    "RayAttachConfiguration",
    "ScaleSettings",
    "as_created",
    "difference",
    "ray_config",
]

#: The record kind of an attached Ray cluster (its ``type`` is ``'Ray'``).
RAY_KIND = "ray"
#: Config keys Headwater adds to a record: the step's request (``vm_sizes.ResourceRequest.to_config``),
#: and on a Ray record the cluster's address and the kind the name had before it was rebound to Ray.
RESOURCES, ADDRESS, ATTACHED_OVER = "resources", "address", "attached_over"

_VM_PRIORITIES = ("dedicated", "lowpriority")
_PORT_ACCESS = ("Enabled", "Disabled", "NotSpecified")


@dataclass(frozen=True)
class ScaleSettings:
    """SDK v1's ``ScaleSettings``: the node range of an AmlCompute."""

    minimum_node_count: int
    maximum_node_count: int | None
    idle_seconds_before_scaledown: int | None = None

    @staticmethod
    def deserialize(object_dict: dict[str, Any]) -> ScaleSettings | None:
        """The settings of SDK v1's JSON (``minNodeCount``, ``maxNodeCount``, ``nodeIdleTimeBeforeScaleDown``)."""
        if not object_dict:
            return None
        idle = object_dict.get("nodeIdleTimeBeforeScaleDown")
        if isinstance(idle, str):  # the service's ISO 8601 duration, e.g. 'PT2M'
            match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?", idle)
            if match is None:
                raise ConfigurationError(
                    f"Unreadable nodeIdleTimeBeforeScaleDown {idle!r}", key="nodeIdleTimeBeforeScaleDown"
                )
            hours, minutes, seconds = (int(part or 0) for part in match.groups())
            idle = hours * 3600 + minutes * 60 + seconds
        return ScaleSettings(object_dict.get("minNodeCount", 0), object_dict.get("maxNodeCount"), idle)

    def serialize(self) -> dict[str, Any]:
        return {
            "minNodeCount": self.minimum_node_count,
            "maxNodeCount": self.maximum_node_count,
            "nodeIdleTimeBeforeScaleDown": self.idle_seconds_before_scaledown,
        }


@dataclass(frozen=True)
class ComputeStatus:
    """What ``get_status()`` returns (SDK v1: ``AmlComputeStatus``): always ready."""

    provisioning_state: str
    current_node_count: int
    target_node_count: int
    vm_size: str | None = None
    vm_priority: str | None = None
    scale_settings: ScaleSettings | None = None
    allocation_state: str = "Steady"
    errors: list[str] | None = None

    def serialize(self) -> dict[str, Any]:
        """SDK v1's JSON shape (camelCase keys)."""
        return {
            "currentNodeCount": self.current_node_count,
            "targetNodeCount": self.target_node_count,
            "nodeStateCounts": {"idleNodeCount": self.current_node_count, "runningNodeCount": 0},
            "allocationState": self.allocation_state,
            "provisioningState": self.provisioning_state,
            "vmSize": self.vm_size,
            "vmPriority": self.vm_priority,
            "scaleSettings": self.scale_settings.serialize() if self.scale_settings else None,
            "errors": self.errors,
        }


class ProvisioningConfiguration:
    """The base of the provisioning configurations; ``type`` is the compute type it creates."""

    type: ClassVar[str] = ""
    _secret_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, type: str | None = None, location: str | None = None) -> None:
        """SDK v1's base constructor (each configuration class has its own): records ``type`` and ``location``."""
        if type is not None:
            self.__dict__["type"] = type
        self.location = location

    def validate_configuration(self) -> None:
        """Raise ConfigurationError when a setting is out of range (SDK v1 checks these too)."""

    def _config(self) -> dict[str, Any]:
        """The settings as stored with the compute target (secrets left out)."""
        data = asdict(self)  # type: ignore[call-overload]  # every subclass is a dataclass
        kept = {k: v for k, v in data.items() if k not in self._secret_fields}
        return dict(json.loads(json.dumps(kept)))  # as the store gives it back (tuples become lists)


@dataclass
class AmlComputeProvisioningConfiguration(ProvisioningConfiguration):
    """What ``AmlCompute.provisioning_configuration`` returns; ``max_nodes`` is the concurrency here."""

    type: ClassVar[str] = "AmlCompute"
    _secret_fields: ClassVar[tuple[str, ...]] = ("admin_user_password", "admin_user_ssh_key")

    vm_size: str = ""
    vm_priority: str = "dedicated"
    min_nodes: int = 0
    max_nodes: int | None = None
    idle_seconds_before_scaledown: int | None = 1800
    admin_username: str | None = None
    admin_user_password: str | None = field(default=None, repr=False)
    admin_user_ssh_key: str | None = field(default=None, repr=False)
    vnet_resourcegroup_name: str | None = None
    vnet_name: str | None = None
    subnet_name: str | None = None
    tags: dict[str, str] | None = None
    description: str | None = None
    remote_login_port_public_access: str = "NotSpecified"
    identity_type: str | None = None
    identity_id: list[str] | None = None
    compute_location: str | None = None  # SDK v1's name; provisioning_configuration(location=) sets it
    enable_node_public_ip: bool = True

    def validate_configuration(self) -> None:
        def bad(key: str, why: str) -> ConfigurationError:
            return ConfigurationError(f"Invalid AmlCompute provisioning configuration: {why}", key=key)

        if self.vm_priority not in _VM_PRIORITIES:
            raise bad("vm_priority", f"vm_priority must be one of {_VM_PRIORITIES}, not {self.vm_priority!r}")
        if not isinstance(self.min_nodes, int) or self.min_nodes < 0:
            raise bad("min_nodes", f"min_nodes must be a whole number >= 0, not {self.min_nodes!r}")
        if self.max_nodes is not None:
            if not isinstance(self.max_nodes, int) or self.max_nodes < 1:
                raise bad("max_nodes", f"max_nodes must be a whole number >= 1, not {self.max_nodes!r}")
            if self.min_nodes > self.max_nodes:
                raise bad("min_nodes", f"min_nodes ({self.min_nodes}) is more than max_nodes ({self.max_nodes})")
        if self.idle_seconds_before_scaledown is not None and self.idle_seconds_before_scaledown < 0:
            raise bad("idle_seconds_before_scaledown", "idle_seconds_before_scaledown must be >= 0")
        if self.remote_login_port_public_access not in _PORT_ACCESS:
            raise bad("remote_login_port_public_access", f"it must be one of {_PORT_ACCESS}")


@dataclass
class ComputeInstanceProvisioningConfiguration(ProvisioningConfiguration):
    """What ``ComputeInstance.provisioning_configuration`` returns."""

    type: ClassVar[str] = "ComputeInstance"

    vm_size: str = ""
    ssh_public_access: bool = False
    admin_user_ssh_public_key: str | None = None
    vnet_resourcegroup_name: str | None = None
    vnet_name: str | None = None
    subnet_name: str | None = None
    tags: dict[str, str] | None = None
    description: str | None = None
    assigned_user_object_id: str | None = None
    assigned_user_tenant_id: str | None = None


# host: a DNS name, an IPv4 address or a bracketed IPv6 address; then :port.
_RAY_ADDRESS = re.compile(
    r"^(?P<scheme>ray://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?):(?P<port>[0-9]{1,5})$"
)


@dataclass(frozen=True)
class RayAttachConfiguration:
    """A Ray cluster to attach (Headwater addition): ``auto``, ``host:port`` or ``ray://host:port``.

    ``auto`` is the cluster ``ray start --head`` started on this machine; ``host:port`` is the
    address that command prints (a driver joins the cluster); ``ray://host:port`` is a Ray client
    address (port 10001 by default). Nothing is contacted when attaching.

    ``shared_filesystem`` (None: decided at each submit from where the cluster's nodes are) and
    ``staging_datastore`` (None: the pipeline's default datastore when remote) say how steps reach
    a cluster without a shared filesystem; see docs/compute.md.
    """

    address: str = "auto"
    shared_filesystem: bool | None = None
    staging_datastore: str | None = None

    def validate_configuration(self) -> None:
        """Check the settings' syntax (no network access)."""
        address = self.address
        match = _RAY_ADDRESS.match(address) if isinstance(address, str) else None
        if not (address == "auto" or (match is not None and 1 <= int(match["port"]) <= 65535)):
            raise ConfigurationError(
                f"Invalid Ray address {address!r}",
                key="address",
                hint="Use 'auto' (the cluster started on this machine), the host:port that `ray start --head` "
                "prints (e.g. 127.0.0.1:6379) or a Ray client address ray://host:10001.",
            )
        if self.shared_filesystem is not None and not isinstance(self.shared_filesystem, bool):
            raise ConfigurationError(
                f"shared_filesystem must be True, False or None, not {self.shared_filesystem!r}",
                key="shared_filesystem",
            )
        if self.staging_datastore is not None and (
            not isinstance(self.staging_datastore, str) or not self.staging_datastore
        ):
            raise ConfigurationError(
                f"staging_datastore must be a datastore's name, not {self.staging_datastore!r}",
                key="staging_datastore",
            )


def ray_config(existing: ComputeTargetRecord | None, address: str) -> dict[str, Any]:
    """The settings of a Ray record at ``address`` (its ``resources`` added by the caller).

    Attaching over another kind keeps that record's settings and notes its kind; attaching over
    a Ray record keeps everything but the address.
    """
    if existing is None:
        config: dict[str, Any] = {}
    elif existing.kind == RAY_KIND:
        config = dict(existing.config)
    else:
        config = {**existing.config, ATTACHED_OVER: existing.kind}
    config[ADDRESS] = address
    return config


def as_created(record: ComputeTargetRecord) -> tuple[str, dict[str, Any]]:
    """The kind and settings ``create`` compares (and ``detach`` restores).

    A Ray record reads as the kind it was rebound from (``'Ray'`` if none); what Headwater adds
    is left out (the request follows the machine it was computed on; the address and how steps
    reach the cluster are the attachment's, not the cluster's).
    """
    from headwater.ops.ray_targets import SHARED_FILESYSTEM, STAGING_DATASTORE

    kind = record.kind
    if kind == RAY_KIND:
        kind = str(record.config.get(ATTACHED_OVER) or "Ray")
    added = (RESOURCES, ADDRESS, ATTACHED_OVER, SHARED_FILESYSTEM, STAGING_DATASTORE)
    return kind, {k: v for k, v in record.config.items() if k not in added}


def difference(old: ComputeTargetRecord, new: ComputeTargetRecord) -> str:
    """What differs between two records as ``create`` compares them (``max_nodes 4 → 8``)."""
    (old_kind, old_config), (new_kind, new_config) = as_created(old), as_created(new)
    if old_kind != new_kind:
        return f"type {old_kind} → {new_kind}"
    keys = sorted(set(old_config) | set(new_config))
    changed = [k for k in keys if old_config.get(k) != new_config.get(k)]
    return ", ".join(f"{k} {old_config.get(k)!r} → {new_config.get(k)!r}" for k in changed)
