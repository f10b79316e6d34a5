"""Ray compute targets at submit: what each Ray step asks for, how many run at once, what is refused.

For each Ray target a pipeline names, ``submit`` reads the cluster's alive nodes once (the Ray
executor's :func:`~headwater.engine.executors.ray_executor.cluster_nodes`, imported only then)
and decides, before anything is recorded or started:

* **the request** of each step: its own (``runconfig.amlcompute.vm_size``, carried as
  ``StepSpec.resource_request``) or else the target's stored request (its ``vm_size``'s figures,
  or one CPU), fitted to the cluster's largest node — lowered with a ResourceRequestWarning naming
  both (and the step, for a step's own request), or refused with ``HEADWATER_STRICT_RESOURCES=1``;
* **how many of its steps run at once**: as many of its *smallest* request as the cluster's nodes
  hold (:func:`~headwater.engine.executors.resources.capacity`). With one request for all steps
  (the usual case) a step waiting for room is Queued in Headwater, not Running while Ray holds it
  back; with mixed requests Ray enforces each task's real request, so a larger step may wait in
  Ray's queue while Headwater shows it Running;
* **host-local data**: a cluster with nodes on more than one host cannot read a datastore that
  lives on this host's disk; such a step is refused (:func:`local_datastore_problems`);
* **shared filesystem or ship mode**: the target's ``shared_filesystem`` setting, or when it is
  None (auto) whether every alive node is on this host (:func:`all_on_this_host`). Without a shared
  filesystem its steps are *shipped* (:mod:`headwater.engine.ship`): snapshots and inputs go
  through a staging datastore — the target's ``staging_datastore``, else the pipeline's default
  datastore when it is remote — and every datastore its steps use must be remote.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headwater.engine.executors.resources import (
    DEFAULT_REQUEST,
    ClusterNode,
    Node,
    ResourceRequest,
    ResourceRequestWarning,
    capacity,
    fit_to_cluster,
    strict_from_env,
)
from headwater.errors import ConfigurationError, HeadwaterError
from headwater.graph.spec import PipelineSpec, StepSpec
from headwater.store.datastores import backend_for
from headwater.store.metadata import MetadataStore

__all__ = [
    "RESOURCES_PROPERTY",
    "RayTargets",
    "SHARED_FILESYSTEM",
    "STAGING_DATASTORE",
    "all_on_this_host",
    "is_this_host",
    "local_datastore_problems",
    "plan_ray_targets",
    "resources_property",
    "step_datastores",
]

#: The step run property that records what its Ray task asked for (JSON: cpu, gpu, memory_gb).
RESOURCES_PROPERTY = "headwater.ray.resources"

RAY_KIND = "ray"
#: A Ray target's settings for clusters without a shared filesystem (``RayCompute.attach_configuration``).
SHARED_FILESYSTEM = "shared_filesystem"
STAGING_DATASTORE = "staging_datastore"

NodesOf = Callable[[str], list[ClusterNode]]


@dataclass(frozen=True)
class RayTargets:
    """What submit decided for the Ray targets of one pipeline."""

    addresses: dict[str, str] = field(default_factory=dict)  # target -> cluster address
    concurrency: dict[str, int] = field(default_factory=dict)  # target -> its steps at once
    requests: dict[str, ResourceRequest] = field(default_factory=dict)  # target -> its steps' default request
    step_requests: dict[str, ResourceRequest] = field(default_factory=dict)  # node id -> the step's own request
    ship: dict[str, str] = field(default_factory=dict)  # target without a shared filesystem -> staging datastore

    def resources(self, step: StepSpec) -> dict[str, Any]:
        """The request of ``step``'s task: its own, else its target's (empty when it does not run on Ray)."""
        request = self.step_requests.get(step.node_id) or self.requests.get(step.compute_target or "")
        return {} if request is None else request.to_config()


def resources_property(resources: Mapping[str, Any]) -> dict[str, str]:
    """A step run's property recording what its Ray task asks for (none when it asks for nothing)."""
    return {RESOURCES_PROPERTY: json.dumps(dict(resources), sort_keys=True)} if resources else {}


def _cluster_nodes(address: str) -> list[ClusterNode]:
    from headwater.engine.executors.ray_executor import cluster_nodes

    return cluster_nodes(address)


