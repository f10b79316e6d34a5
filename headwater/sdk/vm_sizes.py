"""Azure VM sizes as CPU, GPU and memory requests (a Headwater addition; see ``docs/compute.md``).

SDK v1 code names a ``vm_size`` when it creates a cluster (``STANDARD_NC6``, ``STANDARD_D2_V2``);
Azure would start nodes of that size. Headwater turns the size into what a step asks for:
:data:`VM_SIZES` holds the documented Azure figures (vCPUs, memory in GiB, GPUs), looked up
case-insensitively by :func:`lookup`. :func:`resource_request` compares the request with the
biggest node of the target — for the local pool, :func:`local_node`: this machine — and lowers
what does not fit, with a warning naming both (``STANDARD_NC6 asks 6 CPUs and 1 GPU; this machine
has 2 CPUs and no GPU: ...``), so SDK v1 code runs unchanged. With ``strict=True`` (the compute
registry passes ``HEADWATER_STRICT_RESOURCES=1``, see :func:`strict_from_env`) a request that does
not fit is a :class:`~headwater.errors.ConfigurationError` instead, before anything starts.

Without a ``vm_size`` a step asks for :data:`DEFAULT_REQUEST`: one CPU, no GPU, no memory
reservation (what Ray gives a task by default).

``python scripts/vm_size_table.py`` prints the table of ``docs/compute.md`` from :data:`VM_SIZES`.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

from headwater.engine.executors.resources import (
    DEFAULT_REQUEST,
    STRICT_ENV,
    Node,
    ResourceRequest,
    ResourceRequestWarning,
    fit,
    strict_from_env,
)
from headwater.errors import ConfigurationError, did_you_mean

__all__ = [
    "DEFAULT_REQUEST",
    "STRICT_ENV",
    "VM_SIZES",
    "Node",
    "ResourceRequest",
    "ResourceRequestWarning",
    "VmSize",
    "local_node",
    "local_request",
    "lookup",
    "markdown_table",
    "requested",
    "resource_request",
    "strict_from_env",
]


@dataclass(frozen=True)
class VmSize:
    """One Azure VM size: its vCPUs, memory (GiB) and GPUs, as Azure documents them."""

    name: str
    cpus: int
    memory_gb: float
    gpus: int = 0
    gpu_model: str = ""
    series: str = ""


def _sizes(series: str, gpu_model: str, *rows: tuple[str, int, float, int]) -> list[VmSize]:
    return [VmSize(name, cpus, memory, gpus, gpu_model if gpus else "", series) for name, cpus, memory, gpus in rows]


_TABLE: list[VmSize] = [
    *_sizes(
        "A v2",
        "",
        ("Standard_A1_v2", 1, 2, 0),
        ("Standard_A2_v2", 2, 4, 0),
        ("Standard_A4_v2", 4, 8, 0),
        ("Standard_A8_v2", 8, 16, 0),
    ),
    *_sizes(
        "Dv2",
        "",
        ("Standard_D1_v2", 1, 3.5, 0),
        ("Standard_D2_v2", 2, 7, 0),
        ("Standard_D3_v2", 4, 14, 0),
        ("Standard_D4_v2", 8, 28, 0),
        ("Standard_D5_v2", 16, 56, 0),
        ("Standard_D11_v2", 2, 14, 0),
        ("Standard_D12_v2", 4, 28, 0),
        ("Standard_D13_v2", 8, 56, 0),
        ("Standard_D14_v2", 16, 112, 0),
    ),
    *_sizes(
        "DSv2",
        "",
        ("Standard_DS1_v2", 1, 3.5, 0),
        ("Standard_DS2_v2", 2, 7, 0),
        ("Standard_DS3_v2", 4, 14, 0),
        ("Standard_DS4_v2", 8, 28, 0),
        ("Standard_DS5_v2", 16, 56, 0),
        ("Standard_DS11_v2", 2, 14, 0),
        ("Standard_DS12_v2", 4, 28, 0),
        ("Standard_DS13_v2", 8, 56, 0),
        ("Standard_DS14_v2", 16, 112, 0),
    ),
    *_sizes(
        "Dv3",
        "",
        ("Standard_D2_v3", 2, 8, 0),
        ("Standard_D4_v3", 4, 16, 0),
        ("Standard_D8_v3", 8, 32, 0),
        ("Standard_D16_v3", 16, 64, 0),
    ),
    *_sizes(
        "Dsv3",
        "",
        ("Standard_D2s_v3", 2, 8, 0),
        ("Standard_D4s_v3", 4, 16, 0),
        ("Standard_D8s_v3", 8, 32, 0),
        ("Standard_D16s_v3", 16, 64, 0),
        ("Standard_D32s_v3", 32, 128, 0),
    ),
    *_sizes(
        "Ev3",
        "",
        ("Standard_E2_v3", 2, 16, 0),
        ("Standard_E4_v3", 4, 32, 0),
        ("Standard_E8_v3", 8, 64, 0),
        ("Standard_E16_v3", 16, 128, 0),
        ("Standard_E32_v3", 32, 256, 0),
    ),
    *_sizes("Esv3", "", ("Standard_E4s_v3", 4, 32, 0), ("Standard_E8s_v3", 8, 64, 0), ("Standard_E16s_v3", 16, 128, 0)),
    *_sizes(
        "F",
        "",
        ("Standard_F2", 2, 4, 0),
        ("Standard_F4", 4, 8, 0),
        ("Standard_F8", 8, 16, 0),
        ("Standard_F16", 16, 32, 0),
    ),
    *_sizes(
        "Fsv2",
        "",
        ("Standard_F2s_v2", 2, 4, 0),
        ("Standard_F4s_v2", 4, 8, 0),
        ("Standard_F8s_v2", 8, 16, 0),
        ("Standard_F16s_v2", 16, 32, 0),
        ("Standard_F32s_v2", 32, 64, 0),
        ("Standard_F72s_v2", 72, 144, 0),
    ),
    *_sizes(
        "NC (K80)",
        "K80",
        ("Standard_NC6", 6, 56, 1),
        ("Standard_NC12", 12, 112, 2),
        ("Standard_NC24", 24, 224, 4),
        ("Standard_NC24r", 24, 224, 4),
    ),
    *_sizes(
        "NCv2 (P100)",
        "P100",
        ("Standard_NC6s_v2", 6, 112, 1),
        ("Standard_NC12s_v2", 12, 224, 2),
        ("Standard_NC24s_v2", 24, 448, 4),
    ),
    *_sizes(
        "NCv3 (V100)",
        "V100",
        ("Standard_NC6s_v3", 6, 112, 1),
        ("Standard_NC12s_v3", 12, 224, 2),
        ("Standard_NC24s_v3", 24, 448, 4),
        ("Standard_NC24rs_v3", 24, 448, 4),
    ),
    *_sizes(
        "NCasT4_v3 (T4)",
        "T4",
        ("Standard_NC4as_T4_v3", 4, 28, 1),
        ("Standard_NC8as_T4_v3", 8, 56, 1),
        ("Standard_NC16as_T4_v3", 16, 110, 1),
        ("Standard_NC64as_T4_v3", 64, 440, 4),
    ),
    *_sizes(
        "NC A100 v4",
        "A100",
        ("Standard_NC24ads_A100_v4", 24, 220, 1),
        ("Standard_NC48ads_A100_v4", 48, 440, 2),
        ("Standard_NC96ads_A100_v4", 96, 880, 4),
    ),
    *_sizes(
        "ND (P40)", "P40", ("Standard_ND6s", 6, 112, 1), ("Standard_ND12s", 12, 224, 2), ("Standard_ND24s", 24, 448, 4)
    ),
    *_sizes("NDv2 (V100)", "V100", ("Standard_ND40rs_v2", 40, 672, 8)),
    *_sizes("ND A100 v4", "A100", ("Standard_ND96asr_v4", 96, 900, 8)),
    *_sizes(
        "NV (M60)", "M60", ("Standard_NV6", 6, 56, 1), ("Standard_NV12", 12, 112, 2), ("Standard_NV24", 24, 224, 4)
    ),
    *_sizes(
        "NVv3 (M60)",
        "M60",
        ("Standard_NV12s_v3", 12, 112, 1),
        ("Standard_NV24s_v3", 24, 224, 2),
        ("Standard_NV48s_v3", 48, 448, 4),
    ),
]

#: Every documented size by its upper-case name (``"STANDARD_NC6"``); see :func:`lookup`.
VM_SIZES: Mapping[str, VmSize] = {size.name.upper(): size for size in _TABLE}


def lookup(vm_size: str) -> VmSize:
    """The size named ``vm_size`` in any case; an unknown name raises ConfigurationError naming close sizes."""
    found = VM_SIZES.get(vm_size.strip().upper())
    if found is not None:
        return found
    close = did_you_mean(vm_size.strip().upper(), VM_SIZES).strip()
    raise ConfigurationError(
        f"Unknown vm_size {vm_size!r}",
        key="vm_size",
        hint=f"{close + ' ' if close else ''}docs/compute.md lists the sizes Headwater knows "
        "(or leave vm_size empty for 1 CPU per step).",
    )


# -- this machine ------------------------------------------------------------------------------------


def local_node() -> Node:
    """This machine: ``os.cpu_count()``, the GPUs CUDA_VISIBLE_DEVICES or nvidia-smi report, total memory."""
    return Node(cpus=os.cpu_count() or 1, gpus=_local_gpus(), memory_gb=_local_memory_gb())


def _local_gpus() -> int:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:  # set: it decides ("" or "-1" hide every GPU)
        ids = [part.strip() for part in visible.split(",") if part.strip()]
        return 0 if not ids or ids[0] == "-1" else len(ids)
    return _nvidia_smi_gpus()


@functools.cache
def _nvidia_smi_gpus() -> int:
    """GPUs ``nvidia-smi --list-gpus`` lists (0 without nvidia-smi or when it fails); asked once per process."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return 0
    try:
        done = subprocess.run([exe, "--list-gpus"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return 0
    if done.returncode != 0:
        return 0
    return sum(1 for line in done.stdout.splitlines() if line.startswith("GPU "))


def _local_memory_gb() -> float | None:
    """MemTotal of /proc/meminfo in GiB (the physical pages elsewhere); None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024**2, 1)  # kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3, 1)
    except (AttributeError, ValueError, OSError):
        return None


# -- requests ----------------------------------------------------------------------------------------


def requested(vm_size: str) -> ResourceRequest:
    """The full request of ``vm_size`` (one node of that size), before any lowering; empty: the default."""
    if not vm_size:
        return DEFAULT_REQUEST
    size = lookup(vm_size)
    return ResourceRequest(size.cpus, size.gpus, size.memory_gb)


def resource_request(
    vm_size: str,
    node_cpus: int,
    node_gpus: int,
    node_memory_gb: float | None,
    *,
    strict: bool = False,
    node: str = "this machine",
) -> ResourceRequest:
    """What a step on ``vm_size`` asks for on a target whose biggest node has the given resources.

    A request larger than the node is lowered to what the node has, and the returned warning
    names both; with ``strict`` it raises ConfigurationError instead. An empty ``vm_size`` asks
    for :data:`DEFAULT_REQUEST`; an unknown one raises (see :func:`lookup`).
    """
    if not vm_size:
        return DEFAULT_REQUEST
    size = lookup(vm_size)
    return fit(
        vm_size,
        ResourceRequest(size.cpus, size.gpus, size.memory_gb),
        Node(node_cpus, node_gpus, node_memory_gb, node),
        strict=strict,
        strict_hint=f"Choose a vm_size that fits{_fitting(node_cpus, node_gpus, node_memory_gb)}",
    )


def local_request(vm_size: str) -> ResourceRequest:
    """``vm_size``'s request on this machine (:func:`local_node`), strict when ``HEADWATER_STRICT_RESOURCES`` says so.

    An unknown size raises before this machine is inspected; the caller shows the warnings.
    """
    if not vm_size:
        return DEFAULT_REQUEST
    lookup(vm_size)
    node = local_node()
    return resource_request(
        vm_size, node.cpus, node.gpus, node.memory_gb, strict=strict_from_env(), node=node.description
    )


def _fitting(cpus: int, gpus: int, memory_gb: float | None) -> str:
    """`` (the largest that do: A, B, C)`` for the node, or ``""`` when none does."""
    fits = [s for s in _TABLE if s.cpus <= cpus and s.gpus <= gpus and (memory_gb is None or s.memory_gb <= memory_gb)]
    fits.sort(key=lambda s: (-s.gpus, -s.cpus, -s.memory_gb, s.name))
    return f" (the largest that do: {', '.join(s.name.upper() for s in fits[:3])})" if fits else ""


def markdown_table() -> str:
    """The Markdown table of :data:`VM_SIZES` that ``docs/compute.md`` shows (one row per size, by series)."""
    lines = ["| vm_size | series | CPUs | memory (GiB) | GPUs |", "| --- | --- | ---: | ---: | --- |"]
    for s in _TABLE:
        gpus = f"{s.gpus} x {s.gpu_model}" if s.gpus else "-"
        lines.append(f"| `{s.name.upper()}` | {s.series} | {s.cpus} | {s.memory_gb:g} | {gpus} |")
    return "\n".join(lines) + "\n"
