"""Resource requests of steps, and fitting them to the nodes they may run on (no Ray import here).

A step asks for CPUs, GPUs and memory (:class:`ResourceRequest`): on a compute target with a
``vm_size``, that size's figures (``headwater.sdk.vm_sizes`` holds the Azure table); without one,
:data:`DEFAULT_REQUEST`. :func:`fit` lowers a request that is larger than a node to what the node
has, with a warning naming both, or raises with ``strict`` (``HEADWATER_STRICT_RESOURCES=1``,
:func:`strict_from_env`). For a Ray cluster, :func:`fit_to_cluster` picks the node that can give
the most of the request (:class:`ClusterNode`, read from the cluster by the Ray executor) and
:func:`capacity` says how many such requests the cluster's nodes hold at once.

The SDK's compute registry (``headwater.sdk.vm_sizes``) and ``submit`` both use these functions,
so the local pool and Ray clusters lower requests the same way, with the same words.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from headwater.errors import ConfigurationError

__all__ = [
    "DEFAULT_REQUEST",
    "STRICT_ENV",
    "ClusterNode",
    "Node",
    "ResourceRequest",
    "ResourceRequestWarning",
    "capacity",
    "describe",
    "fit",
    "fit_to_cluster",
    "strict_from_env",
]

#: The environment variable that makes a request larger than the node an error (``1``, ``true``, ``yes``).
STRICT_ENV = "HEADWATER_STRICT_RESOURCES"

_GIB = 1024**3


class ResourceRequestWarning(UserWarning):
    """A vm_size asks for more than the target's biggest node has; the request was lowered."""


class ResourceRequest(NamedTuple):
    """What a step on a target asks for; ``warnings`` say what was lowered to fit the node."""

    cpu: int
    gpu: int
    memory_gb: float | None
    warnings: tuple[str, ...] = ()

    def to_config(self) -> dict[str, Any]:
        """The request as stored in a compute record (``config["resources"]``) and a run plan."""
        return {"cpu": self.cpu, "gpu": self.gpu, "memory_gb": self.memory_gb}

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> ResourceRequest:
        """The request :meth:`to_config` stored."""
        memory = data.get("memory_gb")
        return cls(int(data["cpu"]), int(data.get("gpu") or 0), None if memory is None else float(memory))


#: What a step asks for when its target names no vm_size.
DEFAULT_REQUEST = ResourceRequest(cpu=1, gpu=0, memory_gb=None)


@dataclass(frozen=True)
class Node:
    """The biggest node of a target; ``memory_gb`` None when it is unknown (then not compared)."""

    cpus: int
    gpus: int
    memory_gb: float | None
    description: str = "this machine"


@dataclass(frozen=True)
class ClusterNode:
    """One alive node of a Ray cluster: its id, host (IP address) and total resources."""

    node_id: str
    host: str
    cpus: float
    gpus: float
    memory_gb: float | None

    @staticmethod
    def from_resources(node_id: str, host: str, resources: Mapping[str, float]) -> ClusterNode:
        """A node from Ray's resource totals (``CPU``, ``GPU``, ``memory`` in bytes)."""
        memory = resources.get("memory")
        return ClusterNode(
            node_id,
            host,
            float(resources.get("CPU", 0)),
            float(resources.get("GPU", 0)),
            # rounded down: a request lowered to this figure must still fit the node
            None if memory is None else math.floor(float(memory) / _GIB * 10) / 10,
        )