def plan_ray_targets(
    spec: PipelineSpec,
    store: MetadataStore,
    *,
    parameters: Mapping[str, Any],
    default_datastore: str,
    workspace_folder: Path,
    nodes_of: NodesOf | None = None,
) -> RayTargets:
    """Read each Ray target's cluster and decide requests, concurrency and refusals (see the module).

    Raises ConfigurationError — before anything is recorded — when a cluster cannot be reached,
    a request does not fit with ``HEADWATER_STRICT_RESOURCES`` set, or a step would read or write
    a host-local datastore on a multi-host cluster.
    """
    nodes_of = nodes_of or _cluster_nodes
    out = RayTargets()
    names = sorted({s.compute_target for s in spec.steps if s.compute_target not in (None, "local")})
    nodes_by_target: dict[str, list[ClusterNode]] = {}
    for name in names:
        assert name is not None
        record = store.get_compute_target(name)
        if record is None or record.kind != RAY_KIND:
            continue
        address = str(record.config.get("address") or "auto")
        try:
            nodes = nodes_of(address)
        except ConfigurationError as exc:
            raise ConfigurationError(f"Compute target {name!r}: {exc.message}", hint=exc.hint) from None
        steps = [s for s in spec.steps if s.compute_target == name]
        own = [s for s in steps if s.resource_request]
        asked_of_ray: list[ResourceRequest] = []
        if len(own) < len(steps):  # some step asks for the target's request
            stored = record.config.get("resources")
            asked = DEFAULT_REQUEST if not stored else ResourceRequest.from_config(stored)
            vm_size = str(record.config.get("vm_size") or "")
            request = _fit(f"Compute target {name!r}", vm_size or f"compute target {name!r}", asked, nodes)
            out.requests[name] = request
            asked_of_ray.append(request)
        for step in own:
            assert step.resource_request is not None
            asked = ResourceRequest.from_config(step.resource_request)
            label = str(step.resource_request.get("vm_size") or f"step {step.name!r}")
            request = _fit(f"Step {step.name!r} on compute target {name!r}", label, asked, nodes)
            out.step_requests[step.node_id] = request
            asked_of_ray.append(request)
        out.addresses[name] = address
        out.concurrency[name] = max(_capacity(r, nodes) for r in asked_of_ray)  # the smallest request's
        nodes_by_target[name] = nodes
        shared = record.config.get(SHARED_FILESYSTEM)
        if shared is False or (shared is None and not all_on_this_host(nodes)):
            out.ship[name] = _staging_datastore(store, name, record.config, default_datastore, workspace_folder)
    problems: list[str] = []
    for step in spec.steps:
        if (step.compute_target or "") not in nodes_by_target:
            continue
        used = step_datastores(step, spec, parameters, default_datastore)
        local = {name: _is_local(store, name, workspace_folder) for name in used}
        target = step.compute_target or ""
        if target in out.ship:
            problems += [
                f"step {step.name!r} on Ray target {target!r} uses datastore {name!r}, which is on this host's disk "
                f"only, but the target has no shared filesystem (its steps are shipped through datastore "
                f"{out.ship[target]!r})"
                for name, is_local in sorted(local.items())
                if is_local
            ]
        else:
            problems += local_datastore_problems(step.name, target, nodes_by_target[target], local)
    if problems:
        raise ConfigurationError(
            "; ".join(problems),
            hint="A cluster with nodes on several hosts reads and writes data through a shared datastore: "
            "register an Azure Blob or S3 datastore (Datastore.register_azure_blob_container, "
            "register_s3) and use it for these inputs and outputs, or run these steps on 'local'.",
        )
    return out


def is_this_host(host: str) -> bool:
    """Whether ``host`` (an IP address) is one of this host's: loopback, or an address a socket can bind to.

    Binding to an address only works where a local interface has it; nothing is sent.
    """
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host == "localhost"
    if address.is_loopback:
        return True
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.bind((str(address), 0))
    except OSError:
        return False
    return True


def all_on_this_host(nodes: Sequence[ClusterNode], is_here: Callable[[str], bool] = is_this_host) -> bool:
    """Whether every node is on this host (``is_here`` of its IP address): such a cluster sees this
    host's files (the run folder, the snapshots, local datastores)."""
    return all(is_here(n.host) for n in nodes)


