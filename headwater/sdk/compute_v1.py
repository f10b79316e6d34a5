"""SDK v1 compute members beyond create/list/delete, attached to the classes of :mod:`headwater.sdk.compute`.

- ``get()``: the target's JSON as stored (SDK v1: the service's answer).
- ``get_active_runs(...)``: the runs on this target that are still under way, from the store
  (SDK v1's filters: run type, tags, properties, status).
- ``list_nodes()``: the Ray cluster's alive nodes for a Ray target, this host otherwise (an
  AmlCompute is a local process pool).
- ``supported_vmsizes(ws)``: Headwater's VM size table (:mod:`headwater.sdk.vm_sizes`), in SDK
  v1's shape.
- ``AmlCompute.update(...)``: the node range and idle time, stored; ``max_nodes`` is the pool's
  concurrency for the next run.
- ``deserialize(ws, dict)``: the target a :meth:`serialize` dict names, as stored in ``ws``.
- Azure administration (managed identities, quotas, usages, SSO) raises NotSupportedError.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

from headwater.errors import ComputeTargetException, ConfigurationError, NotSupportedError
from headwater.sdk import vm_sizes
from headwater.sdk.run_filters import run_matches

if TYPE_CHECKING:
    from headwater.sdk.compute import ComputeTarget
    from headwater.sdk.workspace import Workspace

__all__ = [
    "add_identity",
    "deserialize",
    "get",
    "get_active_runs",
    "get_docs_url",
    "list_local_node",
    "list_quotas",
    "list_ray_nodes",
    "list_usages",
    "remove_identity",
    "supported_vmsizes",
    "update",
    "update_quotas",
    "update_sso_settings",
]

_NO_AZURE = "A Headwater compute target is a local process pool (or a Ray cluster), not an Azure resource."


def get(self: ComputeTarget) -> dict[str, Any]:
    """The target as stored, re-read (SDK v1: the service's JSON for it)."""
    self.refresh_state()
    return self.serialize()


def get_active_runs(
    self: ComputeTarget,
    type: str | None = None,
    tags: Any = None,
    properties: Any = None,
    status: str | None = None,
) -> Iterator[Any]:
    """The runs on this target still under way (not started, queued, preparing, running, finalizing), newest first."""
    from headwater.status import ACTIVE

    workspace = self._workspace
    for record in workspace.metadata_store.list_runs():
        if record.compute_target != self.name or record.status not in ACTIVE:
            continue
        if status is not None and record.status != status:
            continue
        run = workspace.get_run(record.id)
        if run_matches(run, record, tags=tags, properties=properties, type=type):
            yield run


def list_local_node(self: ComputeTarget) -> list[dict[str, Any]]:
    """This host as SDK v1's one node, with its CPUs, GPUs and memory; ``runId`` of a run on it, if any."""
    node = vm_sizes.local_node()
    running = next(iter(get_active_runs(self)), None)
    return [
        {
            "nodeId": socket.gethostname(),
            "privateIpAddress": "127.0.0.1",
            "publicIpAddress": None,
            "port": None,
            "nodeState": "running" if running is not None else "idle",
            "runId": None if running is None else running.id,
            "cpus": node.cpus,
            "gpus": node.gpus,
            "memoryGB": node.memory_gb,
        }
    ]


def list_ray_nodes(self: Any) -> list[dict[str, Any]]:
    """The Ray cluster's alive nodes (asked of the cluster now; ConfigurationError when unreachable)."""
    from headwater.engine.executors.ray_executor import cluster_nodes  # imports ray: only when asked

    return [
        {
            "nodeId": node.node_id,
            "privateIpAddress": node.host,
            "publicIpAddress": None,
            "port": None,
            "nodeState": "idle",
            "runId": None,
            "cpus": node.cpus,
            "gpus": node.gpus,
            "memoryGB": node.memory_gb,
        }
        for node in cluster_nodes(self.address)
    ]


def supported_vmsizes(workspace: Workspace, location: str | None = None) -> list[dict[str, Any]]:
    """The VM sizes Headwater knows, in SDK v1's shape (``name``, ``vCPUs``, ``gpus``, ``memoryGB``)."""
    return [
        {"name": size.name, "vCPUs": size.cpus, "gpus": size.gpus, "memoryGB": size.memory_gb, "family": size.series}
        for size in vm_sizes.VM_SIZES.values()
    ]


def update(
    self: ComputeTarget,
    min_nodes: int | None = None,
    max_nodes: int | None = None,
    idle_seconds_before_scaledown: int | None = None,
) -> None:
    """Store a new node range / idle time (None keeps a setting); ``max_nodes`` is the next runs' concurrency."""
    from dataclasses import replace

    from headwater.sdk.compute_config import AmlComputeProvisioningConfiguration

    self.refresh_state()
    record = self._record
    config = dict(record.config)
    for key, value in (
        ("min_nodes", min_nodes),
        ("max_nodes", max_nodes),
        ("idle_seconds_before_scaledown", idle_seconds_before_scaledown),
    ):
        if value is not None:
            config[key] = value
    AmlComputeProvisioningConfiguration(
        min_nodes=config.get("min_nodes") or 0,
        max_nodes=config.get("max_nodes"),
        idle_seconds_before_scaledown=config.get("idle_seconds_before_scaledown"),
    ).validate_configuration()
    updated = replace(record, config=config)
    self._workspace.metadata_store.put_compute_target(updated, overwrite=True)
    self._record = updated


def deserialize(workspace: Workspace, object_dict: Mapping[str, Any]) -> ComputeTarget:
    """The target a :meth:`serialize` dict names, as stored in ``workspace`` (ComputeTargetException if absent)."""
    from headwater.sdk.compute import ComputeTarget

    name = object_dict.get("name") if isinstance(object_dict, Mapping) else None
    if not isinstance(name, str) or not name:
        raise ConfigurationError(
            "deserialize needs the dict serialize() returned, with the target's 'name'", key="name"
        )
    found = ComputeTarget(workspace, name)
    kind = (object_dict.get("properties") or {}).get("computeType") or object_dict.get("type")
    if kind and kind != found.type and getattr(found, "attached_over", None) != kind:
        raise ComputeTargetException(
            str(kind), name, where=f"workspace {workspace.name!r}", hint=f"{name!r} is now a {found.type}."
        )
    return found


def get_docs_url(cls: type) -> str:
    """Where Headwater's compute targets are documented (SDK v1: the class's page on docs.microsoft.com)."""
    return "docs/compute.md"


def add_identity(self: ComputeTarget, identity_type: str, identity_id: list[str] | None = None) -> NoReturn:
    """Not supported: managed identities are Azure's."""
    raise NotSupportedError(
        f"AmlCompute.add_identity is not supported. {_NO_AZURE}",
        hint="Steps run as your user; give them credentials through datastores (Datastore.register_*).",
    )


def remove_identity(self: ComputeTarget, identity_id: list[str] | None = None) -> NoReturn:
    """Not supported: managed identities are Azure's."""
    raise NotSupportedError(
        f"AmlCompute.remove_identity is not supported. {_NO_AZURE}",
        hint="Steps run as your user; there is no identity to remove.",
    )


def list_quotas(workspace: Workspace, location: str | None = None) -> NoReturn:
    """Not supported: Azure quotas."""
    raise NotSupportedError(
        f"AmlCompute.list_quotas is not supported. {_NO_AZURE}",
        hint="A target's capacity is its max_nodes (ComputeTarget(ws, name).max_nodes) and this machine's CPUs.",
    )


def list_usages(workspace: Workspace, show_all: bool = False, location: str | None = None) -> NoReturn:
    """Not supported: Azure usages."""
    raise NotSupportedError(
        f"AmlCompute.list_usages is not supported. {_NO_AZURE}",
        hint="See what runs on a target with get_active_runs(), and its nodes with list_nodes().",
    )


def update_quotas(
    workspace: Workspace, vm_family: str, limit: int | None = None, location: str | None = None
) -> NoReturn:
    """Not supported: Azure quotas."""
    raise NotSupportedError(
        f"AmlCompute.update_quotas is not supported. {_NO_AZURE}",
        hint="Change a target's concurrency with AmlCompute.update(max_nodes=...).",
    )


def update_sso_settings(self: ComputeTarget, value: bool) -> NoReturn:
    """Not supported: a compute instance here is this machine, with no sign-in of its own."""
    raise NotSupportedError(
        "ComputeInstance.update_sso_settings is not supported: a Headwater compute instance is this machine, "
        "which has no Azure sign-in.",
        hint="Remove the call.",
    )
