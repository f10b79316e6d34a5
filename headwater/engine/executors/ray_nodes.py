"""A ParallelRunStep's node drivers on a Ray cluster: one Ray task per node.

``python -m headwater.engine.executors.ray_nodes <address> <count> <log_dir> -- <driver argv>``
is the launcher command that :class:`~headwater.engine.executors.ray_executor.RayExecutor` gives a
ParallelRunStep's driver (:data:`headwater.runtime.parallel_nodes.LAUNCHER_ENV`; the driver is
stdlib-only and never imports Ray). It connects to the cluster at ``address`` and starts ``count``
Ray tasks, the i-th pinned (soft node affinity) to the i-th alive node, round robin, so the node
drivers spread over the cluster's nodes. Each task runs the driver argv as a subprocess, as the
executor runs a step (:func:`~headwater.engine.executors.ray_worker.run_step`), in the launcher's
working directory and environment, named by its Ray node id
(:data:`~headwater.runtime.parallel_nodes.NAME_ENV`), with its output in
``<log_dir>/sys/node/<node id>/node_driver.txt``. The launcher waits for all of them; its exit
code is 0 when every node driver exited with 0. SIGTERM (the step being stopped) cancels the
tasks, which stop their node drivers.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import uuid
from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from headwater.engine.executors import ray_worker

__all__ = ["command", "main"]

_NAME_ENV = "HEADWATER_PARALLEL_NODE_NAME"  # headwater.runtime.parallel_nodes.NAME_ENV
_POLL_SECONDS = 0.5


def command(address: str) -> list[str]:
    """The launcher command for the cluster at ``address`` (what the driver appends its arguments to)."""
    return [sys.executable, "-m", "headwater.engine.executors.ray_nodes", address]


def _node_driver(argv: list[str], cwd: str, env: dict[str, str], log_dir: str, log_cap: int) -> dict[str, Any]:
    node = str(ray.get_runtime_context().get_node_id())
    folder = os.path.join(log_dir, "sys", "node", node)
    os.makedirs(folder, exist_ok=True)
    log = os.path.join(folder, "node_driver.txt")
    return ray_worker.run_step(node, argv, cwd, {**env, _NAME_ENV: node}, log, None, 10.0, uuid.uuid4().hex, log_cap)


def main(args: list[str]) -> int:
    address, count, log_dir = args[0], int(args[1]), args[2]
    argv = args[args.index("--") + 1 :]
    from headwater.engine.executors.log_capture import max_log_bytes

    ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
    try:
        alive = sorted(str(n["NodeID"]) for n in ray.nodes() if n.get("Alive"))
        remote = ray.remote(max_retries=0)(_node_driver)
        refs = []
        for i in range(count):
            strategy = NodeAffinitySchedulingStrategy(node_id=alive[i % len(alive)], soft=True)
            refs.append(
                remote.options(scheduling_strategy=strategy, name=f"headwater:node-driver-{i}").remote(
                    argv, os.getcwd(), dict(os.environ), log_dir, max_log_bytes()[0]
                )
            )

        def stop(_signum: int, _frame: Any) -> None:
            for ref in refs:
                ray.cancel(ref)
            raise SystemExit(143)

        signal.signal(signal.SIGTERM, stop)
        pending = list(refs)
        while pending:
            _, pending = ray.wait(pending, num_returns=len(pending), timeout=_POLL_SECONDS)
        code = 0
        for ref in refs:
            try:
                outcome = ray.get(ref)
            except ray.exceptions.RayError as exc:
                print(f"[parallel] a node driver's Ray task failed: {type(exc).__name__}", flush=True)
                code = 1
                continue
            print(f"[parallel] node driver on {outcome['node']}: exit code {outcome['returncode']}", flush=True)
            if outcome["returncode"] != 0:
                code = 1
        return code
    finally:
        ray.shutdown()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
