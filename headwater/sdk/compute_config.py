"""The plain records of :mod:`headwater.sdk.compute`: provisioning configurations and statuses.

SDK v1: ``AmlComputeProvisioningConfiguration``, ``ComputeInstanceProvisioningConfiguration``
(what ``provisioning_configuration(...)`` returns), ``ScaleSettings`` and ``AmlComputeStatus``
(here :class:`ComputeStatus`). What is stored with a compute target
(:meth:`ProvisioningConfiguration._config`) leaves out passwords and private keys.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from headwater.errors import ConfigurationError

__all__ = [
    "AmlComputeProvisioningConfiguration",
    "ComputeInstanceProvisioningConfiguration",
    "ComputeStatus",
    "ProvisioningConfiguration",
    "ScaleSettings",
]

_VM_PRIORITIES = ("dedicated", "lowpriority")
_PORT_ACCESS = ("Enabled", "Disabled", "NotSpecified")


@dataclass(frozen=True)
class ScaleSettings:
    """SDK v1's ``ScaleSettings``: the node range of an AmlCompute."""

    minimum_node_count: int
    maximum_node_count: int | None
    idle_seconds_before_scaledown: int | None = None

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
    location: str | None = None
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