def strict_from_env() -> bool:
    """Whether ``HEADWATER_STRICT_RESOURCES`` asks for strict requests (``1``, ``true``, ``yes``, ``on``)."""
    return os.environ.get(STRICT_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def describe(cpus: float, gpus: float, memory_gb: float | None) -> str:
    """``2 CPUs, no GPU and 7 GiB of memory`` (memory left out when None)."""
    gpu_text = f"{gpus:g} GPU" + ("s" if gpus > 1 else "") if gpus else "no GPU"
    parts = [f"{cpus:g} CPU" + ("s" if cpus != 1 else ""), gpu_text]
    if memory_gb is not None:
        parts.append(f"{memory_gb:g} GiB of memory")
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def fit(
    label: str,
    asked: ResourceRequest,
    node: Node,
    *,
    strict: bool = False,
    strict_hint: str = "",
) -> ResourceRequest:
    """``asked`` (named ``label``, e.g. ``STANDARD_NC6``) lowered to what ``node`` has.

    What fits is returned as it is. What does not is lowered, at least one CPU, and the returned
    request's warning names both (``STANDARD_NC6 asks 6 CPUs and 1 GPU; this machine has 2 CPUs
    and no GPU: the step will get 2 CPUs and no GPU``); with ``strict`` it raises
    ConfigurationError instead, whose hint starts with ``strict_hint``.
    """
    cpu = min(asked.cpu, max(1, node.cpus))
    gpu = min(asked.gpu, max(0, node.gpus))
    if asked.memory_gb is None or node.memory_gb is None:
        memory = asked.memory_gb
    else:
        memory = min(asked.memory_gb, node.memory_gb)
    if (cpu, gpu, memory) == (asked.cpu, asked.gpu, asked.memory_gb):
        return ResourceRequest(cpu, gpu, memory)
    with_memory = memory != asked.memory_gb
    asks = describe(asked.cpu, asked.gpu, asked.memory_gb if with_memory else None)
    has = describe(node.cpus, node.gpus, node.memory_gb if with_memory else None)
    if strict:
        raise ConfigurationError(
            f"{label} asks {asks}; {node.description} has {has}",
            key="vm_size",
            hint=f"{strict_hint or 'Choose a smaller vm_size'}, or unset {STRICT_ENV} to run with what "
            f"{node.description} has.",
        )
    gets = describe(cpu, gpu, memory if with_memory else None)
    warning = f"{label} asks {asks}; {node.description} has {has}: the step will get {gets}"
    return ResourceRequest(cpu, gpu, memory, (warning,))


def _gives(asked: ResourceRequest, node: ClusterNode) -> tuple[float, float, float]:
    """How much of ``asked`` ``node`` can give: GPUs first, then CPUs, then memory."""
    memory = 0.0 if asked.memory_gb is None else min(asked.memory_gb, node.memory_gb or 0.0)
    return min(asked.gpu, node.gpus), min(asked.cpu, node.cpus), memory


def fit_to_cluster(
    label: str,
    asked: ResourceRequest,
    nodes: Sequence[ClusterNode],
    *,
    strict: bool = False,
    strict_hint: Callable[[Node], str] | None = None,
) -> ResourceRequest:
    """``asked`` as a Ray cluster with ``nodes`` (the alive ones) can run it.

    The request is compared with the node that can give the most of it (GPUs first, then CPUs,
    then memory): "the Ray cluster's largest node". A request that fits it is kept; one that
    does not is lowered to that node (:func:`fit`: a warning naming both, or an error when
    ``strict``). With no node known the request is kept as it is.
    """
    if not nodes:
        return asked
    best = max(nodes, key=lambda n: _gives(asked, n))
    node = Node(
        cpus=math.floor(best.cpus),
        gpus=math.floor(best.gpus),
        memory_gb=best.memory_gb,
        description=f"the Ray cluster's largest node ({best.host})",
    )
    return fit(label, asked, node, strict=strict, strict_hint=strict_hint(node) if strict_hint else "")


def capacity(request: ResourceRequest, nodes: Sequence[ClusterNode]) -> int:
    """How many tasks asking ``request`` the ``nodes`` run at once (at least 1: Ray queues the rest)."""
    total = 0
    for node in nodes:
        fits = [node.cpus / max(1, request.cpu)]
        if request.gpu:
            fits.append(node.gpus / request.gpu)
        if request.memory_gb and node.memory_gb is not None:
            fits.append(node.memory_gb / request.memory_gb)
        total += math.floor(min(fits) + 1e-9)
    return max(1, total)
