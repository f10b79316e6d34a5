"""A ParallelRunStep over several nodes (stdlib only; the cluster side is the executor's).

On a compute target that can start processes on other nodes (a Ray cluster), the executor puts a
launcher command in :data:`LAUNCHER_ENV` (a JSON argv; for Ray
``python -m headwater.engine.executors.ray_nodes``). With ``node_count`` > 1 the step's driver
(the *coordinator*) runs ``<launcher> <count> <log_dir> -- <driver argv>``: the launcher starts
``count`` node drivers, one per node as far as the cluster has nodes, and waits for them. Each node
driver (:data:`ROLE_ENV` = ``node``, named by :data:`NAME_ENV`) runs its own workers and pulls
mini-batches from the shared progress folder, claiming each one before it scores it
(:mod:`headwater.runtime.parallel_claims`), so each is scored exactly once. When it ends it writes
its report (``nodes/<name>.<pid>.json``, as two drivers may share a node: mini-batches failed for
good, the failures, failed items and whether it aborted). The coordinator then scores what no node
finished (a node lost mid-way), joins the results into the one output and writes the one summary
and error, as for one node. While they run, each node driver publishes its failures so far
(:func:`publish_counts`) and checks ``error_threshold`` and ``allowed_failed_count`` against the sum
over all nodes (:func:`live_totals`), so the job stops soon after the threshold is exceeded, not
only when every node is done.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from typing import Any

__all__ = [
    "LAUNCHER_ENV",
    "NAME_ENV",
    "ROLE_ENV",
    "launch",
    "live_totals",
    "publish_counts",
    "read_reports",
    "write_report",
]

#: The executor's launcher command (a JSON list), when the step's target can run node drivers.
LAUNCHER_ENV = "HEADWATER_PARALLEL_NODE_LAUNCHER"
#: ``node`` in a node driver's environment.
ROLE_ENV = "HEADWATER_PARALLEL_NODE_ROLE"
#: A node driver's node (the cluster's node id): its logs go to ``logs/sys/node/<name>/`` ...
NAME_ENV = "HEADWATER_PARALLEL_NODE_NAME"
NODES_DIR = "nodes"
#: Below :data:`NODES_DIR`: each node driver's failures so far (``<name>.json``), for the thresholds.
LIVE_DIR = "live"


def launcher() -> list[str]:
    """The launcher command, or [] when the step's target cannot start node drivers."""
    raw = os.environ.get(LAUNCHER_ENV)
    return [str(word) for word in json.loads(raw)] if raw else []


def is_node() -> bool:
    return os.environ.get(ROLE_ENV) == "node"


def launch(
    command: list[str],
    count: int,
    log_dir: str,
    driver_argv: list[str],
    progress: str,
    waiting: Callable[[], None] = lambda: None,
) -> int:
    """Run ``count`` node drivers through the launcher ``command`` and wait for them, calling
    ``waiting`` twice a second meanwhile (the coordinator's progress); the launcher's exit code."""
    env = dict(os.environ)
    env.pop(LAUNCHER_ENV, None)  # a node driver does not start nodes of its own
    env.update({ROLE_ENV: "node", "HEADWATER_PARALLEL_PROGRESS": progress})
    proc = subprocess.Popen([*command, str(count), log_dir, "--", *driver_argv], env=env)
    while True:
        try:
            return proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            waiting()


def done_count(progress: str) -> int:
    """How many mini-batches are recorded as finished in the progress folder (by every node)."""
    folder = os.path.join(progress, "done")
    return sum(1 for name in os.listdir(folder) if name.endswith(".json")) if os.path.isdir(folder) else 0


def write_report(progress: str, name: str, report: dict[str, Any]) -> None:
    folder = os.path.join(progress, NODES_DIR)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{name}.json")
    with open(path + ".tmp", "w", encoding="utf-8") as fh:
        json.dump(report, fh)
    os.replace(path + ".tmp", path)


def read_reports(progress: str) -> dict[str, dict[str, Any]]:
    """Every node driver's report, by node name (read once the node drivers ended)."""
    folder = os.path.join(progress, NODES_DIR)
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else ():
        if name.endswith(".json"):
            with open(os.path.join(folder, name), encoding="utf-8") as fh:
                out[name[:-5]] = json.load(fh)
    return out


def publish_counts(progress: str, name: str, failed: list[int], failed_items: int) -> None:
    """Node driver ``name``'s mini-batches failed for good and failed items so far (replaced atomically)."""
    folder = os.path.join(progress, NODES_DIR, LIVE_DIR)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{name}.json")
    with open(path + ".tmp", "w", encoding="utf-8") as fh:
        json.dump({"failed": failed, "failed_items": failed_items}, fh)
    os.replace(path + ".tmp", path)


def live_totals(progress: str) -> tuple[int, int]:
    """Mini-batches failed for good and failed items, summed over every node driver's published counts."""
    folder = os.path.join(progress, NODES_DIR, LIVE_DIR)
    batches: set[int] = set()
    items = 0
    for name in os.listdir(folder) if os.path.isdir(folder) else ():
        if name.endswith(".json"):
            try:
                with open(os.path.join(folder, name), encoding="utf-8") as fh:
                    counts = json.load(fh)
            except (OSError, ValueError):
                continue
            batches.update(counts["failed"])
            items += counts["failed_items"]
    return len(batches), items