def _staging_datastore(
    store: MetadataStore, target: str, config: Mapping[str, Any], default_datastore: str, workspace_folder: Path
) -> str:
    """The remote datastore a ship-mode target's snapshots go through; ConfigurationError when there is none."""
    named = config.get(STAGING_DATASTORE)
    hint = (
        f"Attach the target with a remote staging datastore: RayCompute.attach_configuration(address=..., "
        f"staging_datastore='NAME') or `headwater compute attach-ray {target} --address ADDR --staging-datastore "
        "NAME` (an Azure Blob or S3 datastore), or make such a datastore the default "
        "(ws.set_default_datastore(...))."
    )
    why = (
        f"Compute target {target!r}: the Ray cluster has no shared filesystem with this host, so steps are shipped "
        "to it through a staging datastore"
    )
    candidate = str(named) if named else default_datastore
    if store.get_datastore(candidate) is None:
        raise ConfigurationError(f"{why}, and its staging datastore {candidate!r} is not registered", hint=hint)
    if _is_local(store, candidate, workspace_folder):
        which = "its staging datastore" if named else "it names none and the default datastore"
        raise ConfigurationError(f"{why}; {which} {candidate!r} is on this host's disk", hint=hint)
    return candidate


def _fit(where: str, label: str, asked: ResourceRequest, nodes: Sequence[ClusterNode]) -> ResourceRequest:
    """``asked`` (``label``: its vm_size) fitted to the cluster; ``where`` starts its warning or error."""
    try:
        request = fit_to_cluster(label, asked, nodes, strict=strict_from_env(), strict_hint=_strict_hint)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{where}: {exc.message}", hint=exc.hint) from None
    for text in request.warnings:
        # the caller's caller (submit) is the user's frame's neighbour
        warnings.warn(ResourceRequestWarning(f"{where[0].lower()}{where[1:]}: {text}"), stacklevel=5)
    return ResourceRequest(request.cpu, request.gpu, request.memory_gb)


def _capacity(request: ResourceRequest, nodes: Sequence[ClusterNode]) -> int:
    return capacity(request, nodes) if nodes else 1


def _strict_hint(node: Node) -> str:
    return f"Choose a vm_size that {node.description} can run (it has {node.cpus} CPUs and {node.gpus} GPUs)"


def _is_local(store: MetadataStore, name: str, workspace_folder: Path) -> bool:
    """Whether datastore ``name`` keeps its files on this host's disk (an unknown one: no)."""
    record = store.get_datastore(name)
    if record is None:
        return False
    try:
        return backend_for(record, workspace_folder).is_local
    except HeadwaterError:  # it cannot be opened here: the step fails on it with that error
        return False


def step_datastores(
    step: StepSpec, spec: PipelineSpec, parameters: Mapping[str, Any], default_datastore: str
) -> list[str]:
    """The datastores ``step`` reads (datasets, DataPaths, upstream outputs) or writes (outputs), sorted."""
    found: set[str] = {o.datastore or default_datastore for o in step.outputs}
    produced = {o.name: o.datastore or default_datastore for s in spec.steps for o in s.outputs}
    for i in step.inputs:
        source: Any = i.source
        if "parameter" in source:
            source = parameters.get(source["parameter"])
            if isinstance(source, dict) and "datastore" in source:
                source = {"datapath": source}
            elif isinstance(source, dict) and "definition" in source:
                source = {"dataset": source}
            else:
                continue
        if "output" in source and source["output"] in produced:
            found.add(produced[source["output"]])
        elif "datapath" in source:
            found.add(str(source["datapath"]["datastore"]))
        elif "dataset" in source:
            for s in source["dataset"].get("definition", {}).get("sources", []):
                if "datastore" in s:
                    found.add(str(s["datastore"]))
    return sorted(found)


def local_datastore_problems(
    step: str, target: str, nodes: Sequence[ClusterNode], datastores: Mapping[str, bool]
) -> list[str]:
    """What is wrong with running ``step`` on Ray target ``target`` (a pure decision).

    ``datastores`` maps each datastore the step uses to whether it is on this host's disk only.
    A cluster whose alive nodes are all on one host (one IP address) sees this host's files, so
    nothing is wrong; on more hosts, each host-local datastore is a problem.
    """
    hosts = sorted({n.host for n in nodes})
    if len(hosts) <= 1:
        return []
    return [
        f"step {step!r} on Ray target {target!r} uses datastore {name!r}, which is on this host's disk only, "
        f"but the cluster has nodes on {len(hosts)} hosts ({', '.join(hosts)})"
        for name, is_local in sorted(datastores.items())
        if is_local
    ]
